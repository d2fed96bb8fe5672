//! Reading the stream position out of a token a client got from the server: `next_batch` of
//! `/sync` (and sliding sync `pos`), used again as `since`, or as `from`/`to` of
//! `/keys/changes`.
//!
//! This is the one place that knows the token format. `/sync` (issue 4) defines it: whatever
//! it produces, this function must extract the position from it. Until then it accepts a bare
//! position (`42`), one with a letter prefix (`s42`, `t42`), and either followed by `_` and
//! more parts (`s42_7_1`), the first number being the server-wide stream position.

use hearth_core::{Error, Result};

pub fn stream_position(token: &str) -> Result<i64> {
    let invalid = || Error::invalid_param(format!("Invalid stream token {token:?}"));
    let first = token.split('_').next().unwrap_or_default();
    let digits = first.strip_prefix(|c: char| c.is_ascii_alphabetic()).unwrap_or(first);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    digits.parse().map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_positions_with_and_without_prefix_and_parts() {
        assert_eq!(stream_position("42").unwrap(), 42);
        assert_eq!(stream_position("s42").unwrap(), 42);
        assert_eq!(stream_position("s42_7_1").unwrap(), 42);
        for bad in ["", "s", "x-1", "-1", "ss1", "1.5", "99999999999999999999"] {
            assert_eq!(stream_position(bad).unwrap_err().errcode(), "M_INVALID_PARAM", "{bad}");
        }
    }
}
