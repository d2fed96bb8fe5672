//! The background task that applies presence timeouts, and how a change is announced.

use std::{
    collections::HashMap,
    sync::{Arc, Weak},
    time::Duration,
};

use hearth_core::{Result, utils::now_millis};
use hearth_storage::PresenceRecord;
use parking_lot::Mutex;
use ruma::{OwnedUserId, UserId, events::room::member::MembershipState};

use super::entry::Entry;
use crate::{Ctx, ephemeral::EphemeralStream};

/// Check the timeouts several times within the shorter of them, at most every 5 seconds.
fn interval(ctx: &Ctx) -> Duration {
    let presence = &ctx.config.presence;
    let shortest = presence.idle_timeout_ms.min(presence.offline_timeout_ms);
    Duration::from_millis((shortest / 4).clamp(20, 5_000))
}

/// Runs until the server is gone (it holds only weak references).
pub(super) fn spawn(
    ctx: Weak<Ctx>,
    users: Weak<Mutex<HashMap<OwnedUserId, Entry>>>,
    stream: Arc<EphemeralStream>,
) {
    tokio::spawn(async move {
        loop {
            let Some(period) = ctx.upgrade().map(|c| interval(&c)) else { return };
            tokio::time::sleep(period).await;
            let (Some(ctx), Some(users)) = (ctx.upgrade(), users.upgrade()) else { return };
            if ctx.notifier.is_shutting_down() {
                return;
            }
            for (user, record) in tick(&ctx, &users, &stream) {
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    if let Err(e) = announce(&ctx, &user, Some(record)).await {
                        tracing::warn!("presence of {user}: {e}");
                    }
                });
            }
        }
    });
}

/// Apply the timeouts to every entry; the users whose presence changed.
fn tick(
    ctx: &Ctx,
    users: &Mutex<HashMap<OwnedUserId, Entry>>,
    stream: &EphemeralStream,
) -> Vec<(OwnedUserId, PresenceRecord)> {
    let presence = &ctx.config.presence;
    let now = now_millis();
    let mut changed = Vec::new();
    for (user, entry) in users.lock().iter_mut() {
        let before = entry.visible();
        entry.time_out(now, presence.idle_timeout_ms, presence.offline_timeout_ms);
        entry.refresh(now);
        if entry.visible() != before {
            entry.changed_at = stream.advance();
            changed.push((user.clone(), entry.record(user)));
        }
    }
    changed
}

/// Store the new state and wake the user and everyone in their rooms.
pub(super) async fn announce(
    ctx: &Ctx,
    user: &UserId,
    record: Option<PresenceRecord>,
) -> Result<()> {
    if let Some(record) = record {
        ctx.storage.set_presence(record).await?;
    }
    ctx.notifier.notify_user(user);
    for room in ctx.storage.rooms_for_user(user, &[MembershipState::Join]).await? {
        ctx.notifier.notify_room(&room.room_id);
    }
    Ok(())
}
