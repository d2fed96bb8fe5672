//! Token-bucket rate limits keyed by anything (an IP, a user ID), answering
//! `M_LIMIT_EXCEEDED` with `retry_after_ms` (spec: client-server-api "Rate limiting").

use std::{collections::HashMap, hash::Hash, time::Duration};

use hearth_core::{Error, Result, config::Rate};
use parking_lot::Mutex;
use tokio::time::Instant;

/// Buckets untouched for this long are forgotten, so the map stays small.
const IDLE_EVICTION: Duration = Duration::from_secs(600);

pub struct RateLimiter<K> {
    rate: Rate,
    enabled: bool,
    buckets: Mutex<HashMap<K, Bucket>>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub fn new(rate: Rate, enabled: bool) -> Self {
        RateLimiter { rate, enabled, buckets: Mutex::new(HashMap::new()) }
    }

    /// Take one token for `key`, or fail with `M_LIMIT_EXCEEDED` saying when to retry.
    pub fn check(&self, key: &K) -> Result<()> {
        self.acquire(key, true)
    }

    /// Fail like [`check`](Self::check) would, without taking a token: for the steps before an
    /// action that is only counted once it is done (a registration after its UIA rounds).
    pub fn peek(&self, key: &K) -> Result<()> {
        self.acquire(key, false)
    }

    fn acquire(&self, key: &K, take: bool) -> Result<()> {
        if !self.enabled {
            return Ok(());
        }
        let now = Instant::now();
        let burst = f64::from(self.rate.burst);
        let mut buckets = self.buckets.lock();
        if buckets.len() > 10_000 {
            buckets.retain(|_, b| now.duration_since(b.updated) < IDLE_EVICTION);
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket { tokens: burst, updated: now });
        let refill = now.duration_since(bucket.updated).as_secs_f64() * self.rate.per_second;
        bucket.tokens = (bucket.tokens + refill).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            if take {
                bucket.tokens -= 1.0;
            }
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.rate.per_second;
            Err(Error::limit_exceeded(Duration::from_secs_f64(wait)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bursts_then_refills() {
        let limiter = RateLimiter::new(Rate { per_second: 1.0, burst: 2 }, true);
        assert!(limiter.check(&"a").is_ok());
        assert!(limiter.peek(&"a").is_ok(), "peeking takes nothing");
        assert!(limiter.check(&"a").is_ok());
        assert!(limiter.peek(&"a").is_err());
        let err = limiter.check(&"a").unwrap_err();
        assert_eq!(err.errcode(), "M_LIMIT_EXCEEDED");
        assert!(limiter.check(&"b").is_ok(), "keys are independent");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(limiter.check(&"a").is_ok());
    }

    #[test]
    fn disabled_never_limits() {
        let limiter = RateLimiter::new(Rate { per_second: 0.001, burst: 1 }, false);
        for _ in 0..10 {
            assert!(limiter.check(&1).is_ok());
        }
    }
}
