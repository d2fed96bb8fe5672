//! Pagination tokens for `/messages` and `/context`, and the `prev_batch` that sync hands out:
//! `t<pos>` stands between stream positions `pos` and `pos + 1`. Paginating backwards from it
//! returns events at `pos` and below; forwards, events above `pos`. A sync token (`s<pos>_...`,
//! see `stream_token`) is accepted too and stands at its stream position (spec: "Syncing":
//! `/messages` with `from=<since>` and `to=<prev_batch>` fills a gap).

use std::{fmt, str::FromStr};

use hearth_core::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PaginationToken(pub i64);

impl PaginationToken {
    /// The token just before an event at `pos` (a backward page's `end`, sync's `prev_batch`).
    pub fn before(pos: i64) -> Self {
        PaginationToken(pos - 1)
    }

    /// The token just after an event at `pos`.
    pub fn after(pos: i64) -> Self {
        PaginationToken(pos)
    }
}

impl fmt::Display for PaginationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t{}", self.0)
    }
}

impl FromStr for PaginationToken {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        if s.starts_with('s') {
            return crate::stream_token::SyncToken::parse(s).map(|t| PaginationToken(t.pos));
        }
        s.strip_prefix('t')
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n >= 0)
            .map(PaginationToken)
            .ok_or_else(|| Error::invalid_param(format!("Invalid pagination token {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let t = PaginationToken::before(10);
        assert_eq!(t.to_string(), "t9");
        assert_eq!("t9".parse::<PaginationToken>().unwrap(), t);
        assert!("x9".parse::<PaginationToken>().is_err());
        assert!("t-1".parse::<PaginationToken>().is_err());
        assert_eq!("s9_123".parse::<PaginationToken>().unwrap(), t);
        assert!("s9".parse::<PaginationToken>().is_err());
    }
}
