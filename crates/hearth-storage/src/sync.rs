//! What `/sync` (and sliding sync) read across rooms in one go: where each room's timeline
//! stands and the numbers of its summary.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{OwnedRoomId, OwnedUserId, UserId};

/// Member counts and heroes of a room (spec: `/sync` `RoomSummary`).
#[derive(Debug, Clone, Default)]
pub struct RoomSummaryRecord {
    pub joined: u64,
    pub invited: u64,
    /// The first members by stream order who are joined or invited (or, when there are none,
    /// who left or were banned), the syncing user excluded.
    pub heroes: Vec<OwnedUserId>,
}

#[async_trait]
pub trait SyncStore {
    /// For each room, the stream position of its latest event at or below `upto` (rooms with
    /// none are left out): what changed since a token, and sliding sync's bump stamps.
    async fn latest_room_positions(
        &self,
        rooms: Vec<OwnedRoomId>,
        upto: i64,
    ) -> Result<Vec<(OwnedRoomId, i64)>>;

    /// The summary of each room, with up to `heroes` heroes other than `me`.
    async fn room_summaries(
        &self,
        rooms: Vec<OwnedRoomId>,
        me: &UserId,
        heroes: usize,
    ) -> Result<Vec<(OwnedRoomId, RoomSummaryRecord)>>;
}
