//! `GET /initialSync` and `GET /rooms/{roomId}/initialSync` (spec r0.6.1 "Syncing"): every
//! room the user is in (or was, with `archived`), each with its state and latest messages,
//! plus presence, account data and receipts; or one room, which may be a world-readable room
//! the user is not in. A room the user left is described as it was when they left.

use std::collections::{BTreeMap, HashSet};

use hearth_core::Result;
use hearth_storage::{MembershipRecord, ReceiptRecord};
use ruma::{
    OwnedRoomId, OwnedUserId, RoomId, UserId, api::client::filter::RoomEventFilter,
    events::room::member::MembershipState,
};
use serde_json::{json, value::RawValue};

use super::{
    Chunk, InitialSync, RoomSnapshot, Service, v1_account_data, v1_presence, with_room_id,
};
use crate::{receipts::receipt_event, stream_token::SyncToken, sync::SliceRequest};

/// Messages per room when the client gives no `limit` (Synapse's default).
const DEFAULT_MESSAGES: usize = 10;
/// At most this many messages per room.
const MAX_MESSAGES: usize = 100;

impl Service {
    /// `GET /initialSync`: joined rooms and invites, and with `archived` the rooms left.
    pub async fn initial_sync(
        &self,
        user: &UserId,
        limit: Option<usize>,
        archived: bool,
    ) -> Result<InitialSync> {
        let services = self.services()?;
        let now = self.now();
        let limit = limit.unwrap_or(DEFAULT_MESSAGES).min(MAX_MESSAGES);
        let memberships = self.ctx.storage.rooms_for_user(user, &[]).await?;
        let (global, mut room_data) = self.all_account_data(user, now.pos).await?;
        let mut rooms = Vec::new();
        let mut joined = Vec::new();
        for m in memberships.into_iter().filter(|m| !m.forgotten && m.stream_pos <= now.pos) {
            let data = room_data.remove(&m.room_id).unwrap_or_default();
            let snapshot = match m.membership {
                MembershipState::Join => {
                    joined.push(m.room_id.clone());
                    self.member_snapshot(user, &m, now, limit, data).await?
                }
                MembershipState::Leave | MembershipState::Ban if archived => {
                    self.member_snapshot(user, &m, now, limit, data).await?
                }
                MembershipState::Invite => self.invite_snapshot(user, &m).await?,
                _ => continue,
            };
            rooms.push(snapshot);
        }
        let presence = services.presence.sync_events(user, None, &[]).await?;
        let receipts = self.room_receipt_events(user, joined, now.pos).await?;
        Ok(InitialSync {
            end: now.to_string(),
            rooms,
            presence: presence.iter().map(|e| v1_presence(e.json())).collect::<Result<_>>()?,
            account_data: global,
            receipts,
        })
    }

    /// `GET /rooms/{roomId}/initialSync`: `M_FORBIDDEN` unless the user is or was in the room,
    /// or it is world-readable.
    pub async fn room_initial_sync(
        &self,
        user: &UserId,
        room_id: &RoomId,
        limit: Option<usize>,
    ) -> Result<RoomSnapshot> {
        let services = self.services()?;
        // The state the user may read says whether they may look at all.
        services.rooms.readable_state(user, room_id).await?;
        let now = self.now();
        let limit = limit.unwrap_or(DEFAULT_MESSAGES).min(MAX_MESSAGES);
        let (_, mut room_data) = self.all_account_data(user, now.pos).await?;
        let data = room_data.remove(room_id).unwrap_or_default();
        let membership = self.ctx.storage.membership(room_id, user).await?;
        let mut snapshot = match membership {
            Some(m) if m.membership != MembershipState::Invite => {
                self.member_snapshot(user, &m, now, limit, data).await?
            }
            // Peeking at a world-readable room: its state and messages now.
            _ => {
                let mut snapshot = self.peek_snapshot(user, room_id, now, limit).await?;
                snapshot.account_data = Some(data);
                snapshot
            }
        };
        let present = snapshot.membership.as_deref().is_none_or(|m| m == "join");
        let (presence, receipts) = match present {
            true => (
                self.member_presence(room_id).await?,
                self.room_receipt_events(user, vec![room_id.to_owned()], now.pos).await?,
            ),
            // Nothing of what happened after the user left (SPEC-216).
            false => (Vec::new(), Vec::new()),
        };
        snapshot.presence = Some(presence);
        snapshot.receipts = Some(receipts);
        Ok(snapshot)
    }

    /// A room the user is in, or left: state and messages up to now, or up to their leave.
    async fn member_snapshot(
        &self,
        user: &UserId,
        m: &MembershipRecord,
        now: SyncToken,
        limit: usize,
        account_data: Vec<Box<RawValue>>,
    ) -> Result<RoomSnapshot> {
        let services = self.services()?;
        let joined = m.membership == MembershipState::Join;
        let upto = if joined { now.pos } else { m.stream_pos.min(now.pos) };
        let state = services.rooms.readable_state(user, &m.room_id).await?;
        let state = self.render_ids(user, state.values().cloned().collect()).await?;
        Ok(RoomSnapshot {
            membership: Some(m.membership.as_str().to_owned()),
            visibility: self.visibility(&m.room_id).await?,
            messages: Some(self.messages(user, &m.room_id, upto, now, limit).await?),
            state: Some(state),
            account_data: Some(account_data),
            ..RoomSnapshot::new(&m.room_id)
        })
    }

