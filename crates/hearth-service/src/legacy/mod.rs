//! The deprecated v1 sync API that clients and SyTest still call and Synapse still serves:
//! `GET /events` (the event stream), `GET /initialSync`, `GET /rooms/{roomId}/initialSync`
//! and `GET /events/{eventId}` (spec history: r0.6.1 "Syncing", "Getting events for a room",
//! "Peeking"). They are adapters over the same data `/sync` reads: the server-wide stream
//! (events, account data, receipts), the ephemeral stream (typing, presence), the rooms
//! service for state, timelines and history visibility, and the notifier for long-polls.
//! Tokens are `/sync` tokens ([`SyncToken`]), so `/messages` accepts them too.

mod event_stream;
mod events;
mod initial_sync;

use std::sync::{Arc, Weak};

use hearth_core::Result;
use ruma::RoomId;
use serde::Serialize;
use serde_json::value::RawValue;

pub use event_stream::EventStreamRequest;

use crate::{Ctx, Services, ephemeral::EphemeralStream, stream_token::SyncToken};

/// Events per `/events` response when the client gives no `limit` (Synapse's default).
const DEFAULT_LIMIT: usize = 10;
/// At most this many events per response.
const MAX_LIMIT: usize = 1000;

pub struct Service {
    ctx: Arc<Ctx>,
    services: Weak<Services>,
    stream: Arc<EphemeralStream>,
}

/// `{"chunk": [...], "start": .., "end": ..}`: a page of the event stream, or a room's
/// latest messages in an initial sync.
#[derive(Debug, Serialize)]
pub struct Chunk {
    pub chunk: Vec<Box<RawValue>>,
    pub start: String,
    pub end: String,
}

/// One room as `/initialSync` and `/rooms/{roomId}/initialSync` describe it. Invites carry
/// `invite` and `inviter` only; the per-room endpoint adds `presence` and `receipts`.
#[derive(Debug, Serialize)]
pub struct RoomSnapshot {
    pub room_id: ruma::OwnedRoomId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub membership: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Chunk>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<Vec<Box<RawValue>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_data: Option<Vec<Box<RawValue>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence: Option<Vec<Box<RawValue>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipts: Option<Vec<Box<RawValue>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inviter: Option<ruma::OwnedUserId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite: Option<Box<RawValue>>,
}

impl RoomSnapshot {
    fn new(room_id: &RoomId) -> Self {
        RoomSnapshot {
            room_id: room_id.to_owned(),
            membership: None,
            visibility: None,
            messages: None,
            state: None,
            account_data: None,
            presence: None,
            receipts: None,
            inviter: None,
            invite: None,
        }
    }
}

/// `GET /initialSync`.
#[derive(Debug, Serialize)]
pub struct InitialSync {
    pub end: String,
    pub rooms: Vec<RoomSnapshot>,
    pub presence: Vec<Box<RawValue>>,
    pub account_data: Vec<Box<RawValue>>,
    pub receipts: Vec<Box<RawValue>>,
}

impl Service {
    pub(crate) fn new(
        ctx: Arc<Ctx>,
        services: Weak<Services>,
        stream: Arc<EphemeralStream>,
    ) -> Self {
        Service { ctx, services, stream }
    }

    fn services(&self) -> Result<Arc<Services>> {
        crate::upgrade(&self.services)
    }

    /// The token for "now" in both streams.
    fn now(&self) -> SyncToken {
        let pos = self.ctx.storage.current_stream_pos();
        SyncToken { pos, eph: self.stream.current(), to_device: pos }
    }

    /// `public` or `private`, as the room directory lists the room.
    async fn visibility(&self, room_id: &RoomId) -> Result<Option<&'static str>> {
        let room = self.ctx.storage.get_room(room_id).await?;
        Ok(room.map(|r| if r.public { "public" } else { "private" }))
    }
}

/// The v1 client format (Synapse's `format_event_for_client_v1`): the sender also as
/// `user_id`, and `age`, `prev_content`, `replaces_state` and `redacted_because` also at the
/// top level.
pub(crate) fn v1_format(event: &RawValue) -> Result<Box<RawValue>> {
    let mut value: serde_json::Value = serde_json::from_str(event.get())?;
    let Some(obj) = value.as_object_mut() else { return Ok(event.to_owned()) };
    if let Some(sender) = obj.get("sender").cloned() {
        obj.insert("user_id".into(), sender);
    }
    let unsigned = obj.get("unsigned").and_then(|u| u.as_object()).cloned().unwrap_or_default();
    for key in ["age", "redacted_because", "replaces_state", "prev_content"] {
        if let Some(v) = unsigned.get(key) {
            obj.insert(key.into(), v.clone());
        }
    }
    Ok(serde_json::value::to_raw_value(&value)?)
}

/// Account data v1 clients are given: not `m.push_rules`, which they read from `/pushrules`
/// (Synapse never lists push rules as account data here).
fn v1_account_data(data_type: &str) -> bool {
    data_type != "m.push_rules"
}

/// Presence events as v1 clients see them: the user also in `content.user_id`.
fn v1_presence(event: &RawValue) -> Result<Box<RawValue>> {
    let mut value: serde_json::Value = serde_json::from_str(event.get())?;
    let sender = value["sender"].clone();
    if let Some(content) = value["content"].as_object_mut() {
        content.insert("user_id".into(), sender);
    }
    Ok(serde_json::value::to_raw_value(&value)?)
}

/// A room's event (receipt, typing, account data) with its `room_id`, as v1 streams list them.
fn with_room_id(event: &RawValue, room_id: &RoomId) -> Result<Box<RawValue>> {
    let mut value: serde_json::Value = serde_json::from_str(event.get())?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("room_id".into(), serde_json::json!(room_id));
    }
    Ok(serde_json::value::to_raw_value(&value)?)
}
