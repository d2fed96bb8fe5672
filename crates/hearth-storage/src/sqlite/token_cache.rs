//! Access tokens already looked up, so that an authenticated request costs no database read.
//!
//! Every write that removes or changes a token (logout, device deletion, password change,
//! deactivation, refresh, guest upgrade) clears the cache once it has committed. A lookup that
//! ran concurrently with such a write is not cached: the generation it started under is gone.
//! Entries also expire after a second: a change made by another process (the CLI revoking
//! tokens on the same database while the server runs) is seen within that.

use std::{
    collections::HashMap,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use parking_lot::Mutex;

use crate::TokenOwner;

/// Past this many tokens the cache starts over (a bound, not an eviction policy: active
/// clients fill it again with one read each).
const MAX_TOKENS: usize = 50_000;
/// How long a looked-up token is trusted without reading it again.
const TTL: Duration = Duration::from_secs(1);

#[derive(Default)]
pub(super) struct TokenCache {
    tokens: Mutex<HashMap<[u8; 32], (Instant, TokenOwner)>>,
    generation: AtomicU64,
}

impl TokenCache {
    pub fn get(&self, hash: &[u8; 32]) -> Option<TokenOwner> {
        let tokens = self.tokens.lock();
        let (at, owner) = tokens.get(hash)?;
        (at.elapsed() < TTL).then(|| owner.clone())
    }

    /// The generation to pass to [`TokenCache::insert`] with what a lookup found.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn insert(&self, generation: u64, owner: TokenOwner) {
        let mut tokens = self.tokens.lock();
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if tokens.len() >= MAX_TOKENS {
            tokens.clear();
        }
        tokens.insert(owner.token_hash, (Instant::now(), owner));
    }

    /// A write changing tokens has committed.
    pub fn invalidate(&self) {
        let mut tokens = self.tokens.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        tokens.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(byte: u8) -> TokenOwner {
        TokenOwner {
            token_hash: [byte; 32],
            user_id: "@a:x".try_into().unwrap(),
            device_id: "D".into(),
            expires_ts: None,
            is_guest: false,
            retires_refresh: false,
        }
    }

    #[test]
    fn a_lookup_from_before_an_invalidation_is_not_cached() {
        let cache = TokenCache::default();
        let before = cache.generation();
        cache.insert(before, owner(1));
        assert!(cache.get(&[1; 32]).is_some());
        let stale = cache.generation();
        cache.invalidate();
        assert!(cache.get(&[1; 32]).is_none());
        cache.insert(stale, owner(2));
        assert!(cache.get(&[2; 32]).is_none());
        cache.insert(cache.generation(), owner(2));
        assert!(cache.get(&[2; 32]).is_some());
    }
}