    /// A world-readable room the user is not in.
    async fn peek_snapshot(
        &self,
        user: &UserId,
        room_id: &RoomId,
        now: SyncToken,
        limit: usize,
    ) -> Result<RoomSnapshot> {
        let services = self.services()?;
        let state = services.rooms.readable_state(user, room_id).await?;
        let state = self.render_ids(user, state.values().cloned().collect()).await?;
        Ok(RoomSnapshot {
            visibility: self.visibility(room_id).await?,
            messages: Some(self.messages(user, room_id, now.pos, now, limit).await?),
            state: Some(state),
            ..RoomSnapshot::new(room_id)
        })
    }

    /// An invite: who invited, and the invite event (Synapse lists nothing more).
    async fn invite_snapshot(&self, user: &UserId, m: &MembershipRecord) -> Result<RoomSnapshot> {
        let invite = self.render_ids(user, vec![m.event_id.clone()]).await?.into_iter().next();
        Ok(RoomSnapshot {
            membership: Some(m.membership.as_str().to_owned()),
            visibility: self.visibility(&m.room_id).await?,
            inviter: Some(m.sender.clone()),
            invite,
            ..RoomSnapshot::new(&m.room_id)
        })
    }

    /// The latest `limit` messages the user may see up to `upto`, oldest first; `start`
    /// continues backwards with `/messages`, `end` is the event stream's token.
    async fn messages(
        &self,
        user: &UserId,
        room_id: &RoomId,
        upto: i64,
        now: SyncToken,
        limit: usize,
    ) -> Result<Chunk> {
        let services = self.services()?;
        let end = SyncToken { pos: upto, eph: now.eph, to_device: upto };
        if limit == 0 {
            return Ok(Chunk { chunk: Vec::new(), start: end.to_string(), end: end.to_string() });
        }
        let filter = RoomEventFilter::default();
        let slice = services
            .sync
            .timeline_slice(SliceRequest {
                user,
                room_id,
                since: None,
                upto,
                limit,
                filter: &filter,
                ignored: &HashSet::new(),
            })
            .await?;
        // Sync keeps hidden state events of the current state in timelines; a snapshot for
        // someone who may be only peeking shows what they may read and nothing more.
        let events = services.rooms.filter_visible(user, room_id, slice.events).await?;
        Ok(Chunk {
            chunk: self.render(user, &events).await?,
            start: slice.prev_batch,
            end: end.to_string(),
        })
    }

    /// The presence of the room's members.
    async fn member_presence(&self, room_id: &RoomId) -> Result<Vec<Box<RawValue>>> {
        let members = self.ctx.storage.room_members(room_id, &[MembershipState::Join]).await?;
        let members: Vec<OwnedUserId> = members.into_iter().map(|m| m.user_id).collect();
        let presence = &self.services()?.presence;
        let events = presence.current_events(&members).await?;
        events.iter().map(|e| v1_presence(e.json())).collect()
    }

    /// One `m.receipt` event (with its `room_id`) per room.
    async fn room_receipt_events(
        &self,
        user: &UserId,
        rooms: Vec<OwnedRoomId>,
        upto: i64,
    ) -> Result<Vec<Box<RawValue>>> {
        let records = self.ctx.storage.room_receipts(rooms, 0, upto).await?;
        let mut by_room: BTreeMap<OwnedRoomId, Vec<ReceiptRecord>> = BTreeMap::new();
        for r in records {
            by_room.entry(r.room_id.clone()).or_default().push(r);
        }
        let mut events = Vec::new();
        for (room_id, records) in by_room {
            if let Some(event) = receipt_event(&records, user) {
                events.push(with_room_id(&event, &room_id)?);
            }
        }
        Ok(events)
    }

    /// The user's global account data, and their room account data by room.
    async fn all_account_data(
        &self,
        user: &UserId,
        upto: i64,
    ) -> Result<(Vec<Box<RawValue>>, BTreeMap<OwnedRoomId, Vec<Box<RawValue>>>)> {
        let changes = self.ctx.storage.account_data_changes(user, 0, upto).await?;
        let mut global = Vec::new();
        let mut by_room: BTreeMap<OwnedRoomId, Vec<Box<RawValue>>> = BTreeMap::new();
        for change in changes.into_iter().filter(|c| v1_account_data(&c.data_type)) {
            let event = json!({"type": change.data_type, "content": change.content});
            let event = serde_json::value::to_raw_value(&event)?;
            match change.room_id {
                Some(room_id) => by_room.entry(room_id).or_default().push(event),
                None => global.push(event),
            }
        }
        Ok((global, by_room))
    }
}
