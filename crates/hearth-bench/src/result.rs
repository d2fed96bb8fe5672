//! The machine-readable results of one server: what `run` writes and `compare` reads.

use std::{collections::BTreeMap, fs, path::Path};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerResults {
    /// A short name for the table, e.g. `hearth` or `synapse`.
    pub server: String,
    pub version: Option<String>,
    pub base_url: String,
    /// `quick` or `full`.
    pub size: String,
    pub workloads: BTreeMap<String, WorkloadResult>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every timed request succeeded.
    Ok,
    /// Some timed requests failed: see `errors`.
    Partial,
    /// Timed requests ran but none gave a result.
    Failed,
    /// Setup failed (typically: the server does not support an endpoint yet); see `reason`.
    Skipped,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkloadResult {
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Failed timed requests by kind.
    #[serde(default)]
    pub errors: BTreeMap<String, u64>,
    /// Named measurements: `*_per_sec`, `*_ms`, `*_mb`, ...
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// Wall time of the workload, setup included.
    #[serde(default)]
    pub seconds: f64,
    /// The machine's 1-minute load average when the workload ended: how noisy it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_avg: Option<f64>,
}

impl WorkloadResult {
    /// An empty result, stamped with the current load average.
    pub fn new(status: Status, seconds: f64) -> WorkloadResult {
        WorkloadResult {
            status,
            reason: None,
            errors: Default::default(),
            metrics: Default::default(),
            seconds,
            load_avg: crate::proc::load_avg(),
        }
    }
}

impl ServerResults {
    pub fn read(path: &Path) -> Result<ServerResults, String> {
        let text =
            fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a results file: {e}", path.display()))
    }

    pub fn write(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).expect("results serialize");
        fs::write(path, text + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// Read several files of one server (one per phase of a run) into one: later files'
    /// workloads replace earlier ones of the same name.
    pub fn read_merged(paths: &[std::path::PathBuf]) -> Result<ServerResults, String> {
        let mut merged: Option<ServerResults> = None;
        for path in paths {
            let next = ServerResults::read(path)?;
            merged = Some(match merged {
                None => next,
                Some(mut acc) => {
                    acc.workloads.extend(next.workloads);
                    acc.version = next.version.or(acc.version);
                    if !next.size.is_empty() {
                        acc.size = next.size;
                    }
                    acc
                }
            });
        }
        merged.ok_or_else(|| "no results file given".to_owned())
    }

    /// The lowest and highest load average seen at the end of a workload.
    pub fn load_range(&self) -> Option<(f64, f64)> {
        let loads = self.workloads.values().filter_map(|w| w.load_avg);
        loads.fold(None, |acc, l| match acc {
            None => Some((l, l)),
            Some((lo, hi)) => Some((lo.min(l), hi.max(l))),
        })
    }

    pub fn metric(&self, workload: &str, metric: &str) -> Option<f64> {
        self.workloads.get(workload)?.metrics.get(metric).copied()
    }
}
