//! `GET /events` (spec r0.6.1 "Syncing" and "Peeking"): what happened after a token, in
//! stream order: room events the user may see, their account data and receipts (one
//! server-wide stream, so `limit` cuts it at a position), then typing and presence (the
//! ephemeral stream, always whole). With `room_id`, only that room: a room the user is in,
//! or a world-readable one (peeking). An empty answer waits on the notifier up to `timeout`.

use std::{collections::BTreeMap, time::Duration};

use hearth_core::{Error, Result};
use hearth_storage::{EventRecord, TimelineDirection};
use http::StatusCode;
use ruma::{
    OwnedRoomId, OwnedUserId, RoomId, UserId, api::error::ErrorKind,
    events::room::member::MembershipState, presence::PresenceState,
};
use serde_json::{json, value::RawValue};
use tokio::time::Instant;

use super::{Chunk, DEFAULT_LIMIT, MAX_LIMIT, Service, v1_account_data, v1_presence, with_room_id};
use crate::{receipts::receipt_event, rooms::PduRef, stream_token::SyncToken};

pub struct EventStreamRequest<'a> {
    pub user: &'a UserId,
    pub is_guest: bool,
    /// Where the client left off; now when absent.
    pub from: Option<&'a str>,
    pub timeout: Duration,
    pub limit: Option<usize>,
    /// Only this room (peeking when the user is not in it).
    pub room_id: Option<&'a RoomId>,
}

/// What one pass found: items of the server-wide stream with their positions, and the
/// ephemeral events.
#[derive(Default)]
struct Found {
    stream: Vec<(i64, Box<RawValue>)>,
    ephemeral: Vec<Box<RawValue>>,
    /// The last position the stream items cover (less than "now" when `limit` cut them).
    end: i64,
}

impl Service {
    pub async fn event_stream(&self, req: EventStreamRequest<'_>) -> Result<Chunk> {
        let services = self.services()?;
        if let Some(room_id) = req.room_id {
            self.check_may_stream(req.user, room_id).await?;
        } else if req.is_guest {
            return Err(Error::new(
                StatusCode::FORBIDDEN,
                ErrorKind::GuestAccessForbidden,
                "Guests may only stream the events of one room",
            ));
        }
        let from = req.from.map(SyncToken::parse).transpose()?;
        let limit = req.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
        // Streaming events counts as being online (Synapse), except for guests.
        let _online = match req.is_guest {
            false => Some(services.presence.syncing(req.user, &PresenceState::Online).await?),
            true => None,
        };
        let now = self.now();
        let from = from.map(|from| clamp(from, now)).unwrap_or(now);
        let deadline = Instant::now() + req.timeout;
        loop {
            // Watch before looking, so nothing committed in between is missed.
            let rooms = self.streamed_rooms(req.user, req.room_id, from.pos).await?;
            let watch = self.ctx.notifier.watch(req.user, rooms.iter().cloned());
            let to = self.now();
            let found = self.pass(&req, &rooms, from, to, limit).await?;
            let empty = found.stream.is_empty() && found.ephemeral.is_empty();
            let left = deadline.saturating_duration_since(Instant::now());
            if !empty || left.is_zero() || self.ctx.notifier.is_shutting_down() {
                return Ok(page(found, from, to));
            }
            if !watch.wait(left).await {
                return Ok(page(found, from, to));
            }
        }
    }

    /// A room the user is in, or a world-readable one; `M_FORBIDDEN` otherwise (also for a
    /// room this server does not know, so existence does not leak).
    async fn check_may_stream(&self, user: &UserId, room_id: &RoomId) -> Result<()> {
        let membership = self.ctx.storage.membership(room_id, user).await?;
        if membership.is_some_and(|m| m.membership == MembershipState::Join) {
            return Ok(());
        }
        if !self.services()?.rooms.is_world_readable(room_id).await? {
            return Err(Error::forbidden("You are not in this room"));
        }
        Ok(())
    }

    /// The rooms whose events the user gets: the one asked for, or those they are in and
    /// those where their membership changed after `since` (an invite, a leave).
    async fn streamed_rooms(
        &self,
        user: &UserId,
        only: Option<&RoomId>,
        since: i64,
    ) -> Result<Vec<OwnedRoomId>> {
        if let Some(room_id) = only {
            return Ok(vec![room_id.to_owned()]);
        }
        let storage = &self.ctx.storage;
        let mut rooms: Vec<OwnedRoomId> = storage
            .rooms_for_user(user, &[MembershipState::Join])
            .await?
            .into_iter()
            .map(|m| m.room_id)
            .collect();
        let now = storage.current_stream_pos();
        for change in storage.membership_changes(user, since, now).await? {
            if !rooms.contains(&change.room_id) {
                rooms.push(change.room_id);
            }
        }
        Ok(rooms)
    }

