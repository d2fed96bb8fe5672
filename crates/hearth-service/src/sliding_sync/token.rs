//! The `pos` token of a sliding sync connection: `<connection position>/<sync token>`. The
//! connection position names the per-connection state the response was computed against (see
//! `connection`); the sync token is the point of the server's streams it reached, in the format
//! `/sync` uses, so `/messages` and the other streams read it the same way.

use std::fmt;

use hearth_core::{Error, Result};

use crate::stream_token::SyncToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub conn: u64,
    pub stream: SyncToken,
}

impl Pos {
    /// A `pos` this server handed out; `M_INVALID_PARAM` for anything else.
    pub fn parse(pos: &str) -> Result<Pos> {
        let invalid = || Error::invalid_param(format!("Invalid pos {pos:?}"));
        let (conn, stream) = pos.split_once('/').ok_or_else(invalid)?;
        if conn.is_empty() || !conn.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let conn = conn.parse().map_err(|_| invalid())?;
        Ok(Pos { conn, stream: SyncToken::parse(stream).map_err(|_| invalid())? })
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.conn, self.stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_and_reject_garbage() {
        let pos = Pos { conn: 17, stream: SyncToken { pos: 42, eph: 7, to_device: 42 } };
        assert_eq!(pos.to_string(), "17/s42_7");
        assert_eq!(Pos::parse("17/s42_7").unwrap(), pos);
        for bad in ["", "17", "/s42_7", "x/s42_7", "17/", "17/t42", "-1/s42_7", "1/2/s42_7"] {
            assert_eq!(Pos::parse(bad).unwrap_err().errcode(), "M_INVALID_PARAM", "{bad}");
        }
    }
}
