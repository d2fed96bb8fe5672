//! `hearth-bench compare`: the Hearth/Synapse table from two servers' results, printed and
//! written into `BENCHMARKS.md` with the date, the machine, the commit and the versions.

mod machine;
mod rows;

use std::{fmt::Write, fs, path::PathBuf};

use rows::{ROWS, Row, num, ratio};

use crate::result::{ServerResults, Status};

pub struct CompareArgs {
    pub hearth: Vec<PathBuf>,
    pub synapse: Vec<PathBuf>,
    pub out: Option<PathBuf>,
    pub commit: String,
    pub date: String,
    /// Markdown appended to the document: how the servers were set up.
    pub notes: Option<PathBuf>,
}

pub fn compare(args: CompareArgs) -> Result<(), String> {
    let hearth = ServerResults::read_merged(&args.hearth)?;
    let synapse = ServerResults::read_merged(&args.synapse)?;
    let table = table(&hearth, &synapse);
    let problems = problems(&[("Hearth", &hearth), ("Synapse", &synapse)]);
    println!("{table}\n{problems}");
    if let Some(out) = &args.out {
        let notes = match &args.notes {
            Some(path) => fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
            None => String::new(),
        };
        let doc = document(&args, &hearth, &synapse, &table, &problems, &notes);
        fs::write(out, doc).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
        println!("wrote {}", out.display());
    }
    Ok(())
}

fn document(
    args: &CompareArgs,
    hearth: &ServerResults,
    synapse: &ServerResults,
    table: &str,
    problems: &str,
    notes: &str,
) -> String {
    let version = |r: &ServerResults| r.version.clone().unwrap_or_else(|| "unknown".into());
    format!(
        "# Benchmarks: Hearth and Synapse side by side\n\n\
         Measured by `bench/compare.sh{quick}` with `hearth-bench`: both servers on the same \
         machine in the same run, one after the other, each with fresh data. The machine is \
         shared and noisy: read the ratios, not the absolute numbers.\n\n\
         - Date: {date}\n- Machine: {machine}\n- Commit: {commit}\n\
         - Hearth: {hv}\n- Synapse: {sv}\n- Sizes: {size}\n\
         - Time in the workloads, setup included: Hearth {ht}, Synapse {st}\n\
         - Machine load (1-minute load average at the end of each workload): Hearth {hl}, \
         Synapse {sl}\n\n\
         Hearth/Synapse above 1 means Hearth is higher: better for rates, worse for times and \
         sizes. `*` marks a value from a workload with failed requests (listed below).\n\n\
         {table}\n{problems}\n{notes}",
        quick = if hearth.size == "quick" { " --quick" } else { "" },
        date = args.date,
        machine = machine::describe(),
        commit = args.commit,
        hv = version(hearth),
        sv = version(synapse),
        size = hearth.size,
        ht = minutes(hearth),
        st = minutes(synapse),
        hl = load(hearth),
        sl = load(synapse),
    )
}

fn minutes(r: &ServerResults) -> String {
    let seconds: f64 = r.workloads.values().map(|w| w.seconds).sum();
    format!("{:.1} min", seconds / 60.0)
}

fn load(r: &ServerResults) -> String {
    r.load_range().map_or("unknown".into(), |(lo, hi)| format!("{lo:.1}–{hi:.1}"))
}

/// The comparison as a Markdown table.
pub fn table(hearth: &ServerResults, synapse: &ServerResults) -> String {
    let mut out = String::from(
        "| workload | measure | unit | Hearth | Synapse | Hearth/Synapse | target | met |\n\
         |---|---|---|---:|---:|---:|---|---|\n",
    );
    for row in ROWS {
        let (h, s) =
            (hearth.metric(row.workload, row.metric), synapse.metric(row.workload, row.metric));
        let r = ratio(h, s).map_or("—".to_owned(), |r| format!("{}×", num(r)));
        let (target, met) = match row.target {
            None => (String::new(), String::new()),
            Some(t) => (t.describe(row.unit), met_cell(t.met(h, s))),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {r} | {target} | {met} |",
            row.workload,
            row.label,
            row.unit,
            cell(hearth, row),
            cell(synapse, row),
        );
    }
    out
}

fn met_cell(met: Option<bool>) -> String {
    match met {
        Some(true) => "yes".into(),
        Some(false) => "**no**".into(),
        None => "not measured".into(),
    }
}

