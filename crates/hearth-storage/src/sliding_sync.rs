//! What simplified sliding sync (MSC4186) reads across all of a user's rooms at once: where
//! each room's activity stands (its bump stamp, for ordering room lists) and the few state
//! values list filters look at. Each read is one indexed lookup per room.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{OwnedRoomId, RoomId};

/// Event types that bump a room to the top of a list (MSC4186 `bump_stamp`: "proper"
/// activity), as Synapse counts them.
pub const BUMP_EVENT_TYPES: &[&str] = &[
    "m.room.create",
    "m.room.message",
    "m.room.encrypted",
    "m.sticker",
    "m.call.invite",
    "m.poll.start",
    "m.beacon_info",
];

/// Where a room's timeline stands at a stream position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomActivity {
    pub room_id: OwnedRoomId,
    /// The position of its latest event (of any type); `None` when it has none.
    pub latest: Option<i64>,
    /// The position of its latest event of a [`BUMP_EVENT_TYPES`] type.
    pub bump: Option<i64>,
}

#[async_trait]
pub trait SlidingSyncStore {
    /// For each room, its latest event and latest bump event at or below `upto`.
    async fn room_activity(&self, rooms: Vec<OwnedRoomId>, upto: i64) -> Result<Vec<RoomActivity>>;

    /// For each room that has the current state event `(kind, state_key)`, its content as
    /// JSON (rooms without it are left out).
    async fn current_state_contents(
        &self,
        rooms: Vec<OwnedRoomId>,
        kind: &str,
        state_key: &str,
    ) -> Result<Vec<(OwnedRoomId, String)>>;

    /// The rooms a space lists as its children in its current state: `m.space.child` events
    /// whose `via` is a non-empty list (spec: "Spaces").
    async fn space_children(&self, space: &RoomId) -> Result<Vec<OwnedRoomId>>;
}
