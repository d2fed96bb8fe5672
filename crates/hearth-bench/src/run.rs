//! `hearth-bench run`: every selected workload against one server, results written as JSON
//! after each workload (a crash leaves what was measured so far).

use std::{
    path::PathBuf,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use crate::{
    client::Client,
    proc::{self, RssSampler},
    result::{ServerResults, Status, WorkloadResult},
    sizes::Sizes,
    workloads::{self, Ctx, Outcome},
};

pub struct RunArgs {
    pub url: String,
    pub name: String,
    pub version: Option<String>,
    pub pid: Option<u32>,
    pub quick: bool,
    pub only: Vec<String>,
    pub out: PathBuf,
}

/// How long the server is left alone before "idle" RSS is read.
const SETTLE: Duration = Duration::from_secs(2);

pub async fn run(args: RunArgs) -> Result<(), String> {
    let client = Client::new(&args.url);
    client.versions().await.map_err(|e| format!("{} does not answer /versions: {e}", args.url))?;
    let sizes = if args.quick { Sizes::quick() } else { Sizes::full() };
    let ctx = Ctx { client, sizes, prefix: run_prefix(), pid: args.pid };
    let mut results = ServerResults {
        server: args.name.clone(),
        version: args.version.clone(),
        base_url: args.url.clone(),
        size: ctx.sizes.name.to_owned(),
        workloads: Default::default(),
    };
    let selected: Vec<&str> = workloads::ALL
        .iter()
        .copied()
        .filter(|w| args.only.is_empty() || args.only.iter().any(|o| o == w))
        .collect();
    let sampler = args.pid.map(RssSampler::start);
    let idle_kb = match args.pid {
        Some(pid) if selected.contains(&"resources") => {
            tokio::time::sleep(SETTLE).await;
            proc::rss_kb(pid)
        }
        _ => None,
    };
    let cpu_start = args.pid.and_then(proc::cpu_seconds);
    let (mut sent, mut send_cpu, mut peak_kb) = (0usize, 0.0f64, 0u64);
    for &name in selected.iter().filter(|&&w| w != "resources") {
        eprintln!("[{}] {name}: running", args.name);
        let started = Instant::now();
        let outcome = workloads::run(name, &ctx).await;
        if let Ok(o) = &outcome {
            sent += o.messages_sent;
            send_cpu += o.cpu_seconds;
        }
        let mut result = into_result(outcome, started.elapsed());
        if let (Some(sampler), Some(pid)) = (&sampler, args.pid) {
            // A workload shorter than the sampling interval may have no sample: read it now.
            let kb = sampler.take_peak_kb().max(proc::rss_kb(pid).unwrap_or(0));
            peak_kb = peak_kb.max(kb);
            if result.status != Status::Skipped {
                result.metrics.insert("peak_rss_mb".into(), mb(kb));
            }
        }
        eprintln!("[{}] {name}: {}", args.name, one_line(&result));
        results.workloads.insert(name.to_owned(), result);
        results.write(&args.out)?;
    }
    if let (Some(pid), true) = (args.pid, selected.contains(&"resources")) {
        let sampler = sampler.as_ref().expect("sampler runs with a pid");
        tokio::time::sleep(SETTLE).await;
        let mut r = WorkloadResult::new(Status::Ok, 0.0);
        let m = &mut r.metrics;
        m.extend(idle_kb.map(|kb| ("idle_rss_mb".to_owned(), mb(kb))));
        m.extend(proc::rss_kb(pid).map(|kb| ("idle_after_load_rss_mb".to_owned(), mb(kb))));
        m.insert("peak_rss_mb".into(), mb(peak_kb.max(sampler.take_peak_kb())));
        m.extend(proc::hwm_kb(pid).map(|kb| ("hwm_rss_mb".to_owned(), mb(kb))));
        if let (Some(a), Some(b)) = (cpu_start, proc::cpu_seconds(pid)) {
            m.insert("cpu_s_total".into(), b - a);
        }
        if sent > 0 {
            m.insert("cpu_s_per_1000_msgs".into(), send_cpu * 1000.0 / sent as f64);
        }
        eprintln!("[{}] resources: {}", args.name, one_line(&r));
        results.workloads.insert("resources".into(), r);
        results.write(&args.out)?;
    }
    Ok(())
}

fn into_result(outcome: Result<Outcome, crate::runner::Skip>, took: Duration) -> WorkloadResult {
    let seconds = took.as_secs_f64();
    match outcome {
        Err(skip) => {
            WorkloadResult { reason: Some(skip.0), ..WorkloadResult::new(Status::Skipped, seconds) }
        }
        Ok(out) => {
            let status = if out.errors.total() == 0 {
                Status::Ok
            } else if out.ok_ops == 0 {
                Status::Failed
            } else {
                Status::Partial
            };
            WorkloadResult {
                errors: out.errors.0,
                metrics: out.metrics,
                ..WorkloadResult::new(status, seconds)
            }
        }
    }
}

fn one_line(r: &WorkloadResult) -> String {
    let mut line = format!("{:?}", r.status).to_lowercase();
    if let Some(reason) = &r.reason {
        line += &format!(" ({reason})");
    }
    for (k, v) in &r.metrics {
        line += &format!(" {k}={v:.2}");
    }
    if !r.errors.is_empty() {
        line += &format!(" errors={:?}", r.errors);
    }
    line
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// A localpart prefix unique to this run, so a server can be benchmarked twice.
fn run_prefix() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
    format!("b{:x}_", (nanos as u64) ^ u64::from(std::process::id()) << 40)
}
