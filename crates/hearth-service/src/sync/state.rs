//! The state section of a room (spec: `/sync` `state` and `state_after`, "Lazy-loading room
//! members"): the state at the start (or, with `use_state_after`, the end) of the timeline,
//! less what the client already has at its `since`.

use std::collections::{HashMap, HashSet};

use hearth_core::Result;
use hearth_storage::StateKey;
use ruma::{
    OwnedEventId, OwnedUserId, RoomId, api::client::filter::LazyLoadOptions,
    events::TimelineEventType,
};
use serde_json::value::RawValue;

use super::{Pass, filter::room_allowed, timeline::TimelineSlice};
pub use crate::rooms::StateAt;
use crate::rooms::{StateMap, matches_filter};

const MEMBER: &str = "m.room.member";

pub struct StateRequest<'a> {
    pub room_id: &'a RoomId,
    pub timeline: &'a TimelineSlice,
    /// The state the client has (at its `since`); `None` when it knows nothing of the room.
    pub previous: Option<&'a StateAt>,
    /// The state at the end of the timeline.
    pub end: &'a StateAt,
    /// Users whose membership must be sent when lazy-loading (heroes).
    pub heroes: &'a [OwnedUserId],
}

impl Pass<'_> {
    pub async fn state_at(&self, room_id: &RoomId, pos: i64) -> Result<StateAt> {
        self.services.rooms.state_at_pos(room_id, pos).await
    }

    async fn group(&self, group: i64) -> Result<StateAt> {
        self.services.rooms.state_at_group(group).await
    }

    /// The state at the start of the timeline (at `end` when it is empty).
    async fn start_of(&self, timeline: &TimelineSlice, end: &StateAt) -> Result<StateAt> {
        match timeline.events.first().and_then(|(r, _)| r.state_group_before) {
            Some(group) => self.group(group).await,
            None => Ok(end.clone()),
        }
    }

    /// The state at the end of a timeline ending at `upto`.
    pub async fn end_of(
        &self,
        room_id: &RoomId,
        timeline: &TimelineSlice,
        upto: i64,
    ) -> Result<StateAt> {
        match timeline.events.last().and_then(|(r, _)| r.state_group_after) {
            Some(group) => self.group(group).await,
            None => self.state_at(room_id, upto).await,
        }
    }

    /// The state events to send for a room, rendered.
    pub async fn room_state(&self, req: StateRequest<'_>) -> Result<Vec<Box<RawValue>>> {
        let filter = &self.filter.room.state;
        if !room_allowed(&filter.rooms, &filter.not_rooms, req.room_id) {
            return Ok(Vec::new());
        }
        let base = if self.use_state_after {
            req.end.clone()
        } else {
            self.start_of(req.timeline, req.end).await?
        };
        let changed: Vec<(StateKey, OwnedEventId)> = match req.previous {
            Some(prev) if prev.group.is_some() && prev.group == base.group => Vec::new(),
            Some(prev) => base
                .map
                .iter()
                .filter(|(k, v)| prev.map.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            None => base.map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        };
        let chosen = match filter.lazy_load_options {
            LazyLoadOptions::Enabled { include_redundant_members } => {
                self.lazy_members(&req, &base.map, changed, include_redundant_members)
            }
            LazyLoadOptions::Disabled => changed,
        };
        let mut events = self.load_events(chosen.into_iter().map(|(_, id)| id).collect()).await?;
        events.retain(|(record, pdu)| !record.rejected && matches_filter(pdu, filter));
        events.sort_by_key(|(r, _)| r.stream_pos);
        if !filter.lazy_load_options.is_disabled() {
            self.remember_members(req.room_id, &events, req.timeline);
        }
        self.render_all(&events).await
    }

    /// Lazy loading: all changed non-member state; member events of the timeline's senders,
    /// of the heroes and (when the client is new to the room) of the user, unless the device
    /// already has them; and in a gappy incremental sync every member change in the gap
    /// (spec: `/sync` "When a sync is limited...").
    fn lazy_members(
        &self,
        req: &StateRequest<'_>,
        base: &StateMap,
        changed: Vec<(StateKey, OwnedEventId)>,
        include_redundant: bool,
    ) -> Vec<(StateKey, OwnedEventId)> {
        let mut wanted: HashSet<String> =
            req.timeline.events.iter().map(|(_, pdu)| pdu.sender.to_string()).collect();
        wanted.extend(req.heroes.iter().map(|h| h.to_string()));
        if req.previous.is_none() {
            wanted.insert(self.user.to_string());
        }
        let gap = req.previous.is_some() && req.timeline.limited;
        let mut chosen: HashMap<StateKey, OwnedEventId> = changed
            .into_iter()
            .filter(|((kind, key), _)| kind != MEMBER || gap || wanted.contains(key))
            .collect();
        for member in wanted {
            let key = (MEMBER.to_owned(), member);
            let Some(id) = base.get(&key) else { continue };
            if chosen.contains_key(&key) {
                continue;
            }
            let redundant = self.svc.lazy.has(self.user, self.device, req.room_id, &key.1, id);
            if include_redundant || !redundant {
                chosen.insert(key, id.clone());
            }
        }
        chosen.into_iter().collect()
    }

    /// The member events this device now has: those just sent in state and in the timeline.
    fn remember_members(
        &self,
        room_id: &RoomId,
        state: &[(hearth_storage::EventRecord, crate::rooms::PduRef)],
        timeline: &TimelineSlice,
    ) {
        let members = state.iter().chain(&timeline.events).filter_map(|(_, pdu)| {
            (pdu.kind == TimelineEventType::RoomMember)
                .then(|| pdu.state_key.as_deref().map(|k| (k, &pdu.event_id)))
                .flatten()
        });
        self.svc.lazy.record(self.user, self.device, room_id, members);
    }
}
