//! The user's rooms as lists see them (MSC4186 "Lists", "Activity ordering"), the windows of
//! each list and the subscribed rooms: which rooms a response may carry, with which config.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use hearth_core::Result;
use hearth_storage::MembershipRecord;
use ruma::{OwnedRoomId, events::room::member::MembershipState};
use serde_json::Value;

use super::{config::RoomConfig, pass::Pass};

/// A room the user has a membership in, as lists sort it.
pub struct Candidate {
    pub membership: MembershipRecord,
    /// The position of the latest event the user may see there (for a room they are not
    /// joined to, their membership event: they see nothing after it).
    pub latest: i64,
    /// MSC4186 `bump_stamp`: the latest "proper" activity in a joined room (see
    /// `hearth_storage::BUMP_EVENT_TYPES`), else the membership event.
    pub bump: i64,
}

/// A room of the response's scope.
pub struct Selected {
    pub membership: MembershipRecord,
    pub config: RoomConfig,
    pub latest: i64,
    pub bump: i64,
}

/// Which rooms a pass looks at.
#[derive(Default)]
pub struct Selection {
    /// Each list's count and the rooms in its windows.
    pub lists: BTreeMap<String, (usize, Vec<OwnedRoomId>)>,
    /// Subscribed rooms the user may see.
    pub subscribed: BTreeSet<OwnedRoomId>,
    pub rooms: BTreeMap<OwnedRoomId, Selected>,
}

impl Pass<'_> {
    /// The rooms lists draw from, most recent activity first. Left out (MSC4186): rooms the
    /// user left themselves, unless they left since the client's `pos` and the connection had
    /// the room; invites from ignored users (spec: "Ignoring Users"); memberships newer than
    /// this pass (the next one reports them).
    pub async fn candidates(&self) -> Result<Vec<Candidate>> {
        let storage = &self.services.ctx.storage;
        let memberships = storage.rooms_for_user(self.user, &[]).await?;
        let kept: Vec<MembershipRecord> =
            memberships.into_iter().filter(|m| self.listed(m)).collect();
        let joined: Vec<OwnedRoomId> = kept
            .iter()
            .filter(|m| m.membership == MembershipState::Join)
            .map(|m| m.room_id.clone())
            .collect();
        let activity: HashMap<OwnedRoomId, (Option<i64>, Option<i64>)> = storage
            .room_activity(joined, self.to_pos)
            .await?
            .into_iter()
            .map(|a| (a.room_id, (a.latest, a.bump)))
            .collect();
        let mut out: Vec<Candidate> = kept
            .into_iter()
            .map(|m| {
                let (latest, bump) = activity.get(&m.room_id).copied().unwrap_or_default();
                let own = m.stream_pos;
                Candidate {
                    latest: latest.unwrap_or(own),
                    bump: bump.unwrap_or(own),
                    membership: m,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.bump.cmp(&a.bump).then_with(|| a.membership.room_id.cmp(&b.membership.room_id))
        });
        Ok(out)
    }

    fn listed(&self, m: &MembershipRecord) -> bool {
        if m.stream_pos > self.to_pos {
            return false;
        }
        match m.membership {
            MembershipState::Invite => !self.ignored.contains(&m.sender),
            MembershipState::Leave if m.sender == self.user => {
                let newly_left = self.since.is_some_and(|s| m.stream_pos > s.pos);
                newly_left && self.prev.rooms.contains_key(&m.room_id)
            }
            _ => true,
        }
    }

    /// Rooms in the user's `m.direct` account data (spec: "Direct Messaging").
    pub async fn dm_rooms(&self) -> Result<HashSet<OwnedRoomId>> {
        let storage = &self.services.ctx.storage;
        let Some(data) = storage.get_account_data(self.user, None, "m.direct").await? else {
            return Ok(HashSet::new());
        };
        let value: Value = serde_json::from_str(data.get()).unwrap_or_default();
        Ok(value
            .as_object()
            .into_iter()
            .flat_map(|users| users.values())
            .filter_map(Value::as_array)
            .flatten()
            .filter_map(|room| room.as_str().and_then(|r| OwnedRoomId::try_from(r).ok()))
            .collect())
    }

    /// Each list's windows over its filtered rooms, then the subscriptions; a room in several
    /// gets the union of their configs.
    pub async fn select(
        &self,
        candidates: Vec<Candidate>,
        dms: &HashSet<OwnedRoomId>,
    ) -> Result<Selection> {
        let data = self.filter_data(&candidates).await?;
        let mut selection = Selection::default();
        let mut configs: HashMap<OwnedRoomId, RoomConfig> = HashMap::new();
        for list in &self.req.lists {
            let matching: Vec<&Candidate> =
                candidates.iter().filter(|c| list.filters.allows(c, dms, &data)).collect();
            let (mut in_range, mut seen) = (Vec::new(), HashSet::new());
            for (start, end) in &list.ranges {
                let window = matching.iter().skip(*start).take(end.saturating_sub(*start) + 1);
                for c in window {
                    let id = &c.membership.room_id;
                    if seen.insert(id) {
                        in_range.push(id.clone());
                    }
                    let config = configs.entry(id.clone()).or_default();
                    *config = config.union(&list.config);
                }
            }
            selection.lists.insert(list.key.clone(), (matching.len(), in_range));
        }
        let mut by_id: HashMap<OwnedRoomId, Candidate> =
            candidates.into_iter().map(|c| (c.membership.room_id.clone(), c)).collect();
        for (room, config) in &self.req.subscriptions {
            if !by_id.contains_key(room) {
                match self.subscribable(room).await? {
                    Some(c) => by_id.insert(room.clone(), c),
                    // Rooms the user may not see, or that do not exist, are ignored (MSC4186).
                    None => continue,
                };
            }
            selection.subscribed.insert(room.clone());
            let entry = configs.entry(room.clone()).or_default();
            *entry = entry.union(config);
        }
        for (room, config) in configs {
            let Some(c) = by_id.remove(&room) else { continue };
            let selected =
                Selected { membership: c.membership, config, latest: c.latest, bump: c.bump };
            selection.rooms.insert(room, selected);
        }
        Ok(selection)
    }

    /// A subscribed room that no list would show (one the user left): the user may still see
    /// it up to their leave. Forgotten rooms and rooms never entered are not.
    async fn subscribable(&self, room: &OwnedRoomId) -> Result<Option<Candidate>> {
        let storage = &self.services.ctx.storage;
        let Some(m) = storage.membership(room, self.user).await? else { return Ok(None) };
        if m.forgotten || m.stream_pos > self.to_pos {
            return Ok(None);
        }
        if m.membership == MembershipState::Invite && self.ignored.contains(&m.sender) {
            return Ok(None);
        }
        Ok(Some(Candidate { latest: m.stream_pos, bump: m.stream_pos, membership: m }))
    }
}
