//! The ephemeral stream: typing and presence changes are kept in memory only, so they take
//! positions from this counter rather than from the database's stream. It starts at the wall
//! clock in milliseconds (and never falls behind it), so a token from before a restart is
//! always below every position handed out after it.

use std::sync::atomic::{AtomicU64, Ordering};

use hearth_core::utils::now_millis;

pub struct EphemeralStream {
    last: AtomicU64,
}

impl Default for EphemeralStream {
    fn default() -> Self {
        EphemeralStream { last: AtomicU64::new(now_millis()) }
    }
}

impl EphemeralStream {
    /// The latest position handed out.
    pub fn current(&self) -> u64 {
        self.last.load(Ordering::SeqCst)
    }

    /// A new position, above every earlier one.
    pub fn advance(&self) -> u64 {
        let now = now_millis();
        let prev = self
            .last
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| Some((last + 1).max(now)))
            .unwrap_or_else(|last| last);
        (prev + 1).max(now)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn positions_increase_from_the_wall_clock() {
        let stream = super::EphemeralStream::default();
        let start = stream.current();
        assert!(start >= hearth_core::utils::now_millis() - 1_000);
        let a = stream.advance();
        let b = stream.advance();
        assert!(start < a && a < b && stream.current() == b);
    }
}
