//! Running timed operations concurrently, and setup steps that must all succeed.

use std::{
    future::Future,
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use futures_util::{StreamExt, TryStreamExt, future::join_all, stream};

use crate::{
    client::{ReqError, Res},
    stats::Errors,
};

/// The outcome of a timed phase: latencies of the successful operations, failures by kind,
/// and the wall time of the whole phase.
#[derive(Debug, Default)]
pub struct Timed {
    pub latencies: Vec<Duration>,
    pub errors: Errors,
    pub elapsed: Duration,
}

impl Timed {
    pub fn ok(&self) -> usize {
        self.latencies.len()
    }

    /// Successful operations per second of wall time.
    pub fn per_sec(&self) -> f64 {
        self.ok() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Run up to `total` operations on `workers` concurrent workers: worker `w` runs `op(w, i)`
/// for the next unclaimed index `i`, until all are claimed or `cap` has passed (the phase stops
/// by itself, whatever the server does).
pub async fn run_timed<F, Fut>(workers: usize, total: usize, cap: Duration, op: F) -> Timed
where
    F: Fn(usize, usize) -> Fut,
    Fut: Future<Output = Res<()>>,
{
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    let deadline = start + cap;
    let per_worker = join_all((0..workers).map(|w| {
        let (next, op) = (&next, &op);
        async move {
            let mut done = Timed::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total || Instant::now() >= deadline {
                    return done;
                }
                let t = Instant::now();
                match op(w, i).await {
                    Ok(()) => done.latencies.push(t.elapsed()),
                    Err(e) => done.errors.add(&e),
                }
            }
        }
    }))
    .await;
    let mut all = Timed { elapsed: start.elapsed(), ..Timed::default() };
    for part in per_worker {
        all.latencies.extend(part.latencies);
        all.errors.merge(part.errors);
    }
    // Operations the cap left out are reported too: the rate is honest, the count short.
    let claimed = all.latencies.len() + all.errors.total() as usize;
    if claimed < total {
        let kind = format!("not attempted: the {cap:?} time cap was reached");
        *all.errors.0.entry(kind).or_default() += (total - claimed) as u64;
    }
    all
}

/// Why a workload could not run: a setup step failed, most often because the server does not
/// support an endpoint yet.
#[derive(Debug, Clone)]
pub struct Skip(pub String);

impl Skip {
    pub fn setup(step: &str, e: ReqError) -> Skip {
        Skip(format!("setup: {step}: {e}"))
    }
}

/// Run `op` over `items` with `concurrency` in flight, in order; the first failure stops it.
pub async fn setup_all<I, T, F, Fut>(
    step: &str,
    concurrency: usize,
    items: I,
    op: F,
) -> Result<Vec<T>, Skip>
where
    I: IntoIterator,
    F: Fn(I::Item) -> Fut,
    Fut: Future<Output = Res<T>>,
{
    stream::iter(items)
        .map(op)
        .buffered(concurrency)
        .try_collect()
        .await
        .map_err(|e| Skip::setup(step, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_every_index_once_and_counts_errors() {
        let seen = std::sync::Mutex::new(Vec::new());
        let timed = run_timed(4, 10, Duration::from_secs(60), |_, i| {
            seen.lock().unwrap().push(i);
            async move { if i % 5 == 0 { Err(ReqError::Transport("boom".into())) } else { Ok(()) } }
        })
        .await;
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        assert_eq!(timed.ok(), 8);
        assert_eq!(timed.errors.0["transport: boom"], 2);
    }

    #[tokio::test]
    async fn the_cap_stops_the_phase_and_is_reported() {
        let timed = run_timed(2, 1000, Duration::from_millis(30), |_, _| async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            Ok(())
        })
        .await;
        assert!(timed.ok() > 0 && timed.ok() < 1000, "{}", timed.ok());
        let skipped = timed.errors.0["not attempted: the 30ms time cap was reached"];
        assert_eq!(timed.ok() + skipped as usize, 1000);
    }

    #[tokio::test]
    async fn setup_stops_at_the_first_failure() {
        let skip = setup_all("join", 2, 0..5, |i| async move {
            if i == 3 { Err(ReqError::Unexpected("no".into())) } else { Ok(i) }
        })
        .await
        .unwrap_err();
        assert_eq!(skip.0, "setup: join: unexpected answer: no");
        let ok = setup_all("join", 2, 0..5, |i| async move { Ok(i * 2) }).await.unwrap();
        assert_eq!(ok, vec![0, 2, 4, 6, 8]);
    }
}