/// One server's value for a row, or why there is none.
fn cell(results: &ServerResults, row: &Row) -> String {
    let Some(w) = results.workloads.get(row.workload) else { return "not run".into() };
    match (w.status, w.metrics.get(row.metric)) {
        (Status::Skipped, _) => "skipped".into(),
        (_, Some(v)) if w.errors.is_empty() => num(*v),
        (_, Some(v)) => format!("{}*", num(*v)),
        (Status::Failed, None) => "failed".into(),
        (_, None) => "—".into(),
    }
}

/// Every workload that did not fully succeed, with the reason or the errors by kind.
pub fn problems(servers: &[(&str, &ServerResults)]) -> String {
    let mut out = String::new();
    for (name, results) in servers {
        for (workload, w) in &results.workloads {
            if w.status == Status::Ok {
                continue;
            }
            let status = format!("{:?}", w.status).to_lowercase();
            let detail = match &w.reason {
                Some(reason) => reason.clone(),
                None => {
                    w.errors.iter().map(|(k, n)| format!("{n}× {k}")).collect::<Vec<_>>().join(", ")
                }
            };
            let _ = writeln!(out, "- {name}, {workload}: {status}: {detail}");
        }
    }
    if out.is_empty() {
        "Every workload ran without a failed request on both servers.\n".into()
    } else {
        format!("Workloads that did not fully succeed:\n\n{out}")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::result::WorkloadResult;

    /// A workload: name, status, metrics, errors.
    type Spec<'a> = (&'a str, Status, &'a [(&'a str, f64)], &'a [(&'a str, u64)]);

    fn results(workloads: &[Spec]) -> ServerResults {
        let workloads = workloads
            .iter()
            .map(|(name, status, metrics, errors)| {
                let w = WorkloadResult {
                    reason: (*status == Status::Skipped).then(|| "setup: createRoom: 404".into()),
                    errors: errors.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
                    metrics: metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                    ..WorkloadResult::new(*status, 1.0)
                };
                (name.to_string(), w)
            })
            .collect::<BTreeMap<_, _>>();
        ServerResults {
            server: "x".into(),
            version: None,
            base_url: "http://127.0.0.1:1".into(),
            size: "quick".into(),
            workloads,
        }
    }

    fn line<'a>(table: &'a str, label: &str) -> &'a str {
        table.lines().find(|l| l.contains(&format!("| {label} |"))).expect(label)
    }

    #[test]
    fn rows_show_values_ratios_and_targets() {
        let hearth = results(&[
            ("send", Status::Ok, &[("room1_s1_msgs_per_sec", 3000.0)], &[]),
            ("startup", Status::Ok, &[("startup_ms", 40.0)], &[]),
            ("fanout", Status::Partial, &[("delivery_p99_ms", 20.0)], &[("500 M_UNKNOWN", 2)]),
            ("initial_sync", Status::Skipped, &[], &[]),
        ]);
        let synapse = results(&[
            ("send", Status::Ok, &[("room1_s1_msgs_per_sec", 100.0)], &[]),
            ("fanout", Status::Ok, &[("delivery_p99_ms", 100.0)], &[]),
            ("initial_sync", Status::Ok, &[("full_p50_ms", 900.0)], &[]),
        ]);
        let table = table(&hearth, &synapse);
        assert_eq!(
            line(&table, "1 sender, one room"),
            "| send | 1 sender, one room | msg/s | 3000 | 100 | 30.0× | ≥ 20× | yes |"
        );
        assert_eq!(
            line(&table, "send → receivers' sync: p99"),
            "| fanout | send → receivers' sync: p99 | ms | 20.0* | 100 | 0.200× | ≤ 0.1× | **no** |"
        );
        assert_eq!(
            line(&table, "initial sync"),
            "| initial_sync | initial sync | ms | skipped | 900 | — | ≤ 0.1× | not measured |"
        );
        assert!(
            line(&table, "startup to first answered /versions")
                .ends_with("| Hearth ≤ 100 ms | yes |")
        );
        assert!(line(&table, "rooms created per second").contains("| not run | not run | — |"));
    }

    #[test]
    fn problems_name_reasons_and_errors() {
        let hearth = results(&[
            ("fanout", Status::Partial, &[], &[("500 M_UNKNOWN", 2)]),
            ("initial_sync", Status::Skipped, &[], &[]),
            ("send", Status::Ok, &[], &[]),
        ]);
        let text = problems(&[("Hearth", &hearth)]);
        assert!(text.contains("- Hearth, fanout: partial: 2× 500 M_UNKNOWN\n"), "{text}");
        assert!(
            text.contains("- Hearth, initial_sync: skipped: setup: createRoom: 404\n"),
            "{text}"
        );
        assert!(!text.contains("send"), "{text}");
        assert!(problems(&[]).starts_with("Every workload"));
    }
}
