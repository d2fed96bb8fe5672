//! Unread notification counts (spec: client-server-api "Receiving notifications", "Marking
//! notifications as read") and the receipt hook that resets them.
//!
//! Counts are read as of a stream position: the caller's `/sync` position. Reading waits for
//! evaluation to reach it, so the count of a new event is in the same response as the event.
//! Receipts do not wait: a read marker covers notifications stored after it as well.

use std::collections::{BTreeMap, HashMap};

use hearth_core::{Result, utils::now_millis};
use hearth_storage::{MemberSince, ReadMark, ReceiptScope, UnreadCount};
use ruma::{
    EventId, OwnedEventId, OwnedRoomId, RoomId, UserId, events::room::member::MembershipState,
};

use super::Service;

/// `notification_count` and `highlight_count`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub notifications: u64,
    pub highlights: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.notifications += other.notifications;
        self.highlights += other.highlights;
    }
}

/// A room's unread counts: the main timeline, and each thread by its root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomCounts {
    pub main: Counts,
    pub threads: BTreeMap<OwnedEventId, Counts>,
}

impl RoomCounts {
    /// Everything: `unread_notifications` for a client that does not ask for threaded counts
    /// (the `unread_thread_notifications` filter is off).
    pub fn total(&self) -> Counts {
        let mut total = self.main;
        for counts in self.threads.values() {
            total.add(*counts);
        }
        total
    }

    fn add(&mut self, row: UnreadCount) {
        let counts = Counts { notifications: row.notifications, highlights: row.highlights };
        match row.thread_id {
            None => self.main.add(counts),
            Some(root) => self.threads.entry(root).or_default().add(counts),
        }
    }
}

impl Service {
    /// The user's unread counts in one room (none unless joined), covering the events up to
    /// stream position `up_to` (the `/sync` response's position).
    pub async fn room_counts(
        &self,
        user_id: &UserId,
        room_id: &RoomId,
        up_to: i64,
    ) -> Result<RoomCounts> {
        self.wait_evaluated(up_to).await;
        let membership = self.ctx.storage.membership(room_id, user_id).await?;
        let Some(m) = membership.filter(|m| m.membership == MembershipState::Join) else {
            return Ok(RoomCounts::default());
        };
        let joined_at = m.joined_at.unwrap_or(m.stream_pos);
        let rooms = vec![MemberSince { room_id: room_id.to_owned(), joined_at }];
        let rows = self.ctx.storage.unread_counts(user_id, rooms, up_to).await?;
        let mut counts = RoomCounts::default();
        rows.into_iter().for_each(|row| counts.add(row));
        Ok(counts)
    }

    /// The user's unread counts in every joined room with unread notifications (rooms missing
    /// from the map have none), covering the events up to `up_to`. One read for a `/sync`.
    pub async fn all_room_counts(
        &self,
        user_id: &UserId,
        up_to: i64,
    ) -> Result<HashMap<OwnedRoomId, RoomCounts>> {
        self.wait_evaluated(up_to).await;
        let rows =
            self.ctx.storage.unread_counts(user_id, self.joined(user_id).await?, up_to).await?;
        let mut rooms: HashMap<OwnedRoomId, RoomCounts> = HashMap::new();
        for row in rows {
            rooms.entry(row.room_id.clone()).or_default().add(row);
        }
        Ok(rooms)
    }

    /// The rooms the user is joined to, with the position of their join.
    pub(super) async fn joined(&self, user_id: &UserId) -> Result<Vec<MemberSince>> {
        let rooms = self.ctx.storage.rooms_for_user(user_id, &[MembershipState::Join]).await?;
        Ok(rooms
            .into_iter()
            .map(|m| MemberSince {
                joined_at: m.joined_at.unwrap_or(m.stream_pos),
                room_id: m.room_id,
            })
            .collect())
    }

    /// A read receipt (`m.read` or `m.read.private`) of `user` for `event_id` in `room_id`:
    /// notifications up to it become read. `thread` is the receipt's `thread_id` (`None`:
    /// unthreaded, covering every thread; `"main"`: the main timeline; else a thread root).
    /// A receipt behind an earlier one changes nothing (spec: the one further ahead counts).
    /// The user's pushers get the new badge.
    pub async fn on_receipt(
        &self,
        user_id: &UserId,
        room_id: &RoomId,
        thread: Option<&str>,
        event_id: &EventId,
    ) -> Result<()> {
        let record = self.ctx.storage.get_event(event_id).await?;
        let Some(pos) = record.filter(|r| r.room_id == room_id).and_then(|r| r.stream_pos) else {
            return Ok(());
        };
        let scope = match thread {
            None => ReceiptScope::All,
            Some("main") => ReceiptScope::Main,
            Some(root) => match EventId::parse(root) {
                Ok(root) => ReceiptScope::Thread(root),
                Err(_) => return Ok(()),
            },
        };
        let (user, room) = (user_id.to_owned(), room_id.to_owned());
        let mark = ReadMark { user_id: user, room_id: room, scope, up_to: pos };
        if !self.ctx.storage.mark_read(mark).await? {
            return Ok(());
        }
        self.ctx.notifier.notify_user(user_id);
        if self.has_pushers(user_id)
            && self.ctx.storage.queue_badge_update(user_id, now_millis() as i64).await? > 0
        {
            self.delivery_wake.notify_one();
        }
        Ok(())
    }

    /// The badge a push gateway shows (`counts.unread`): pending invites plus joined rooms
    /// with unread notifications (or the notifications, per
    /// `push.group_unread_count_by_room`), as Synapse counts it.
    pub(crate) async fn badge(&self, user_id: &UserId) -> Result<u64> {
        let storage = &self.ctx.storage;
        let invites = storage.rooms_for_user(user_id, &[MembershipState::Invite]).await?.len();
        let rows = storage.unread_counts(user_id, self.joined(user_id).await?, i64::MAX).await?;
        let unread = if self.ctx.config.push.group_unread_count_by_room {
            let mut rooms: Vec<_> = rows.iter().map(|r| &r.room_id).collect();
            rooms.sort();
            rooms.dedup();
            rooms.len() as u64
        } else {
            rows.iter().map(|r| r.notifications).sum()
        };
        Ok(invites as u64 + unread)
    }
}
