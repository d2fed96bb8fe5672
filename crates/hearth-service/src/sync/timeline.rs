//! Timeline slices: the newest events of a room between two stream positions that a user may
//! see and a filter lets through (spec: "Syncing": `limited` and `prev_batch`).

use std::collections::HashSet;

use hearth_core::Result;
use hearth_storage::{EventRecord, TimelineDirection};
use ruma::{OwnedUserId, RoomId, UserId, api::client::filter::RoomEventFilter};

use super::Service;
use crate::rooms::{PaginationToken, PduRef};

pub struct TimelineSlice {
    /// Oldest first.
    pub events: Vec<(EventRecord, PduRef)>,
    /// Earlier events in the range were left out.
    pub limited: bool,
    /// Where `/messages` continues backwards from the first event.
    pub prev_batch: String,
}

impl Service {
    /// The newest `limit` events with positions in `(since, upto]` (from the room's start
    /// without `since`) that `user` may see and `filter` lets through. Messages from `ignored`
    /// users are left out (spec: "Ignoring Users"); their state events are kept.
    #[allow(clippy::too_many_arguments)]
    pub async fn timeline_slice(
        &self,
        user: &UserId,
        room_id: &RoomId,
        since: Option<i64>,
        upto: i64,
        limit: usize,
        filter: &RoomEventFilter,
        ignored: &HashSet<OwnedUserId>,
    ) -> Result<TimelineSlice> {
        let rooms = &self.services()?.rooms;
        let (mut events, _, exhausted) = rooms
            .scan(user, room_id, upto, since, TimelineDirection::Backward, limit + 1, filter)
            .await?;
        events.retain(|(_, pdu)| pdu.is_state() || !ignored.contains(&pdu.sender));
        let limited = !exhausted || events.len() > limit;
        events.truncate(limit);
        events.reverse();
        let prev_batch = match events.first().and_then(|(r, _)| r.stream_pos) {
            // A whole room in an initial sync: Synapse answers the sync's own position, so
            // that `/messages` from `prev_batch` pages through the room (clients and SyTest
            // rely on it; `end` then follows).
            Some(_) if since.is_none() && !limited => PaginationToken(upto),
            Some(first) => PaginationToken::before(first),
            None => PaginationToken(upto),
        };
        Ok(TimelineSlice { events, limited, prev_batch: prev_batch.to_string() })
    }
}
