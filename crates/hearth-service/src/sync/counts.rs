//! Notification counts in sync (spec: "Receiving notifications"): `unread_notifications` and,
//! with the timeline filter's `unread_thread_notifications`, `unread_thread_notifications`.
//! The push service computes them; this is the one place sync asks.

use std::collections::BTreeMap;

use hearth_core::Result;
use ruma::{OwnedEventId, RoomId, UserId};

use super::{Service, response::UnreadCounts};

/// A room's counts: for the whole room, or (`threads`) for its main timeline plus per thread.
#[derive(Debug, Default)]
pub struct RoomCounts {
    pub room: UnreadCounts,
    pub threads: BTreeMap<OwnedEventId, UnreadCounts>,
}

impl Service {
    /// The user's unread counts in a room.
    pub async fn unread_counts(
        &self,
        _user: &UserId,
        _room_id: &RoomId,
        _threads: bool,
    ) -> Result<RoomCounts> {
        // TODO(push): ask the push service (`services.push` counts for (user, room), per
        // thread when `threads`) once it lands; until then there is nothing to count.
        Ok(RoomCounts::default())
    }
}
