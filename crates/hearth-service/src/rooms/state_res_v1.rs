//! State resolution of room version 1 (spec: rooms/v1 "State resolution"), written by hand
//! because ruma implements only the v2 family. It is small: conflicts on power levels, then
//! join rules, then members are settled by walking the candidates in order and keeping each
//! one the authorization rules allow in the state so far; any other conflict takes the
//! deepest candidate that passes. As in Synapse, a key only some states have is not a
//! conflict, and when no candidate of another conflict passes, the shallowest is taken.

use std::collections::HashMap;

use hearth_core::Result;
use ruma::{
    OwnedEventId, events::StateEventType, room_version_rules::AuthorizationRules,
    state_res::check_state_dependent_auth_rules,
};
use sha1::{Digest, Sha1};

use super::{pdu::PduRef, state::StateMap};

pub(crate) fn resolve(
    rules: &AuthorizationRules,
    states: &[StateMap],
    events: &HashMap<OwnedEventId, PduRef>,
) -> Result<StateMap> {
    // R starts as the union of the states minus every key with several candidates.
    let mut candidates: HashMap<(String, String), Vec<OwnedEventId>> = HashMap::new();
    for state in states {
        for (key, id) in state {
            let list = candidates.entry(key.clone()).or_default();
            if !list.contains(id) {
                list.push(id.clone());
            }
        }
    }
    let mut resolved = StateMap::new();
    let mut conflicts = Vec::new();
    for (key, ids) in candidates {
        if ids.len() == 1 {
            resolved.insert(key, ids.into_iter().next().expect("one id"));
        } else {
            conflicts.push((key, ids));
        }
    }
    let pdus = |ids: &[OwnedEventId]| -> Vec<PduRef> {
        ids.iter().filter_map(|id| events.get(id).cloned()).collect()
    };
    // Power levels, join rules, then members: ascending depth, then descending sha1(event_id);
    // the first is taken, then each next one while it passes auth against R.
    for kind in ["m.room.power_levels", "m.room.join_rules", "m.room.member"] {
        for (key, ids) in conflicts.iter().filter(|(k, _)| k.0 == kind) {
            let mut list = pdus(ids);
            list.sort_by(|a, b| a.depth.cmp(&b.depth).then_with(|| sha1(b).cmp(&sha1(a))));
            for (i, pdu) in list.iter().enumerate() {
                if i > 0 && !allowed(rules, pdu, &resolved, events) {
                    break;
                }
                resolved.insert(key.clone(), pdu.event_id.clone());
            }
        }
    }
    // Everything else: the highest depth, then lowest sha1(event_id), that passes auth.
    for (key, ids) in conflicts.iter().filter(|(k, _)| {
        !["m.room.power_levels", "m.room.join_rules", "m.room.member"].contains(&k.0.as_str())
    }) {
        let mut list = pdus(ids);
        list.sort_by(|a, b| b.depth.cmp(&a.depth).then_with(|| sha1(a).cmp(&sha1(b))));
        let pick = list.iter().find(|p| allowed(rules, p, &resolved, events)).or(list.last());
        if let Some(pdu) = pick {
            resolved.insert(key.clone(), pdu.event_id.clone());
        }
    }
    Ok(resolved)
}

fn sha1(pdu: &PduRef) -> [u8; 20] {
    Sha1::digest(pdu.event_id.as_str().as_bytes()).into()
}

fn allowed(
    rules: &AuthorizationRules,
    pdu: &PduRef,
    state: &StateMap,
    events: &HashMap<OwnedEventId, PduRef>,
) -> bool {
    let fetch = |kind: &StateEventType, key: &str| {
        state.get(&(kind.to_string(), key.to_owned())).and_then(|id| events.get(id)).cloned()
    };
    check_state_dependent_auth_rules(rules, pdu, fetch).is_ok()
}
