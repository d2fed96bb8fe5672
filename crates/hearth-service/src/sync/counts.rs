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
    /// The user's unread counts in a room, covering the events up to `up_to` (the position
    /// the response reports: the push service waits until it has evaluated them).
    pub async fn unread_counts(
        &self,
        user: &UserId,
        room_id: &RoomId,
        threads: bool,
        up_to: i64,
    ) -> Result<RoomCounts> {
        let counts = self.services()?.push.room_counts(user, room_id, up_to).await?;
        Ok(to_room_counts(counts, threads))
    }
}

impl super::Pass<'_> {
    /// A room's counts in this sync, from one query for all the user's rooms.
    pub async fn room_unread_counts(&self, room_id: &RoomId, threads: bool) -> Result<RoomCounts> {
        let all = self
            .unread
            .get_or_try_init(|| async {
                let push = &self.services.push;
                push.all_room_counts(self.user, self.to_pos).await
            })
            .await?;
        let Some(counts) = all.get(room_id) else { return Ok(RoomCounts::default()) };
        Ok(to_room_counts(counts.clone(), threads))
    }
}

fn unread(c: crate::push::Counts) -> UnreadCounts {
    UnreadCounts { highlight_count: c.highlights, notification_count: c.notifications }
}

fn to_room_counts(counts: crate::push::RoomCounts, threads: bool) -> RoomCounts {
    if !threads {
        return RoomCounts { room: unread(counts.total()), threads: BTreeMap::new() };
    }
    let threads = counts.threads.into_iter().map(|(root, c)| (root, unread(c))).collect();
    RoomCounts { room: unread(counts.main), threads }
}
