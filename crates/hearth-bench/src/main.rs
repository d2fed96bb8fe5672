//! `hearth-bench`: benchmarks a Matrix homeserver over the standard Client-Server API, so the
//! same workloads run unchanged against Hearth and Synapse, and compares two servers' results.
//! `bench/compare.sh` drives a whole side-by-side run.

mod client;
mod compare;
mod proc;
mod result;
mod run;
mod runner;
mod sizes;
mod stats;
mod wait;
mod workloads;

use std::{path::PathBuf, process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "hearth-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the workloads against a server and write its results as JSON.
    Run {
        /// The server's client API base URL, e.g. http://127.0.0.1:28008.
        #[arg(long)]
        url: String,
        /// The server's name in the results, e.g. `hearth`.
        #[arg(long)]
        name: String,
        /// The server's version, recorded in the results.
        #[arg(long)]
        server_version: Option<String>,
        /// The server's process ID, to sample its memory and CPU time from /proc.
        #[arg(long)]
        pid: Option<u32>,
        /// Smaller sizes, for development (both servers in under 3 minutes).
        #[arg(long)]
        quick: bool,
        /// Only these workloads (comma-separated); all by default.
        #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(workloads::ALL))]
        only: Vec<String>,
        /// Where to write the results.
        #[arg(long)]
        out: PathBuf,
    },
    /// Wait for a just-started server to answer /versions; report the startup time.
    Wait {
        #[arg(long)]
        url: String,
        /// When the server was started, in nanoseconds since the epoch (`date +%s%N`).
        #[arg(long)]
        started_at_ns: u128,
        /// The server's process ID: stop waiting if it exits.
        #[arg(long)]
        pid: Option<u32>,
        #[arg(long, default_value_t = 180)]
        timeout_secs: u64,
        /// Write the startup time as a results file (with `--name`).
        #[arg(long, requires = "name")]
        out: Option<PathBuf>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Print the Hearth/Synapse table and write it into a Markdown document.
    Compare {
        /// Hearth's results files (several: later workloads replace earlier ones).
        #[arg(long, required = true)]
        hearth: Vec<PathBuf>,
        /// Synapse's results files.
        #[arg(long, required = true)]
        synapse: Vec<PathBuf>,
        /// The document to write, e.g. BENCHMARKS.md.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Markdown appended to the document (how the servers were set up).
        #[arg(long)]
        notes: Option<PathBuf>,
        #[arg(long, default_value = "unknown")]
        commit: String,
        #[arg(long, default_value = "unknown")]
        date: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = match cli.command {
        Command::Run { url, name, server_version, pid, quick, only, out } => {
            runtime.block_on(run::run(run::RunArgs {
                url,
                name,
                version: server_version,
                pid,
                quick,
                only,
                out,
            }))
        }
        Command::Wait { url, started_at_ns, pid, timeout_secs, out, name } => {
            runtime.block_on(wait::wait(wait::WaitArgs {
                url,
                started_at_ns,
                pid,
                timeout: Duration::from_secs(timeout_secs),
                out: out.zip(name),
            }))
        }
        Command::Compare { hearth, synapse, out, notes, commit, date } => {
            compare::compare(compare::CompareArgs { hearth, synapse, out, commit, date, notes })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hearth-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
