//! Rooms: the event graph (PDUs as canonical JSON plus indexed columns), compact state storage
//! (state groups), each room's current state and current memberships, transaction IDs and local
//! aliases.
//!
//! State groups: every event points at the state before it (`state_group_before`) and after it
//! (`state_group_after`, the same group for non-state events). A group is either a snapshot (no
//! `prev_group`) or a delta over `prev_group`; the service keeps delta chains short (a snapshot
//! every `MAX_DELTA_CHAIN` deltas), so reading any group reads a bounded number of rows.

use std::{future::Future, pin::Pin};

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{
    EventId, OwnedDeviceId, OwnedEventId, OwnedRoomAliasId, OwnedRoomId, OwnedTransactionId,
    OwnedUserId, RoomAliasId, RoomId, TransactionId, UserId, events::room::member::MembershipState,
};

/// After this many deltas in a chain the next group is stored as a snapshot.
pub const MAX_DELTA_CHAIN: u32 = 100;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A `(type, state_key)` pair.
pub type StateKey = (String, String);

/// A stored event, as read back.
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub event_id: OwnedEventId,
    pub room_id: OwnedRoomId,
    /// The PDU as canonical JSON, exactly as hashed and signed (never redacted in storage).
    pub json: String,
    /// Position in the server-wide stream; `None` for outliers.
    pub stream_pos: Option<i64>,
    pub rejected: bool,
    pub outlier: bool,
    /// The redaction event that redacts this one, if any.
    pub redacted_by: Option<OwnedEventId>,
    pub state_group_before: Option<i64>,
    pub state_group_after: Option<i64>,
    /// For state events: the event this one replaced in the room state (for `prev_content`).
    pub replaces_state: Option<OwnedEventId>,
    /// The sending device and its transaction ID, for local events sent with one.
    pub txn: Option<(OwnedDeviceId, OwnedTransactionId)>,
}

/// A room as created.
#[derive(Debug, Clone)]
pub struct RoomRecord {
    pub room_id: OwnedRoomId,
    pub version: String,
    /// Published in the room directory (`visibility` of createRoom).
    pub public: bool,
}

/// What is needed to rebuild a room's in-memory head.
#[derive(Debug, Clone)]
pub struct RoomHeadRecord {
    pub room: RoomRecord,
    /// Forward extremities with their depth and the state group after them.
    pub extremities: Vec<ExtremityRecord>,
}

#[derive(Debug, Clone)]
pub struct ExtremityRecord {
    pub event_id: OwnedEventId,
    pub depth: i64,
    pub state_group_after: Option<i64>,
}

/// One stored state group: a snapshot or a delta over `prev_group`.
#[derive(Debug, Clone)]
pub struct StateGroupRecord {
    pub id: i64,
    pub prev_group: Option<i64>,
    /// Number of deltas between this group and its snapshot (0 for a snapshot).
    pub chain_len: u32,
    /// `None` as event ID: the key is removed (only in deltas).
    pub entries: Vec<(StateKey, Option<OwnedEventId>)>,
}

/// A new state group to store with an event.
#[derive(Debug, Clone)]
pub struct NewStateGroup {
    pub id: i64,
    pub room_id: OwnedRoomId,
    pub prev_group: Option<i64>,
    pub chain_len: u32,
    pub entries: Vec<(StateKey, Option<OwnedEventId>)>,
}

/// A change of a user's current membership in a room.
#[derive(Debug, Clone)]
pub struct MembershipUpdate {
    pub user_id: OwnedUserId,
    pub membership: MembershipState,
    pub event_id: OwnedEventId,
    pub sender: OwnedUserId,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
}

