//! Room state: state maps as persistent maps (cheap to copy, O(log n) to change), the cache of
//! state groups, and state resolution at forks.

use std::collections::{HashMap, HashSet};

use hearth_core::{Error, Result};
use hearth_storage::StateKey;
use ruma::{
    OwnedEventId, RoomId,
    events::StateEventType,
    room_version_rules::{RoomVersionRules, StateResolutionVersion},
    state_res::{self, utils::event_id_set::EventIdSet},
};

use super::{Service, pdu::PduRef, state_res_v1};

/// A room state: `(type, state_key) -> event ID`.
pub type StateMap = imbl::HashMap<StateKey, OwnedEventId>;

/// A state group as cached: its map and the length of its delta chain.
#[derive(Clone)]
pub struct CachedGroup {
    pub map: StateMap,
    pub chain_len: u32,
}

/// A room's state at a point, with the stored group holding it (when there is one).
#[derive(Clone, Default)]
pub struct StateAt {
    pub group: Option<i64>,
    pub map: StateMap,
}

impl Service {
    /// The state of stored group `group`.
    pub(crate) async fn state_at_group(&self, group: i64) -> Result<StateAt> {
        Ok(StateAt { group: Some(group), map: self.state_group(group).await?.map })
    }

    /// The state after the latest event of the room at or before stream position `pos` (empty
    /// before the room's first event).
    pub(crate) async fn state_at_pos(&self, room_id: &RoomId, pos: i64) -> Result<StateAt> {
        let record = self.ctx.storage.room_event_at(room_id, pos).await?;
        match record.and_then(|r| r.state_group_after) {
            Some(group) => self.state_at_group(group).await,
            None => Ok(StateAt::default()),
        }
    }

    /// The state of a stored group, composed from its snapshot and deltas (reusing cached
    /// groups lower in its chain).
    pub(crate) async fn state_group(&self, group: i64) -> Result<CachedGroup> {
        if let Some(cached) = self.groups.lock().get(&group) {
            return Ok(cached.clone());
        }
        let chain = self.ctx.storage.state_group_chain(group).await?;
        let cached_base = chain
            .iter()
            .enumerate()
            .find_map(|(i, g)| self.groups.lock().get(&g.id).map(|c| (i, c.clone())));
        let from_scratch = cached_base.is_none();
        let (mut map, upper) = match cached_base {
            Some((i, base)) => (base.map, i),
            None => (StateMap::new(), chain.len()),
        };
        for (i, record) in chain[..upper].iter().enumerate().rev() {
            for (key, id) in &record.entries {
                match id {
                    Some(id) => map.insert(key.clone(), id.clone()),
                    None => map.remove(key),
                };
            }
            // Keep the group asked for and, when rebuilt from scratch, its snapshot; not every
            // delta between them: a sync over hundreds of rooms would push out the groups it
            // needs with ones it does not.
            if i == 0 || (from_scratch && i == upper - 1) {
                self.cache_group(record.id, map.clone(), record.chain_len);
            }
        }
        let chain_len = chain.first().map(|g| g.chain_len).unwrap_or(0);
        Ok(CachedGroup { map, chain_len })
    }

    pub(crate) fn cache_group(&self, group: i64, map: StateMap, chain_len: u32) {
        self.groups.lock().put(group, CachedGroup { map, chain_len });
    }

    /// Resolve several states into one with the room version's algorithm (spec: rooms/v1
    /// and rooms/v2 "State resolution"; v2 and v2.1 from ruma, v1 by hand, see
    /// `state_res_v1`). `new` is an event being persisted, which the states may hold but which
    /// cannot be looked up yet.
    pub(crate) async fn resolve_states(
        &self,
        rules: &RoomVersionRules,
        states: Vec<StateMap>,
        new: Option<&PduRef>,
    ) -> Result<StateMap> {
        let Some(first) = states.first() else { return Ok(StateMap::new()) };
        if states.iter().all(|s| s == first) {
            return Ok(first.clone());
        }
        let roots: Vec<OwnedEventId> = states
            .iter()
            .flat_map(|s| s.values().cloned())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let events = self.load_auth_closure(roots, new).await?;
        let rules = rules.clone();
        tokio::task::spawn_blocking(move || match rules.state_res {
            StateResolutionVersion::V1 => {
                state_res_v1::resolve(&rules.authorization, &states, &events)
            }
            StateResolutionVersion::V2(ref v2) => resolve_v2(&rules, v2, &states, &events),
            _ => Err(Error::internal("unknown state resolution algorithm")),
        })
        .await
        .map_err(Error::internal)?
    }

