//! A room's `required_state` (MSC4186 `RequiredStateRequest`): on a room's first sending, the
//! current state entries the config asks for; afterwards, those of them that changed since the
//! client's copy, plus what a grown config newly asks for. With `$LAZY`, the member events of
//! the timeline's senders and targets the client does not have yet ("Lazy loaded
//! memberships"), and, when the timeline has no gap, every membership change.

use std::collections::{HashMap, HashSet};

use hearth_core::Result;
use hearth_storage::{EventRecord, StateKey};
use ruma::{OwnedEventId, RoomId, events::TimelineEventType};

use super::{
    config::{MEMBER, RequiredState},
    pass::Pass,
};
use crate::rooms::PduRef;
pub use crate::rooms::StateAt;

pub struct StateRequest<'a> {
    pub required: &'a RequiredState,
    /// The current state (for a room the user left, the state at their leave).
    pub end: &'a StateAt,
    /// The state of the client's copy; `None` when it has none.
    pub previous: Option<&'a StateAt>,
    /// The config the room was last sent with, when it now asks for more.
    pub expanded_from: Option<&'a RequiredState>,
    pub timeline: &'a [(EventRecord, PduRef)],
    /// The timeline leaves out events since the client's copy.
    pub limited: bool,
    /// Member events the client has, by user.
    pub members_sent: &'a imbl::HashMap<String, OwnedEventId>,
}

impl Pass<'_> {
    pub async fn state_at(&self, room_id: &RoomId, pos: i64) -> Result<StateAt> {
        self.services.rooms.state_at_pos(room_id, pos).await
    }

    /// Whether the user was joined to the room at `pos`.
    pub async fn was_joined(&self, room_id: &RoomId, pos: i64) -> Result<bool> {
        let state = self.state_at(room_id, pos).await?;
        let Some(id) = state.map.get(&(MEMBER.to_owned(), self.user.to_string())) else {
            return Ok(false);
        };
        let pdu = self.services.rooms.pdu(id).await?;
        Ok(pdu.is_some_and(|p| p.content_value()["membership"] == "join"))
    }
}

/// The state keys that differ between the client's copy and `end` (all of `end` for a client
/// without a copy). Entries removed from the state are not reported (ruma's response type has
/// no stub for them).
pub fn changed_keys(previous: Option<&StateAt>, end: &StateAt) -> HashSet<StateKey> {
    match previous {
        Some(prev) if prev.group.is_some() && prev.group == end.group => HashSet::new(),
        Some(prev) => end
            .map
            .iter()
            .filter(|(k, v)| prev.map.get(*k) != Some(*v))
            .map(|(k, _)| k.clone())
            .collect(),
        None => end.map.keys().cloned().collect(),
    }
}

/// The state entries to send.
pub fn required_state(
    req: &StateRequest<'_>,
    changed: &HashSet<StateKey>,
) -> HashMap<StateKey, OwnedEventId> {
    let lazy = req.required.lazy_members();
    let mut chosen: HashMap<StateKey, OwnedEventId> = HashMap::new();
    let gapless_members = lazy && req.previous.is_some() && !req.limited;
    for key in changed {
        let wanted = req.required.matches(&key.0, &key.1) || (gapless_members && key.0 == MEMBER);
        if wanted && let Some(id) = req.end.map.get(key) {
            chosen.insert(key.clone(), id.clone());
        }
    }
    if let Some(before) = req.expanded_from {
        for (key, id) in req.end.map.iter() {
            if req.required.matches(&key.0, &key.1) && !before.matches(&key.0, &key.1) {
                chosen.insert(key.clone(), id.clone());
            }
        }
    }
    if lazy {
        for user in timeline_members(req.timeline) {
            let key = (MEMBER.to_owned(), user);
            let Some(id) = req.end.map.get(&key) else { continue };
            if !chosen.contains_key(&key) && req.members_sent.get(&key.1) != Some(id) {
                chosen.insert(key, id.clone());
            }
        }
    }
    chosen
}

/// Users the timeline shows: senders, and targets of membership events.
fn timeline_members(timeline: &[(EventRecord, PduRef)]) -> HashSet<String> {
    let mut users = HashSet::new();
    for (_, pdu) in timeline {
        users.insert(pdu.sender.to_string());
        if pdu.kind == TimelineEventType::RoomMember
            && let Some(target) = &pdu.state_key
        {
            users.insert(target.clone());
        }
    }
    users
}