/// Everything persisting one event changes, written in one transaction.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_id: OwnedEventId,
    pub room_id: OwnedRoomId,
    pub json: String,
    pub depth: i64,
    pub kind: String,
    pub state_key: Option<String>,
    pub sender: OwnedUserId,
    pub origin_server_ts: i64,
    pub prev_events: Vec<OwnedEventId>,
    /// The event this one redacts; applied to the target if it is stored (or when it arrives).
    pub redacts: Option<OwnedEventId>,
    pub replaces_state: Option<OwnedEventId>,
    /// Groups created by this event (state before it, when new, and state after it), in order.
    pub new_state_groups: Vec<NewStateGroup>,
    pub state_group_before: i64,
    pub state_group_after: i64,
    /// Changes to the room's current state: key to new event ID, `None` to remove.
    pub current_state_delta: Vec<(StateKey, Option<OwnedEventId>)>,
    pub membership_updates: Vec<MembershipUpdate>,
    /// The room's `join_rule` when this event changes it (for the user directory).
    pub join_rule: Option<String>,
    /// The room's `history_visibility` when this event changes it (for the user directory).
    pub history_visibility: Option<String>,
    /// The room's forward extremities after this event.
    pub forward_extremities: Vec<OwnedEventId>,
    pub txn: Option<(OwnedDeviceId, OwnedTransactionId)>,
    /// Set on a room's create event: the room row to insert.
    pub new_room: Option<RoomRecord>,
    /// The event's relationship to a parent (relations, threads, aggregations).
    pub relation: Option<crate::NewRelation>,
}

/// A user's current membership in a room.
#[derive(Debug, Clone)]
pub struct MembershipRecord {
    pub room_id: OwnedRoomId,
    pub user_id: OwnedUserId,
    pub membership: MembershipState,
    pub event_id: OwnedEventId,
    pub sender: OwnedUserId,
    /// Stream position of the event that set this membership.
    pub stream_pos: i64,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    pub forgotten: bool,
    /// While joined: the position of the join that began it (a later join, such as a new
    /// display name, does not move it).
    pub joined_at: Option<i64>,
}

/// Which way to walk a room's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimelineDirection {
    /// Newest first: events with position `<= from`, down to `> to`.
    Backward,
    /// Oldest first: events with position `> from`, up to `<= to`.
    Forward,
}

#[async_trait]
pub trait RoomStore {
    /// Persist one event with everything it changes, atomically. The write is queued *before*
    /// this returns (so events of one room built in order are written in order); the future
    /// resolves with the event's stream position once committed.
    fn persist_event(&self, event: NewEvent) -> BoxFuture<Result<i64>>;

    async fn get_room(&self, room_id: &RoomId) -> Result<Option<RoomRecord>>;

    /// The room, its forward extremities and their state groups; `None` for an unknown room.
    async fn room_head(&self, room_id: &RoomId) -> Result<Option<RoomHeadRecord>>;

    /// The highest state group ID in use (new IDs are handed out above it).
    async fn max_state_group(&self) -> Result<i64>;

    async fn set_room_public(&self, room_id: &RoomId, public: bool) -> Result<()>;
}

#[async_trait]
pub trait EventStore {
    async fn get_event(&self, event_id: &EventId) -> Result<Option<EventRecord>>;

    /// The events found among `event_ids`, in no particular order.
    async fn get_events(&self, event_ids: Vec<OwnedEventId>) -> Result<Vec<EventRecord>>;

    /// The event a device sent to a room with a transaction ID, for send idempotency.
    async fn event_for_txn(
        &self,
        room_id: &RoomId,
        user_id: &UserId,
        device_id: &ruma::DeviceId,
        txn_id: &TransactionId,
    ) -> Result<Option<OwnedEventId>>;

    /// Up to `limit` non-outlier events of a room in stream order, starting after (forward) or
    /// at (backward) position `from` and stopping at `to`.
    async fn room_timeline(
        &self,
        room_id: &RoomId,
        from: i64,
        to: Option<i64>,
        dir: TimelineDirection,
        limit: usize,
    ) -> Result<Vec<EventRecord>>;

    /// The latest event of a room at or before stream position `pos`.
    async fn room_event_at(&self, room_id: &RoomId, pos: i64) -> Result<Option<EventRecord>>;

    /// The non-outlier, non-rejected event of a room closest to `ts` (ms) in direction `dir`:
    /// `Forward`, the first at or after it; `Backward`, the last at or before it.
    async fn event_near_timestamp(
        &self,
        room_id: &RoomId,
        ts: i64,
        dir: TimelineDirection,
    ) -> Result<Option<EventRecord>>;
    /// Up to `limit` events of every room at positions in `(after, up_to]`, in stream order
    /// (push rule evaluation follows the stream with this).
    async fn events_after(&self, after: i64, up_to: i64, limit: usize) -> Result<Vec<EventRecord>>;
}