    async fn pass(
        &self,
        req: &EventStreamRequest<'_>,
        rooms: &[OwnedRoomId],
        from: SyncToken,
        to: SyncToken,
        limit: usize,
    ) -> Result<Found> {
        let mut found = Found { end: to.pos, ..Found::default() };
        if from.pos < to.pos {
            self.room_events(req.user, rooms, from.pos, to.pos, limit, &mut found).await?;
            self.receipts(req.user, rooms, from.pos, &mut found).await?;
            if req.room_id.is_none() {
                self.account_data(req.user, from.pos, &mut found).await?;
            }
            found.stream.retain(|(pos, _)| *pos <= found.end);
            found.stream.sort_by_key(|(pos, _)| *pos);
            if found.stream.len() > limit {
                found.stream.truncate(limit);
                found.end = found.stream.last().map(|(pos, _)| *pos).unwrap_or(found.end);
            }
        }
        if from.eph < to.eph {
            self.typing(rooms, from.eph, &mut found);
            self.presence(req, from.eph, &mut found).await?;
        }
        Ok(found)
    }

    /// The visible events of each room in `(from, to]`; a room with more than `limit` moves
    /// `found.end` back to its last one returned, so the next page resumes there.
    async fn room_events(
        &self,
        user: &UserId,
        rooms: &[OwnedRoomId],
        from: i64,
        to: i64,
        limit: usize,
        found: &mut Found,
    ) -> Result<()> {
        let services = self.services()?;
        for room_id in rooms {
            let rows = self
                .ctx
                .storage
                .room_timeline(room_id, from, Some(to), TimelineDirection::Forward, limit)
                .await?;
            if rows.len() == limit
                && let Some(last) = rows.last().and_then(|r| r.stream_pos)
            {
                found.end = found.end.min(last);
            }
            let mut loaded: Vec<(EventRecord, PduRef)> = Vec::with_capacity(rows.len());
            for row in rows.into_iter().filter(|r| !r.rejected) {
                loaded.push(services.rooms.loaded(row).await?);
            }
            let visible = services.rooms.filter_visible(user, room_id, loaded).await?;
            let rendered = self.render(user, &visible).await?;
            for ((record, _), event) in visible.iter().zip(rendered) {
                found.stream.push((record.stream_pos.unwrap_or(to), event));
            }
        }
        Ok(())
    }

    /// One `m.receipt` event per room whose receipts changed, at its latest position.
    async fn receipts(
        &self,
        user: &UserId,
        rooms: &[OwnedRoomId],
        from: i64,
        found: &mut Found,
    ) -> Result<()> {
        let records = self.ctx.storage.room_receipts(rooms.to_vec(), from, found.end).await?;
        let mut by_room: BTreeMap<OwnedRoomId, Vec<_>> = BTreeMap::new();
        for r in records {
            by_room.entry(r.room_id.clone()).or_default().push(r);
        }
        for (room_id, records) in by_room {
            let pos = records.iter().map(|r| r.stream_pos).max().unwrap_or(found.end);
            if let Some(event) = receipt_event(&records, user) {
                found.stream.push((pos, with_room_id(&event, &room_id)?));
            }
        }
        Ok(())
    }

    async fn account_data(&self, user: &UserId, from: i64, found: &mut Found) -> Result<()> {
        let changes = self.ctx.storage.account_data_changes(user, from, found.end).await?;
        for change in changes.into_iter().filter(|c| v1_account_data(&c.data_type)) {
            let event = json!({"type": change.data_type, "content": change.content});
            let mut event = serde_json::value::to_raw_value(&event)?;
            if let Some(room_id) = &change.room_id {
                event = with_room_id(&event, room_id)?;
            }
            found.stream.push((change.pos, event));
        }
        Ok(())
    }

    /// `m.typing` of the rooms whose typing list changed after `since`.
    fn typing(&self, rooms: &[OwnedRoomId], since: u64, found: &mut Found) {
        let Some(services) = self.services.upgrade() else { return };
        for room_id in rooms {
            let Some(typing) = services.typing.room(room_id).filter(|t| t.changed_at > since)
            else {
                continue;
            };
            let event = json!({"type": "m.typing", "room_id": room_id,
                               "content": {"user_ids": typing.user_ids}});
            found.ephemeral.extend(serde_json::value::to_raw_value(&event).ok());
        }
    }

    /// Presence changed after `since`: of those sharing a room with the user, or of the
    /// members of the room streamed.
    async fn presence(
        &self,
        req: &EventStreamRequest<'_>,
        since: u64,
        found: &mut Found,
    ) -> Result<()> {
        let presence = &self.services()?.presence;
        let events = match req.room_id {
            Some(room_id) => {
                let members = self.ctx.storage.room_members(room_id, &[MembershipState::Join]);
                let members: Vec<OwnedUserId> =
                    members.await?.into_iter().map(|m| m.user_id).collect();
                presence.changed_events(&members, since).await?
            }
            None => presence.sync_events(req.user, Some(since), &[]).await?,
        };
        for event in events {
            found.ephemeral.push(v1_presence(event.json())?);
        }
        Ok(())
    }
}

/// A token from the future (another database, a clock gone back) counts as now.
fn clamp(token: SyncToken, now: SyncToken) -> SyncToken {
    let pos = token.pos.min(now.pos);
    SyncToken { pos, eph: token.eph.min(now.eph), to_device: pos }
}

fn page(found: Found, from: SyncToken, to: SyncToken) -> Chunk {
    let end = SyncToken { pos: found.end, eph: to.eph, to_device: found.end };
    let mut chunk: Vec<Box<RawValue>> = found.stream.into_iter().map(|(_, e)| e).collect();
    chunk.extend(found.ephemeral);
    Chunk { chunk, start: from.to_string(), end: end.to_string() }
}
