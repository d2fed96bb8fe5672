//! `hearth-bench wait`: wait for a just-started server to answer `/_matrix/client/versions`
//! and report the startup time, counted from when the caller started the process.

use std::{
    path::PathBuf,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use crate::{
    client::Client,
    result::{ServerResults, Status, WorkloadResult},
};

pub struct WaitArgs {
    pub url: String,
    /// When the server process was started, in nanoseconds since the Unix epoch
    /// (`date +%s%N` just before starting it).
    pub started_at_ns: u128,
    pub pid: Option<u32>,
    pub timeout: Duration,
    /// Where to write the startup time as a results file, under `name`.
    pub out: Option<(PathBuf, String)>,
}

/// How often the server is asked while it starts.
const POLL: Duration = Duration::from_millis(1);

pub async fn wait(args: WaitArgs) -> Result<(), String> {
    let client = Client::new(&args.url);
    loop {
        if client.versions().await.is_ok() {
            break;
        }
        let elapsed_ms = since_ms(args.started_at_ns);
        if let Some(pid) = args.pid
            && !alive(pid)
        {
            return Err(format!("the server (pid {pid}) exited after {elapsed_ms:.0} ms"));
        }
        if elapsed_ms > args.timeout.as_secs_f64() * 1000.0 {
            return Err(format!("{} did not answer within {:?}", args.url, args.timeout));
        }
        tokio::time::sleep(POLL).await;
    }
    let startup_ms = since_ms(args.started_at_ns);
    println!("{} answered /versions {startup_ms:.1} ms after it was started", args.url);
    if let Some((path, name)) = args.out {
        let mut result = WorkloadResult::new(Status::Ok, startup_ms / 1000.0);
        result.metrics.insert("startup_ms".into(), startup_ms);
        let results = ServerResults {
            server: name,
            version: None,
            base_url: args.url.clone(),
            size: String::new(),
            workloads: [("startup".to_owned(), result)].into(),
        };
        results.write(&path)?;
    }
    Ok(())
}

fn since_ms(started_at_ns: u128) -> f64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
    now.saturating_sub(started_at_ns) as f64 / 1e6
}

/// Whether `pid` runs (a zombie has exited: its parent just has not reaped it yet).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, rest)| rest.trim_start().chars().next()))
        .is_some_and(|state| state != Some('Z'))
}