#[async_trait]
pub trait StateStore {
    /// A group and the groups it is a delta over, nearest first, down to its snapshot.
    async fn state_group_chain(&self, group: i64) -> Result<Vec<StateGroupRecord>>;

    /// The room's current state (committed), as `(type, state_key) -> event ID`.
    async fn current_state(&self, room_id: &RoomId) -> Result<Vec<(StateKey, OwnedEventId)>>;

    /// One entry of the room's current state.
    async fn current_state_event(
        &self,
        room_id: &RoomId,
        kind: &str,
        state_key: &str,
    ) -> Result<Option<OwnedEventId>>;
}

/// Current memberships, for sync, the notifier, the user directory and device lists.
#[async_trait]
pub trait MembershipStore {
    /// The user's current membership in one room.
    async fn membership(
        &self,
        room_id: &RoomId,
        user_id: &UserId,
    ) -> Result<Option<MembershipRecord>>;

    /// Rooms in which the user's current membership is one of `memberships` (all if empty),
    /// forgotten rooms excluded.
    async fn rooms_for_user(
        &self,
        user_id: &UserId,
        memberships: &[MembershipState],
    ) -> Result<Vec<MembershipRecord>>;

    /// Members of a room whose current membership is one of `memberships` (all if empty).
    async fn room_members(
        &self,
        room_id: &RoomId,
        memberships: &[MembershipState],
    ) -> Result<Vec<MembershipRecord>>;

    /// The user's memberships that changed at stream positions in `(from, to]`: the latest
    /// membership of each room whose membership changed in that range.
    async fn membership_changes(
        &self,
        user_id: &UserId,
        from: i64,
        to: i64,
    ) -> Result<Vec<MembershipRecord>>;

    /// Whether two users are both joined to at least one common room.
    async fn share_a_room(&self, a: &UserId, b: &UserId) -> Result<bool>;

    /// Hide a room the user has left from them; `false` if they are still joined or invited.
    async fn forget_room(&self, room_id: &RoomId, user_id: &UserId) -> Result<bool>;

    /// Users joined to at least one room `user_id` is joined to, `user_id` included (device
    /// lists: who is told about whose device changes).
    async fn users_sharing_a_room(&self, user_id: &UserId) -> Result<Vec<OwnedUserId>>;

    /// Current memberships of other users set at stream positions in `(from, to]`, in the rooms
    /// `user_id` is joined to now (device lists: who began or stopped sharing a room with them).
    async fn others_membership_changes(
        &self,
        user_id: &UserId,
        from: i64,
        to: i64,
    ) -> Result<Vec<MembershipRecord>>;
}

/// A local alias: the room it points to and the user who created it.
#[derive(Debug, Clone)]
pub struct AliasRecord {
    pub room_id: OwnedRoomId,
    pub creator: OwnedUserId,
}

/// Local room aliases.
#[async_trait]
pub trait AliasStore {
    /// Create an alias; `false` if it already exists.
    async fn create_alias(
        &self,
        alias: &RoomAliasId,
        room_id: &RoomId,
        creator: &UserId,
    ) -> Result<bool>;

    async fn resolve_alias(&self, alias: &RoomAliasId) -> Result<Option<OwnedRoomId>>;

    async fn room_aliases(&self, room_id: &RoomId) -> Result<Vec<OwnedRoomAliasId>>;

    /// The alias's room and creator.
    async fn get_alias(&self, alias: &RoomAliasId) -> Result<Option<AliasRecord>>;

    /// Remove an alias; the room it pointed to, `None` if there was no such alias.
    async fn delete_alias(&self, alias: &RoomAliasId) -> Result<Option<OwnedRoomId>>;

    /// Point every alias of `from` at `to` (room upgrades); returns the aliases moved.
    async fn move_aliases(&self, from: &RoomId, to: &RoomId) -> Result<Vec<OwnedRoomAliasId>>;
}
