//! The rows of the comparison table: which metric, which way is better, which target.

/// A target of issue 8.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Hearth/Synapse at least this (throughput).
    RatioAtLeast(f64),
    /// Hearth/Synapse at most this (latency, CPU).
    RatioAtMost(f64),
    /// Hearth's own value at most this (absolute, or a ratio within Hearth's own run).
    HearthAtMost(f64),
}

impl Target {
    /// Whether Hearth meets the target; `None` when a value it needs is missing.
    pub fn met(self, hearth: Option<f64>, synapse: Option<f64>) -> Option<bool> {
        match self {
            Target::RatioAtLeast(t) => ratio(hearth, synapse).map(|r| r >= t),
            Target::RatioAtMost(t) => ratio(hearth, synapse).map(|r| r <= t),
            Target::HearthAtMost(t) => hearth.map(|h| h <= t),
        }
    }

    pub fn describe(self, unit: &str) -> String {
        match self {
            Target::RatioAtLeast(t) => format!("≥ {}×", short(t)),
            Target::RatioAtMost(t) => format!("≤ {}×", short(t)),
            Target::HearthAtMost(t) if unit == "×" => format!("Hearth ≤ {}×", short(t)),
            Target::HearthAtMost(t) => format!("Hearth ≤ {} {unit}", short(t)),
        }
    }
}

pub struct Row {
    pub workload: &'static str,
    pub metric: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub target: Option<Target>,
}

const fn row(
    workload: &'static str,
    metric: &'static str,
    label: &'static str,
    unit: &'static str,
    target: Option<Target>,
) -> Row {
    Row { workload, metric, label, unit, target }
}

const SEND: Option<Target> = Some(Target::RatioAtLeast(20.0));
const TENTH: Option<Target> = Some(Target::RatioAtMost(0.1));

pub const ROWS: &[Row] = &[
    row(
        "startup",
        "startup_ms",
        "startup to first answered /versions",
        "ms",
        Some(Target::HearthAtMost(100.0)),
    ),
    row("register", "per_sec", "registrations per second", "/s", None),
    row("register", "register_p50_ms", "registration p50", "ms", None),
    row("register", "peak_rss_mb", "RSS peak while registering", "MB", None),
    row("create_rooms", "per_sec", "rooms created per second", "/s", None),
    row("send", "room1_s1_msgs_per_sec", "1 sender, one room", "msg/s", SEND),
    row("send", "room1_s10_msgs_per_sec", "10 senders, one room", "msg/s", SEND),
    row("send", "room1_s100_msgs_per_sec", "100 senders, one room", "msg/s", SEND),
    row("send", "rooms100_s1_msgs_per_sec", "1 sender, 100 rooms", "msg/s", SEND),
    row("send", "rooms100_s10_msgs_per_sec", "10 senders, 100 rooms", "msg/s", SEND),
    row("send", "rooms100_s100_msgs_per_sec", "100 senders, 100 rooms", "msg/s", SEND),
    row("send", "room1_s1_p50_ms", "1 sender, one room: p50", "ms", None),
    row("send", "room1_s1_p99_ms", "1 sender, one room: p99", "ms", None),
    row("send", "room1_s100_p50_ms", "100 senders, one room: p50", "ms", None),
    row("send", "room1_s100_p99_ms", "100 senders, one room: p99", "ms", None),
    row("send", "rooms100_s100_p50_ms", "100 senders, 100 rooms: p50", "ms", None),
    row("send", "rooms100_s100_p99_ms", "100 senders, 100 rooms: p99", "ms", None),
    row("fanout", "delivery_p50_ms", "send → receivers' sync: p50", "ms", None),
    row("fanout", "delivery_p99_ms", "send → receivers' sync: p99", "ms", TENTH),
    row("fanout", "delivery_max_ms", "send → receivers' sync: max", "ms", None),
    row("initial_sync", "full_p50_ms", "initial sync", "ms", TENTH),
    row("initial_sync", "lazy_p50_ms", "initial sync, lazy-loading members", "ms", TENTH),
    row("initial_sync", "incremental_p50_ms", "incremental sync after one message", "ms", None),
    row("messages", "room_events", "events in the room", "", None),
    row("messages", "events_per_sec", "/messages events per second", "ev/s", None),
    row("messages", "page_p50_ms", "/messages page p50", "ms", None),
    row("messages", "page_p99_ms", "/messages page p99", "ms", None),
    row(
        "big_room",
        "join_total_s",
        "time to bring all members in (projected if capped)",
        "s",
        None,
    ),
    row("big_room", "members", "members in the room", "", None),
    row("big_room", "joins_per_sec", "joins per second", "/s", None),
    row("big_room", "big_send_p50_ms", "send p50 in the big room", "ms", None),
    row("big_room", "small_send_p50_ms", "send p50 in a two-member room", "ms", None),
    row(
        "big_room",
        "send_p50_ratio",
        "big/two-member send p50",
        "×",
        Some(Target::HearthAtMost(2.0)),
    ),
    row("resources", "idle_rss_mb", "RSS idle after start", "MB", Some(Target::HearthAtMost(20.0))),
    row("resources", "idle_after_load_rss_mb", "RSS idle after the workloads", "MB", None),
    row("resources", "peak_rss_mb", "RSS peak (all but register)", "MB", None),
    row(
        "resources",
        "cpu_s_per_1000_msgs",
        "CPU seconds per 1,000 messages sent",
        "s",
        Some(Target::RatioAtMost(0.05)),
    ),
];

