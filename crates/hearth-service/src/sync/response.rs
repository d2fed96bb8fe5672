//! The `/sync` response (spec: client-server-api `GET /sync`), serialized as Synapse does:
//! a room lists every section (`timeline` with `limited` and `prev_batch`, `state`,
//! `ephemeral`, `account_data`...) even when empty, and empty top-level sections are left out.

use std::collections::BTreeMap;

use ruma::{
    OneTimeKeyAlgorithm, OwnedEventId, OwnedRoomId, UInt,
    api::client::sync::sync_events::DeviceLists,
};
use serde::Serialize;
use serde_json::value::RawValue;

#[derive(Debug, Serialize)]
pub struct SyncResponse {
    pub next_batch: String,
    #[serde(skip_serializing_if = "Rooms::is_empty")]
    pub rooms: Rooms,
    #[serde(skip_serializing_if = "Events::is_empty")]
    pub presence: Events,
    #[serde(skip_serializing_if = "Events::is_empty")]
    pub account_data: Events,
    #[serde(skip_serializing_if = "Events::is_empty")]
    pub to_device: Events,
    #[serde(skip_serializing_if = "DeviceLists::is_empty")]
    pub device_lists: DeviceLists,
    /// Always present (Synapse; clients rely on it).
    pub device_one_time_keys_count: BTreeMap<OneTimeKeyAlgorithm, UInt>,
    /// Always present: it tells clients the server supports fallback keys.
    pub device_unused_fallback_key_types: Vec<OneTimeKeyAlgorithm>,
}

impl SyncResponse {
    /// Nothing a waiting client would want to be woken for (key counts do not count).
    pub fn is_empty(&self) -> bool {
        self.rooms.is_empty()
            && self.presence.is_empty()
            && self.account_data.is_empty()
            && self.to_device.is_empty()
            && self.device_lists.is_empty()
    }
}

/// `{"events": [...]}`.
#[derive(Debug, Default, Serialize)]
pub struct Events {
    pub events: Vec<Box<RawValue>>,
}

impl Events {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

impl From<Vec<Box<RawValue>>> for Events {
    fn from(events: Vec<Box<RawValue>>) -> Self {
        Events { events }
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Rooms {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub join: BTreeMap<OwnedRoomId, JoinedRoom>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub invite: BTreeMap<OwnedRoomId, InvitedRoom>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub leave: BTreeMap<OwnedRoomId, LeftRoom>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub knock: BTreeMap<OwnedRoomId, KnockedRoom>,
}

impl Rooms {
    pub fn is_empty(&self) -> bool {
        self.join.is_empty()
            && self.invite.is_empty()
            && self.leave.is_empty()
            && self.knock.is_empty()
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Timeline {
    pub events: Vec<Box<RawValue>>,
    pub limited: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev_batch: Option<String>,
}

/// `state` (the state up to the start of the timeline) or, with `use_state_after`,
/// `state_after` (up to its end); exactly one of them is present.
#[derive(Debug, Default, Serialize)]
pub struct RoomState {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<Events>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_after: Option<Events>,
}

impl RoomState {
    pub fn new(events: Vec<Box<RawValue>>, after: bool) -> Self {
        if after {
            RoomState { state: None, state_after: Some(events.into()) }
        } else {
            RoomState { state: Some(events.into()), state_after: None }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.state.iter().chain(&self.state_after).all(Events::is_empty)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UnreadCounts {
    pub highlight_count: u64,
    pub notification_count: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct RoomSummary {
    #[serde(rename = "m.heroes", skip_serializing_if = "Option::is_none")]
    pub heroes: Option<Vec<ruma::OwnedUserId>>,
    #[serde(rename = "m.joined_member_count", skip_serializing_if = "Option::is_none")]
    pub joined_member_count: Option<u64>,
    #[serde(rename = "m.invited_member_count", skip_serializing_if = "Option::is_none")]
    pub invited_member_count: Option<u64>,
}

#[derive(Debug, Default, Serialize)]
pub struct JoinedRoom {
    pub summary: RoomSummary,
    pub timeline: Timeline,
    #[serde(flatten)]
    pub state: RoomState,
    pub ephemeral: Events,
    pub account_data: Events,
    pub unread_notifications: UnreadCounts,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub unread_thread_notifications: BTreeMap<OwnedEventId, UnreadCounts>,
}

#[derive(Debug, Default, Serialize)]
pub struct LeftRoom {
    pub timeline: Timeline,
    #[serde(flatten)]
    pub state: RoomState,
    pub account_data: Events,
}

#[derive(Debug, Default, Serialize)]
pub struct InvitedRoom {
    pub invite_state: Events,
}

#[derive(Debug, Default, Serialize)]
pub struct KnockedRoom {
    pub knock_state: Events,
}
