//! Delivering queued notifications to push gateways (spec: push-gateway-api). A task claims
//! due rows of `push_queue`, sends them concurrently, deletes what was delivered and retries
//! failures with exponential backoff (`push.retry_*`), giving up after
//! `push.give_up_after_secs`. Pushers whose pushkey the gateway rejects are removed. The task
//! sleeps until the next row is due or new work wakes it: no polling.

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use futures_util::future::join_all;
use hearth_core::{Result, utils::now_millis};
use hearth_storage::QueuedPush;
use tokio::sync::{Notify, watch};

use super::gateway::{Failed, Gateway};
use crate::Services;

/// Deliveries claimed (and sent concurrently) at once.
const CLAIM: usize = 32;
/// A claim outlives the request by this much; a crashed worker's claims expire after it.
const CLAIM_MARGIN_MS: i64 = 30_000;
/// Longest sleep without being woken (claims of other tasks may expire meanwhile).
const MAX_SLEEP: Duration = Duration::from_secs(60);

pub(super) async fn run(
    services: Weak<Services>,
    gateway: Gateway,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let Some(s) = services.upgrade() else { return };
        let sleep = match deliver_due(&s, &gateway).await {
            Ok(sleep) => sleep,
            Err(e) => {
                tracing::error!("push: delivery failed: {e}");
                Duration::from_secs(1)
            }
        };
        drop(s);
        if sleep.is_zero() {
            continue;
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(sleep) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
    }
}

/// Send what is due; returns how long to sleep before the next row is due.
async fn deliver_due(s: &Services, gateway: &Gateway) -> Result<Duration> {
    let config = &s.ctx.config.push;
    let now = now_millis() as i64;
    let until = now + (config.request_timeout_secs * 1000) as i64 + CLAIM_MARGIN_MS;
    let claimed = s.ctx.storage.claim_pushes(now, until, CLAIM).await?;
    if claimed.len() == CLAIM {
        join_all(claimed.into_iter().map(|push| deliver(s, gateway, push))).await;
        return Ok(Duration::ZERO);
    }
    join_all(claimed.into_iter().map(|push| deliver(s, gateway, push))).await;
    let next = s.ctx.storage.next_push_due().await?;
    let now = now_millis() as i64;
    Ok(match next {
        None => MAX_SLEEP,
        Some(due) if due <= now => Duration::ZERO,
        Some(due) => Duration::from_millis((due - now) as u64).min(MAX_SLEEP),
    })
}

/// Send one queued notification and record the outcome.
async fn deliver(s: &Services, gateway: &Gateway, push: QueuedPush) {
    if let Err(e) = try_deliver(s, gateway, &push).await {
        tracing::error!(id = push.id, "push: cannot record a delivery: {e}");
    }
}

async fn try_deliver(s: &Services, gateway: &Gateway, push: &QueuedPush) -> Result<()> {
    let storage = &s.ctx.storage;
    let Some(url) = s.push.pusher_url(&push.pusher) else {
        return storage.remove_push(push.id).await;
    };
    let notification = s.push.build_notification(push).await?;
    match gateway.notify(&url, notification).await {
        Ok(rejected) => {
            storage.remove_push(push.id).await?;
            if !rejected.is_empty() {
                // Spec: the homeserver should stop sending to rejected pushkeys.
                let pusher = &push.pusher;
                tracing::info!(user = %pusher.user_id, ?rejected, "push: gateway rejected pushkeys");
                storage.delete_pushers(&pusher.user_id, &pusher.app_id, rejected).await?;
                s.push.pushers_changed(&pusher.user_id).await?;
            }
            Ok(())
        }
        Err(Failed(reason)) => retry_later(s, push, &reason).await,
    }
}

async fn retry_later(s: &Services, push: &QueuedPush, reason: &str) -> Result<()> {
    let config = &s.ctx.config.push;
    let now = now_millis() as i64;
    let age_ms = now - push.created_ms;
    if age_ms > (config.give_up_after_secs * 1000) as i64 {
        tracing::warn!(
            id = push.id,
            "push: giving up after {} attempts: {reason}",
            push.attempts + 1
        );
        return s.ctx.storage.remove_push(push.id).await;
    }
    let backoff = config
        .retry_initial_ms
        .saturating_mul(1u64 << push.attempts.min(32))
        .min(config.retry_max_ms);
    tracing::debug!(id = push.id, backoff, "push: delivery failed, retrying: {reason}");
    s.ctx.storage.retry_push(push.id, now + backoff as i64).await
}