/// Hearth/Synapse.
pub fn ratio(hearth: Option<f64>, synapse: Option<f64>) -> Option<f64> {
    match (hearth, synapse) {
        (Some(h), Some(s)) if s > 0.0 => Some(h / s),
        _ => None,
    }
}

/// A target's number without trailing zeros: `20`, `0.05`.
fn short(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A number with about three significant digits.
pub fn num(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        // Two significant digits, never an exponent: 0.123, 0.0084, 0.00035.
        let decimals = (1 - a.log10().floor() as i32).max(3) as usize;
        format!("{v:.decimals$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(Target::RatioAtLeast(20.0).met(Some(2000.0), Some(100.0)), Some(true));
        assert_eq!(Target::RatioAtLeast(20.0).met(Some(1000.0), Some(100.0)), Some(false));
        assert_eq!(Target::RatioAtMost(0.1).met(Some(5.0), Some(100.0)), Some(true));
        assert_eq!(Target::RatioAtMost(0.1).met(Some(50.0), Some(100.0)), Some(false));
        assert_eq!(Target::RatioAtMost(0.1).met(None, Some(100.0)), None);
        assert_eq!(Target::HearthAtMost(20.0).met(Some(12.0), None), Some(true));
        assert_eq!(Target::HearthAtMost(20.0).met(Some(21.0), Some(1.0)), Some(false));
    }

    #[test]
    fn ratios_need_both_values() {
        assert_eq!(ratio(Some(10.0), Some(4.0)), Some(2.5));
        assert_eq!(ratio(Some(10.0), Some(0.0)), None);
        assert_eq!(ratio(None, Some(4.0)), None);
    }

    #[test]
    fn numbers() {
        assert_eq!(num(1234.5), "1234");
        assert_eq!(num(12.345), "12.3");
        assert_eq!(num(1.2345), "1.23");
        assert_eq!(num(0.12345), "0.123");
        assert_eq!(num(0.0012345), "0.0012");
        assert_eq!(num(0.000348), "0.00035");
        assert_eq!(Target::RatioAtLeast(20.0).describe("msg/s"), "≥ 20×");
        assert_eq!(Target::RatioAtMost(0.05).describe("s"), "≤ 0.05×");
        assert_eq!(Target::HearthAtMost(100.0).describe("ms"), "Hearth ≤ 100 ms");
        assert_eq!(Target::HearthAtMost(2.0).describe("×"), "Hearth ≤ 2×");
    }
}
