//! What evaluating push rules needs about a room, kept by the evaluator between events: its
//! memberships (for `room_member_count`, display names and the local members to notify).
//!
//! A room is loaded once from the current memberships, then kept up to date from the member
//! events the evaluator walks through, so a 10,000-member room is read once, not per event.
//! Each entry remembers the stream position of its membership: an event older than what was
//! loaded changes nothing.

use std::{
    collections::{HashMap, HashSet},
    num::NonZeroUsize,
};

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
    /// While joined: where the join began (a new display name is a join too, and keeps it).
    pub joined_since: Option<i64>,
}

impl Member {
    pub fn new(membership: MembershipState, display_name: Option<String>, pos: i64) -> Self {
        let joined_since = (membership == MembershipState::Join).then_some(pos);
        Member { membership, display_name, pos, joined_since }
    }

    /// Whether the member was joined at `pos` (and has been since).
    pub fn joined_at(&self, pos: i64) -> bool {
        self.membership == MembershipState::Join && self.joined_since.is_some_and(|j| j <= pos)
    }
}

#[derive(Default)]
pub(super) struct RoomMembers {
    members: HashMap<OwnedUserId, Member>,
    joined: u64,
    /// The push rules of every joined local member have been loaded once.
    pub rules_loaded: bool,
}

impl RoomMembers {
    /// The joined local members that are in `users`: one pass over the smaller set.
    pub fn joined_local_among(
        &self,
        users: &HashSet<OwnedUserId>,
        server: &ServerName,
    ) -> HashSet<OwnedUserId> {
        if users.len() < self.members.len() {
            let joined = |u: &&OwnedUserId| {
                u.server_name() == server
                    && self.members.get(*u).is_some_and(|m| m.membership == MembershipState::Join)
            };
            users.iter().filter(joined).cloned().collect()
        } else {
            self.local_joined(server)
                .map(|(u, _)| u)
                .filter(|u| users.contains(*u))
                .cloned()
                .collect()
        }
    }

    pub fn joined_count(&self) -> u64 {
        self.joined
    }

    pub fn get_entry(&self, user: &UserId) -> Option<(&OwnedUserId, &Member)> {
        self.members.get_key_value(user)
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
    pub fn apply(&mut self, user: OwnedUserId, mut member: Member) {
        let old = self.members.get(&user);
        if old.is_some_and(|m| m.pos >= member.pos) {
            return;
        }
        if let Some(since) = old.filter(|m| m.membership == MembershipState::Join)
            && member.membership == MembershipState::Join
        {
            member.joined_since = since.joined_since;
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
            let mut member = Member::new(m.membership, m.display_name, m.stream_pos);
            member.joined_since = m.joined_at.or(member.joined_since);
            room.apply(m.user_id, member);
        }
        Ok(self.rooms.get_or_insert_mut(room_id.to_owned(), || room))
    }
}

#[cfg(test)]
mod tests {
    use ruma::{owned_user_id, server_name};

    use super::*;

    fn member(membership: MembershipState, pos: i64) -> Member {
        Member::new(membership, None, pos)
    }

    #[test]
    fn older_member_events_change_nothing() {
        let mut room = RoomMembers::default();
        let alice = owned_user_id!("@alice:a");
        room.apply(alice.clone(), member(MembershipState::Join, 5));
        room.apply(owned_user_id!("@bob:b"), member(MembershipState::Join, 6));
        assert_eq!(room.joined_count(), 2);
        // Loaded state already has alice's leave at 9: her join at 5 arriving late is ignored.
        room.apply(alice.clone(), member(MembershipState::Leave, 9));
        room.apply(alice.clone(), member(MembershipState::Join, 5));
        assert_eq!(room.joined_count(), 1);
        assert_eq!(room.local_joined(server_name!("a")).count(), 0);
        room.apply(alice.clone(), member(MembershipState::Join, 10));
        assert_eq!(room.joined_count(), 2);
        assert_eq!(room.local_joined(server_name!("a")).count(), 1);
    }

    #[test]
    fn a_join_over_a_join_keeps_where_it_began() {
        let mut room = RoomMembers::default();
        let alice = owned_user_id!("@alice:a");
        room.apply(alice.clone(), member(MembershipState::Join, 5));
        // A new display name is a join at 8: alice has been joined since 5.
        room.apply(alice.clone(), member(MembershipState::Join, 8));
        let (_, m) = room.get_entry(&alice).unwrap();
        assert!(m.joined_at(6), "joined at 6, between the two joins");
        assert!(!m.joined_at(4));
        assert_eq!(room.joined_count(), 1);
        room.apply(alice.clone(), member(MembershipState::Leave, 9));
        room.apply(alice.clone(), member(MembershipState::Join, 12));
        let (_, m) = room.get_entry(&alice).unwrap();
        assert!(!m.joined_at(10), "away between 9 and 12");
        assert!(m.joined_at(12));
    }
}
