//! Background work that follows the event stream in order after each commit (push evaluation,
//! search indexing) and records how far it got.
//!
//! Woken after a commit, a follower waits a short while for more events before it runs, so a
//! lone sender's events share one write (one fsync) instead of each adding a commit of its
//! own. A reader that needs the work done up to a position (unread counts, a search) asks for
//! it and the follower runs at once.

use std::{
    future::Future,
    sync::{Arc, Weak},
    time::Duration,
};

use hearth_core::Result;
use hearth_storage::EventRecord;
use tokio::sync::{Notify, watch};

use crate::Services;

/// How long a woken follower waits for more events, unless a reader waits for it.
const COALESCE: Duration = Duration::from_millis(20);
/// How long after a failure a follower tries again.
const RETRY: Duration = Duration::from_secs(1);
/// How long a reader waits for a follower before going on without it.
const MAX_WAIT: Duration = Duration::from_secs(5);
/// Events read from the stream at once.
const BATCH: usize = 256;

/// What a follower does each time it runs: everything committed since it last ran.
pub(crate) trait Follow: Send + 'static {
    fn catch_up<'a>(&'a mut self, s: &'a Services) -> impl Future<Output = Result<()>> + Send + 'a;
}

/// The next events to follow: after `from`, up to what has committed (at most [`BATCH`]).
pub(crate) struct Batch {
    pub from: i64,
    pub events: Vec<EventRecord>,
    /// The position the batch reaches once done.
    pub up_to: i64,
}

pub(crate) struct Follower {
    name: &'static str,
    reached: watch::Sender<i64>,
    wake: Notify,
    urgent: Notify,
}

impl Follower {
    pub fn new(name: &'static str) -> Self {
        Follower { name, reached: watch::channel(0).0, wake: Notify::new(), urgent: Notify::new() }
    }

    /// The stream position the work is done up to.
    pub fn reached(&self) -> i64 {
        *self.reached.borrow()
    }

    pub fn set_reached(&self, pos: i64) {
        self.reached.send_replace(pos);
    }

    /// New events are committed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Wait (boundedly) until the work is done up to `pos`.
    pub async fn wait_for(&self, pos: i64) {
        let mut rx = self.reached.subscribe();
        if *rx.borrow() >= pos {
            return;
        }
        self.urgent.notify_one();
        if tokio::time::timeout(MAX_WAIT, rx.wait_for(|p| *p >= pos)).await.is_err() {
            tracing::warn!(pos, "{}: late; results may lag", self.name);
        }
    }

    /// The follower's task: run `work` after commits until the server stops.
    pub async fn run(
        self: Arc<Self>,
        services: Weak<Services>,
        mut work: impl Follow,
        mut stop: watch::Receiver<bool>,
    ) {
        loop {
            let Some(s) = services.upgrade() else { return };
            let failed = self.failed(work.catch_up(&s).await);
            drop(s);
            if !self.idle(&mut stop, failed).await {
                return;
            }
        }
    }

    /// The committed events past [`Follower::reached`]; `None` once there are none.
    pub async fn next_batch(&self, s: &Services) -> Result<Option<Batch>> {
        let from = self.reached();
        let target = s.ctx.storage.current_stream_pos();
        if from >= target {
            return Ok(None);
        }
        let events = s.ctx.storage.events_after(from, target, BATCH).await?;
        let up_to = match events.last() {
            Some(last) if events.len() == BATCH => last.stream_pos.unwrap_or(target),
            _ => target,
        };
        Ok(Some(Batch { from, events, up_to }))
    }

    /// Between two runs: wait for new events (or a retry after `failed`), then for the
    /// coalescing window. `false` once the server stops.
    async fn idle(&self, stop: &mut watch::Receiver<bool>, failed: bool) -> bool {
        tokio::select! {
            _ = self.wake.notified() => {}
            _ = self.urgent.notified() => return true,
            _ = stop.wait_for(|stop| *stop) => return false,
            _ = tokio::time::sleep(RETRY), if failed => return true,
        }
        tokio::select! {
            _ = self.urgent.notified() => true,
            _ = tokio::time::sleep(COALESCE) => true,
            _ = stop.wait_for(|stop| *stop) => false,
        }
    }

    /// Log a failed run; returns whether it failed.
    fn failed(&self, result: Result<()>) -> bool {
        match result {
            Ok(()) => false,
            Err(e) => {
                tracing::error!("{}: failed, retrying: {e}", self.name);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_waiting_reader_cuts_the_coalescing_window_short() {
        let f = Arc::new(Follower::new("test"));
        let (_stop_tx, mut stop) = watch::channel(false);
        f.wake();
        let idle = {
            let f = f.clone();
            tokio::spawn(async move { f.idle(&mut stop, false).await })
        };
        tokio::task::yield_now().await;
        let reader = {
            let f = f.clone();
            tokio::spawn(async move { f.wait_for(1).await })
        };
        tokio::task::yield_now().await;
        let start = tokio::time::Instant::now();
        assert!(idle.await.unwrap());
        assert!(start.elapsed() < COALESCE, "ran without waiting for the window");
        f.set_reached(1);
        reader.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_reader_it_waits_for_the_window_and_stops_on_request() {
        let f = Follower::new("test");
        let (stop_tx, mut stop) = watch::channel(false);
        f.wake();
        let start = tokio::time::Instant::now();
        assert!(f.idle(&mut stop, false).await);
        assert!(start.elapsed() >= COALESCE);
        stop_tx.send_replace(true);
        assert!(!f.idle(&mut stop, false).await);
    }
}