    /// The events `roots` and every event in their auth chains.
    async fn load_auth_closure(
        &self,
        roots: Vec<OwnedEventId>,
        new: Option<&PduRef>,
    ) -> Result<HashMap<OwnedEventId, PduRef>> {
        let mut loaded: HashMap<OwnedEventId, PduRef> = HashMap::new();
        let mut frontier = roots;
        if let Some(pdu) = new {
            loaded.insert(pdu.event_id.clone(), pdu.clone());
            frontier.extend(pdu.auth_events.iter().cloned());
        }
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for id in frontier {
                if loaded.contains_key(&id) {
                    continue;
                }
                let Some(pdu) = self.pdu(&id).await? else { continue };
                next.extend(pdu.auth_events.iter().filter(|a| !loaded.contains_key(*a)).cloned());
                loaded.insert(id, pdu);
            }
            frontier = next;
        }
        Ok(loaded)
    }
}

pub(crate) fn to_ruma_map(state: &StateMap) -> state_res::StateMap<OwnedEventId> {
    state
        .iter()
        .map(|((t, k), id)| ((StateEventType::from(t.as_str()), k.clone()), id.clone()))
        .collect()
}

pub(crate) fn from_ruma_map(state: state_res::StateMap<OwnedEventId>) -> StateMap {
    state.into_iter().map(|((t, k), id)| ((t.to_string(), k), id)).collect()
}

/// The auth chain of a set of events: every event reachable through `auth_events`.
fn auth_chain<'a>(
    starts: impl Iterator<Item = &'a OwnedEventId>,
    events: &HashMap<OwnedEventId, PduRef>,
) -> EventIdSet<OwnedEventId> {
    let mut seen = HashSet::new();
    let mut stack: Vec<OwnedEventId> = starts
        .filter_map(|id| events.get(id))
        .flat_map(|e| e.auth_events.iter().cloned())
        .collect();
    while let Some(id) = stack.pop() {
        if seen.insert(id.clone())
            && let Some(e) = events.get(&id)
        {
            stack.extend(e.auth_events.iter().filter(|a| !seen.contains(*a)).cloned());
        }
    }
    seen.into_iter().collect()
}

fn resolve_v2(
    rules: &RoomVersionRules,
    v2: &ruma::room_version_rules::StateResolutionV2Rules,
    states: &[StateMap],
    events: &HashMap<OwnedEventId, PduRef>,
) -> Result<StateMap> {
    let maps: Vec<_> = states.iter().map(to_ruma_map).collect();
    let chains = states.iter().map(|s| auth_chain(s.values(), events)).collect();
    let fetch = |id: &ruma::EventId| events.get(id).cloned();
    let subgraph = |conflicted: &state_res::StateMap<Vec<OwnedEventId>>| {
        Some(conflicted_subgraph(conflicted.values().flatten(), events))
    };
    let resolved =
        state_res::resolve(&rules.authorization, v2, maps.iter(), chains, fetch, subgraph)
            .map_err(|e| Error::internal(format!("state resolution failed: {e}")))?;
    Ok(from_ruma_map(resolved))
}

/// Spec rooms/v12 "Conflicted state subgraph": the events on `auth_events` paths between two
/// events of the conflicted state set, endpoints included.
fn conflicted_subgraph<'a>(
    conflicted: impl Iterator<Item = &'a OwnedEventId>,
    events: &HashMap<OwnedEventId, PduRef>,
) -> EventIdSet<OwnedEventId> {
    let conflicted: HashSet<&OwnedEventId> = conflicted.collect();
    // Whether an event leads (through auth_events, itself included) to a conflicted event.
    let mut leads: HashMap<OwnedEventId, bool> = HashMap::new();
    fn visit(
        id: &OwnedEventId,
        conflicted: &HashSet<&OwnedEventId>,
        events: &HashMap<OwnedEventId, PduRef>,
        leads: &mut HashMap<OwnedEventId, bool>,
    ) -> bool {
        if let Some(known) = leads.get(id) {
            return *known;
        }
        leads.insert(id.clone(), false);
        let mut result = false;
        if let Some(e) = events.get(id) {
            for parent in &e.auth_events {
                result |= conflicted.contains(parent) | visit(parent, conflicted, events, leads);
            }
        }
        leads.insert(id.clone(), result);
        result
    }
    let mut subgraph = EventIdSet::new();
    for start in &conflicted {
        // The path from `start` to another conflicted event: every node on it leads there.
        let mut stack = vec![(*start).clone()];
        let mut seen = HashSet::new();
        while let Some(id) = stack.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            let on_path = id == **start && visit(&id, &conflicted, events, &mut leads)
                || conflicted.contains(&id)
                || visit(&id, &conflicted, events, &mut leads);
            if on_path {
                subgraph.insert(id.clone());
                if let Some(e) = events.get(&id) {
                    stack.extend(e.auth_events.iter().cloned());
                }
            }
        }
    }
    subgraph
}
