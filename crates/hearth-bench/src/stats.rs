//! Latency percentiles and error counts.

use std::{collections::BTreeMap, time::Duration};

use crate::client::ReqError;

/// The nearest-rank percentile `p` (0 < p <= 100) of `sorted` (ascending), in milliseconds.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    Some(ms(sorted[index]))
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// p50, p99 and max of a set of latencies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Summary {
    pub fn of(mut samples: Vec<Duration>) -> Option<Summary> {
        samples.sort_unstable();
        Some(Summary {
            count: samples.len(),
            p50_ms: percentile_ms(&samples, 50.0)?,
            p99_ms: percentile_ms(&samples, 99.0)?,
            max_ms: percentile_ms(&samples, 100.0)?,
        })
    }
}

/// Failed requests counted by kind (`"404 M_UNRECOGNIZED"`, `"transport: timed out"`, ...).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Errors(pub BTreeMap<String, u64>);

impl Errors {
    pub fn add(&mut self, e: &ReqError) {
        self.add_kind(e.kind());
    }

    pub fn add_kind(&mut self, kind: String) {
        *self.0.entry(kind).or_default() += 1;
    }

    pub fn merge(&mut self, other: Errors) {
        for (kind, n) in other.0 {
            *self.0.entry(kind).or_default() += n;
        }
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile_ms(&samples, 50.0), Some(50.0));
        assert_eq!(percentile_ms(&samples, 99.0), Some(99.0));
        assert_eq!(percentile_ms(&samples, 100.0), Some(100.0));
        assert_eq!(percentile_ms(&samples, 0.1), Some(1.0));
    }

    #[test]
    fn small_sets() {
        assert_eq!(percentile_ms(&[], 50.0), None);
        assert_eq!(percentile_ms(&millis(&[7]), 99.0), Some(7.0));
        // Two samples: p50 is the lower, p99 the higher.
        assert_eq!(percentile_ms(&millis(&[1, 9]), 50.0), Some(1.0));
        assert_eq!(percentile_ms(&millis(&[1, 9]), 99.0), Some(9.0));
    }

    #[test]
    fn summary_sorts_its_input() {
        let s = Summary::of(millis(&[30, 10, 20, 40])).unwrap();
        assert_eq!((s.count, s.p50_ms, s.p99_ms, s.max_ms), (4, 20.0, 40.0, 40.0));
        assert_eq!(Summary::of(Vec::new()), None);
    }

    #[test]
    fn errors_are_counted_by_kind() {
        let mut errors = Errors::default();
        let e =
            ReqError::Status { status: 404, errcode: "M_UNRECOGNIZED".into(), message: "".into() };
        errors.add(&e);
        errors.add(&e);
        errors.add(&ReqError::Transport("timed out".into()));
        assert_eq!(errors.0["404 M_UNRECOGNIZED"], 2);
        assert_eq!(errors.total(), 3);
    }
}
