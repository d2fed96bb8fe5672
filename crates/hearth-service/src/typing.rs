//! Typing notifications (spec: client-server-api "Typing Notifications"): who is typing in
//! each room, in memory only, each entry expiring after the timeout its client gave. A change
//! takes an ephemeral-stream position and wakes the room's long-polls; sync reports the whole
//! list of a room whose list changed since the client's token.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Weak},
    time::{Duration, Instant},
};

use hearth_core::{Error, Result};
use parking_lot::Mutex;
use ruma::{OwnedRoomId, OwnedUserId, RoomId, UserId, events::room::member::MembershipState};

use crate::{Ctx, ephemeral::EphemeralStream};

/// Longest a client may keep someone marked as typing with one request.
const MAX_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Default)]
struct RoomTyping {
    /// Who is typing, until when.
    users: BTreeMap<OwnedUserId, Instant>,
    /// Ephemeral-stream position of the last change of `users`.
    changed_at: u64,
}

type Rooms = Mutex<HashMap<OwnedRoomId, RoomTyping>>;

pub struct Service {
    ctx: Arc<Ctx>,
    stream: Arc<EphemeralStream>,
    rooms: Arc<Rooms>,
}

/// A room's typing users as sync reports them.
#[derive(Debug, Clone)]
pub struct RoomTypingState {
    pub user_ids: Vec<OwnedUserId>,
    /// Ephemeral-stream position of the last change.
    pub changed_at: u64,
}

impl Service {
    pub(crate) fn new(ctx: Arc<Ctx>, stream: Arc<EphemeralStream>) -> Self {
        Service { ctx, stream, rooms: Arc::default() }
    }

    /// `PUT /rooms/{roomId}/typing/{userId}`: only for oneself, only in a room one has joined.
    pub async fn set_typing(
        &self,
        sender: &UserId,
        user_id: &UserId,
        room_id: &RoomId,
        timeout: Option<Duration>,
    ) -> Result<()> {
        if sender != user_id {
            return Err(Error::forbidden("Cannot set typing notifications for other users"));
        }
        let joined = self.ctx.storage.membership(room_id, user_id).await?;
        if joined.is_none_or(|m| m.membership != MembershipState::Join) {
            return Err(Error::forbidden("You are not in this room"));
        }
        let changed = match timeout {
            Some(timeout) => self.start(room_id, user_id, timeout.min(MAX_TIMEOUT)),
            None => self.stop(room_id, user_id),
        };
        if changed {
            self.ctx.notifier.notify_room(room_id);
        }
        Ok(())
    }

    /// Who is typing in `room_id` now; `None` if nobody ever was since the start.
    pub fn room(&self, room_id: &RoomId) -> Option<RoomTypingState> {
        let now = Instant::now();
        let rooms = self.rooms.lock();
        let room = rooms.get(room_id)?;
        let user_ids = room.users.iter().filter(|(_, until)| **until > now);
        Some(RoomTypingState {
            user_ids: user_ids.map(|(u, _)| u.clone()).collect(),
            changed_at: room.changed_at,
        })
    }

    /// Mark as typing until `timeout` from now; whether the list changed.
    fn start(&self, room_id: &RoomId, user_id: &UserId, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        let changed = {
            let mut rooms = self.rooms.lock();
            let room = rooms.entry(room_id.to_owned()).or_default();
            let new = room.users.insert(user_id.to_owned(), until).is_none();
            if new {
                room.changed_at = self.stream.advance();
            }
            new
        };
        self.expire_later(room_id, user_id, until);
        changed
    }

    /// No longer typing; whether they were.
    fn stop(&self, room_id: &RoomId, user_id: &UserId) -> bool {
        let mut rooms = self.rooms.lock();
        let Some(room) = rooms.get_mut(room_id) else { return false };
        let removed = room.users.remove(user_id).is_some();
        if removed {
            room.changed_at = self.stream.advance();
        }
        removed
    }

    /// When the timeout passes, drop the entry (unless renewed since) and tell the room.
    fn expire_later(&self, room_id: &RoomId, user_id: &UserId, until: Instant) {
        let expiry = Expiry {
            ctx: Arc::downgrade(&self.ctx),
            rooms: Arc::downgrade(&self.rooms),
            stream: self.stream.clone(),
        };
        let (room_id, user_id) = (room_id.to_owned(), user_id.to_owned());
        tokio::spawn(async move {
            tokio::time::sleep_until(until.into()).await;
            expiry.run(&room_id, &user_id, until);
        });
    }
}

/// What an expiry timer needs, held weakly so a stopped server is not kept alive.
struct Expiry {
    ctx: Weak<Ctx>,
    rooms: Weak<Rooms>,
    stream: Arc<EphemeralStream>,
}

impl Expiry {
    fn run(&self, room_id: &RoomId, user_id: &UserId, until: Instant) {
        let (Some(ctx), Some(rooms)) = (self.ctx.upgrade(), self.rooms.upgrade()) else {
            return;
        };
        let removed = {
            let mut rooms = rooms.lock();
            let Some(room) = rooms.get_mut(room_id) else { return };
            let expired = room.users.get(user_id) == Some(&until);
            if expired {
                room.users.remove(user_id);
                room.changed_at = self.stream.advance();
            }
            expired
        };
        if removed {
            ctx.notifier.notify_room(room_id);
        }
    }
}
