//! Stream tokens: the one place that knows their format.
//!
//! `/sync` hands out `next_batch` tokens written `s<pos>_<eph>` or `s<pos>_<eph>_<td>`:
//! - `pos`, the server-wide stream position (events, account data, receipts, memberships,
//!   device lists, to-device messages all take positions in it);
//! - `eph`, the position in the in-memory ephemeral stream (typing, presence), which starts at
//!   the wall clock in milliseconds so it keeps increasing across restarts;
//! - `td`, where to-device delivery resumes when it lags behind `pos` (a sync that had more
//!   to-device messages than it could carry); omitted when equal to `pos`.
//!
//! Clients hand these back as `since`, as `/keys/changes` `from`/`to`, as `/messages` `from`/`to`
//! and as `/members` `at` (spec: "Syncing"): [`stream_position`] reads the stream position
//! out of any of them.

use std::fmt;

use hearth_core::{Error, Result};

/// A `/sync` `next_batch` / `since` token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncToken {
    pub pos: i64,
    pub eph: u64,
    pub to_device: i64,
}

impl SyncToken {
    /// Parse a token this server handed out; `M_INVALID_PARAM` for anything else.
    pub fn parse(token: &str) -> Result<SyncToken> {
        let invalid = || Error::invalid_param(format!("Invalid sync token {token:?}"));
        let rest = token.strip_prefix('s').ok_or_else(invalid)?;
        let mut parts = rest.split('_');
        let pos = parts.next().and_then(number).ok_or_else(invalid)?;
        let eph = parts.next().and_then(number).ok_or_else(invalid)?;
        let to_device = match parts.next() {
            None => pos,
            Some(td) => number(td).filter(|td| *td <= pos).ok_or_else(invalid)?,
        };
        if parts.next().is_some() {
            return Err(invalid());
        }
        Ok(SyncToken { pos, eph: eph as u64, to_device })
    }
}

impl fmt::Display for SyncToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}_{}", self.pos, self.eph)?;
        if self.to_device != self.pos {
            write!(f, "_{}", self.to_device)?;
        }
        Ok(())
    }
}

/// A non-negative decimal number without sign or padding tricks.
fn number(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The server-wide stream position in a token: a sync token, or (as `/keys/changes` has always
/// accepted) a bare position (`42`), one with a letter prefix (`t42`, `s42`), either followed by
/// `_` and more parts: the first number is the position.
pub fn stream_position(token: &str) -> Result<i64> {
    let invalid = || Error::invalid_param(format!("Invalid stream token {token:?}"));
    let first = token.split('_').next().unwrap_or_default();
    let digits = first.strip_prefix(|c: char| c.is_ascii_alphabetic()).unwrap_or(first);
    number(digits).ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_tokens_round_trip() {
        let t = SyncToken { pos: 42, eph: 1_700_000_000_000, to_device: 42 };
        assert_eq!(t.to_string(), "s42_1700000000000");
        assert_eq!(SyncToken::parse(&t.to_string()).unwrap(), t);
        let lagging = SyncToken { to_device: 40, ..t };
        assert_eq!(lagging.to_string(), "s42_1700000000000_40");
        assert_eq!(SyncToken::parse(&lagging.to_string()).unwrap(), lagging);
        for bad in ["", "s", "s1", "s1_", "s_1", "t1_2", "s1_2_3_4", "s1_2_5", "s-1_2", "sx_1"] {
            assert_eq!(SyncToken::parse(bad).unwrap_err().errcode(), "M_INVALID_PARAM", "{bad}");
        }
    }

    #[test]
    fn accepts_positions_with_and_without_prefix_and_parts() {
        assert_eq!(stream_position("42").unwrap(), 42);
        assert_eq!(stream_position("t42").unwrap(), 42);
        assert_eq!(stream_position("s42_7").unwrap(), 42);
        assert_eq!(stream_position("s42_7_1").unwrap(), 42);
        assert_eq!(stream_position("s42").unwrap(), 42);
        for bad in ["", "s", "x-1", "-1", "ss1", "1.5", "99999999999999999999"] {
            assert_eq!(stream_position(bad).unwrap_err().errcode(), "M_INVALID_PARAM", "{bad}");
        }
    }
}
