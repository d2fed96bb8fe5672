//! The room directory and room summaries: which rooms are published, and the facts shown about
//! a room (its name, topic, join rule... events and its joined member count), read for many
//! rooms at once.

use std::collections::HashMap;

use async_trait::async_trait;
use hearth_core::Result;
use ruma::OwnedRoomId;

use crate::EventRecord;

#[async_trait]
pub trait DirectoryStore {
    /// Rooms published in the room directory, with their joined member counts: most members
    /// first, then by room ID.
    async fn published_rooms(&self) -> Result<Vec<(OwnedRoomId, u64)>>;

    /// The current-state events with an empty state key and one of `types` in each room.
    async fn room_info_events(
        &self,
        rooms: Vec<OwnedRoomId>,
        types: &'static [&'static str],
    ) -> Result<Vec<EventRecord>>;

    /// The number of joined members of each room.
    async fn joined_member_counts(
        &self,
        rooms: Vec<OwnedRoomId>,
    ) -> Result<HashMap<OwnedRoomId, u64>>;
}
