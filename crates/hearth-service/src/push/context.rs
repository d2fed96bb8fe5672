//! What evaluating push rules needs about a room, kept by the evaluator between events: its
//! memberships (for `room_member_count`, display names and the local members to notify).
//!
//! A room is loaded once from the current memberships, then kept up to date from the member
//! events the evaluator walks through, so a 10,000-member room is read once, not per event.
//! Each entry remembers the stream position of its membership: an event older than what was
//! loaded changes nothing.

use std::{collections::HashMap, num::NonZeroUsize};

use hearth_core::Result;
use hearth_storage::Storage;
use lru::LruCache;
use ruma::{
    OwnedRoomId, OwnedUserId, RoomId, ServerName, UserId, events::room::member::MembershipState,
};

/// Rooms whose memberships are kept in memory.
const ROOM_CACHE: usize = 1024;

pub(super) struct Member {
    pub membership: MembershipState,
    pub display_name: Option<String>,
    /// Stream position of the event that set this membership.
    pub pos: i64,
}

#[derive(Default)]
pub(super) struct RoomMembers {
    members: HashMap<OwnedUserId, Member>,
    joined: u64,
}

impl RoomMembers {
    pub fn joined_count(&self) -> u64 {
        self.joined
    }

    pub fn get(&self, user: &UserId) -> Option<&Member> {
        self.members.get(user)
    }

    /// Joined members of `server`.
    pub fn local_joined<'a>(
        &'a self,
        server: &'a ServerName,
    ) -> impl Iterator<Item = (&'a OwnedUserId, &'a Member)> + 'a {
        self.members.iter().filter(move |(user, m)| {
            m.membership == MembershipState::Join && user.server_name() == server
        })
    }

    /// Apply a member event at `pos`, unless a later membership is already known.
    pub fn apply(&mut self, user: OwnedUserId, member: Member) {
        if self.members.get(&user).is_some_and(|m| m.pos >= member.pos) {
            return;
        }
        if member.membership == MembershipState::Join {
            self.joined += 1;
        }
        if let Some(old) = self.members.insert(user, member)
            && old.membership == MembershipState::Join
        {
            self.joined -= 1;
        }
    }
}

pub(super) struct RoomCache {
    rooms: LruCache<OwnedRoomId, RoomMembers>,
}

impl RoomCache {
    pub fn new() -> Self {
        RoomCache { rooms: LruCache::new(NonZeroUsize::new(ROOM_CACHE).expect("non-zero")) }
    }

    /// The room's memberships, loaded from the database when not in memory.
    pub async fn members(
        &mut self,
        storage: &dyn Storage,
        room_id: &RoomId,
    ) -> Result<&mut RoomMembers> {
        if self.rooms.contains(room_id) {
            return Ok(self.rooms.get_mut(room_id).expect("just checked"));
        }
        let mut room = RoomMembers::default();
        for m in storage.room_members(room_id, &[]).await? {
            let member = Member {
                membership: m.membership,
                display_name: m.display_name,
                pos: m.stream_pos,
            };
            room.apply(m.user_id, member);
        }
        Ok(self.rooms.get_or_insert_mut(room_id.to_owned(), || room))
    }
}
