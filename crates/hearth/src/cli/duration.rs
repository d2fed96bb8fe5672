//! `--expires` values: a duration from now (`7d`, `12h`, `30m`, `45s`) or an RFC 3339 date.

use std::time::Duration;

use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// The moment `spec` names, in ms since the Unix epoch, given the current time `now_ms`.
pub fn parse_expiry(spec: &str, now_ms: u64) -> Result<u64, String> {
    if let Some(duration) = parse_duration(spec) {
        return Ok(now_ms + duration.as_millis() as u64);
    }
    let date = OffsetDateTime::parse(spec, &Rfc3339).map_err(|_| {
        format!("invalid expiry {spec:?}: use a duration like 7d, 12h, 30m or an RFC 3339 date")
    })?;
    let ms = date.unix_timestamp_nanos() / 1_000_000;
    let ms = u64::try_from(ms).map_err(|_| format!("expiry {spec:?} is before 1970"))?;
    if ms <= now_ms {
        return Err(format!("expiry {spec:?} is in the past"));
    }
    Ok(ms)
}

fn parse_duration(spec: &str) -> Option<Duration> {
    let unit_at = spec.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = spec.split_at(unit_at);
    let n: u64 = number.parse().ok().filter(|n| *n > 0)?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(n.checked_mul(secs)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_dates() {
        assert_eq!(parse_expiry("7d", 1000), Ok(1000 + 7 * 86_400_000));
        assert_eq!(parse_expiry("12h", 0), Ok(12 * 3_600_000));
        assert_eq!(parse_expiry("2030-01-01T00:00:00Z", 0), Ok(1_893_456_000_000));
        for bad in ["", "7", "d", "0d", "7y", "-1d", "2030-13-01T00:00:00Z", "tomorrow"] {
            assert!(parse_expiry(bad, 0).is_err(), "{bad:?}");
        }
        assert!(parse_expiry("2000-01-01T00:00:00Z", 1_893_456_000_000).is_err(), "past");
    }
}
