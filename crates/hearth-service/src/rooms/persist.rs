//! The one path every event takes into the room, local or (later) received over federation
//! (spec: server-server-api "Checks performed on receipt of a PDU"): format, auth against its
//! auth events, auth against the state before it; then the state after it, its state groups,
//! the room's new current state, memberships and extremities, as one [`NewEvent`].

use std::collections::HashMap;

use hearth_core::{Error, Result};
use hearth_storage::{MAX_DELTA_CHAIN, MembershipUpdate, NewEvent, NewStateGroup, StateKey};
use ruma::{
    CanonicalJsonObject, OwnedDeviceId, OwnedEventId, OwnedTransactionId,
    events::{StateEventType, TimelineEventType, room::member::MembershipState},
    room_version_rules::RoomVersionRules,
    state_res::{self, check_state_dependent_auth_rules, check_state_independent_auth_rules},
};

use super::{Service, build::MAX_PDU_BYTES, head::RoomHead, pdu::PduRef, state::StateMap};

/// A state (before or after an event), and the stored group holding it, if there is one.
#[derive(Clone)]
pub(crate) struct GroupedState {
    pub map: StateMap,
    pub group: Option<i64>,
    pub chain_len: u32,
}

/// An event ready to be written, and the room head once it is.
pub(crate) struct Prepared {
    pub event: NewEvent,
    pub head: RoomHead,
    /// The state after the event, for events built on it before it commits.
    pub after: GroupedState,
    /// Groups created, to cache once committed.
    pub groups: Vec<(i64, StateMap, u32)>,
}

impl Service {
    /// Check `pdu` and work out everything persisting it changes. Fails with `M_FORBIDDEN`
    /// (nothing is stored) if the authorization rules reject it.
    pub(crate) async fn prepare_persist(
        &self,
        head: &RoomHead,
        pdu: &PduRef,
        before: GroupedState,
        txn: Option<(OwnedDeviceId, OwnedTransactionId)>,
    ) -> Result<Prepared> {
        let rules = &head.rules;
        let json = pdu.canonical_string();
        check_format(&pdu.json, json.len(), rules)?;
        self.check_auth(head, pdu, &before.map).await?;

        let mut groups = Vec::new();
        let mut new_groups = Vec::new();
        let group_before = match before.group {
            Some(g) => g,
            None => {
                let g =
                    self.new_state_group(head, None, 0, &before.map, None, &mut new_groups).await?;
                groups.push((g, before.map.clone(), 0));
                g
            }
        };
        let key = pdu.state_key_pair();
        let (after, group_after, chain_after, replaces) = match &key {
            None => (before.map.clone(), group_before, before.chain_len, None),
            Some(key) => {
                let replaces = before.map.get(key).cloned();
                let mut after = before.map.clone();
                after.insert(key.clone(), pdu.event_id.clone());
                let chain = before.chain_len + 1;
                let delta = (key.clone(), pdu.event_id.clone());
                let g = self
                    .new_state_group(
                        head,
                        Some(group_before),
                        chain,
                        &after,
                        Some(delta),
                        &mut new_groups,
                    )
                    .await?;
                let chain = new_groups.last().map(|n| n.chain_len).unwrap_or(chain);
                groups.push((g, after.clone(), chain));
                (after, g, chain, replaces)
            }
        };

        let (new_head, delta) =
            self.advance_head(head, pdu, &after, group_after, chain_after, &key).await?;
        let membership_updates = self.membership_updates(pdu, &delta).await?;
        let join_rule = self.state_field_change(pdu, &delta, &JOIN_RULE).await?;
        let history_visibility = self.state_field_change(pdu, &delta, &HISTORY_VISIBILITY).await?;
        let event = NewEvent {
            event_id: pdu.event_id.clone(),
            room_id: pdu.room_id.clone(),
            json,
            depth: pdu.depth.min(i64::MAX as u64) as i64,
            kind: pdu.kind.to_string(),
            state_key: pdu.state_key.clone(),
            sender: pdu.sender.clone(),
            origin_server_ts: u64::from(pdu.origin_server_ts.0) as i64,
            prev_events: pdu.prev_events.clone(),
            redacts: pdu.redacts.clone(),
            replaces_state: replaces,
            new_state_groups: new_groups,
            state_group_before: group_before,
            state_group_after: group_after,
            current_state_delta: delta,
            membership_updates,
            join_rule,
            history_visibility,
            forward_extremities: new_head.extremities.clone(),
            txn,
            new_room: None,
            relation: crate::relations::new_relation(pdu),
        };
        let after = GroupedState { map: after, group: Some(group_after), chain_len: chain_after };
        Ok(Prepared { event, head: new_head, after, groups })
    }

    /// Authorization: the state-independent rules, then the state-dependent rules against the
    /// event's auth events and against the state before it.
    async fn check_auth(&self, head: &RoomHead, pdu: &PduRef, before: &StateMap) -> Result<()> {
        let rules = &head.rules.authorization;
        let forbidden = |e: String| Error::forbidden(format!("Event not allowed: {e}"));
        let mut auth: HashMap<OwnedEventId, PduRef> = HashMap::new();
        let mut wanted = pdu.auth_events.clone();
        if rules.room_create_event_id_as_room_id && pdu.kind != TimelineEventType::RoomCreate {
            // Since v12 the create event is found through the room ID.
            wanted.push(OwnedEventId::try_from(format!("${}", pdu.room_id.strip_sigil()))?);
        }
        for id in wanted {
            if let Some(event) = self.pdu(&id).await? {
                auth.insert(id, event);
            }
        }
        check_state_independent_auth_rules(rules, &**pdu, |id| auth.get(id).cloned())
            .map_err(forbidden)?;
        if pdu.kind == TimelineEventType::RoomCreate {
            return Ok(());
        }
        let by_key: HashMap<(String, String), PduRef> = pdu
            .auth_events
            .iter()
            .filter_map(|id| auth.get(id))
            .filter_map(|e| e.state_key_pair().map(|k| (k, e.clone())))
            .collect();
        let create_key = ("m.room.create".to_owned(), String::new());
        let create = auth.values().find(|e| e.kind == TimelineEventType::RoomCreate).cloned();
        let fetch_auth = |kind: &StateEventType, key: &str| {
            let k = (kind.to_string(), key.to_owned());
            by_key.get(&k).cloned().or_else(|| (k == create_key).then(|| create.clone()).flatten())
        };
        check_state_dependent_auth_rules(rules, &**pdu, fetch_auth).map_err(forbidden)?;

        let types = state_res::auth_types_for_event(
            &pdu.kind,
            &pdu.sender,
            pdu.state_key.as_deref(),
            &pdu.content,
            rules,
        )
        .map_err(|e| Error::bad_json(format!("Invalid event: {e}")))?;
        let mut from_state: HashMap<StateKey, PduRef> = HashMap::new();
        for (kind, key) in types.into_iter().chain([(StateEventType::RoomCreate, String::new())]) {
            let k = (kind.to_string(), key);
            if let Some(id) = before.get(&k)
                && let Some(event) = self.pdu(id).await?
            {
                from_state.insert(k, event);
            }
        }
        let fetch_state = |kind: &StateEventType, key: &str| {
            from_state.get(&(kind.to_string(), key.to_owned())).cloned()
        };
        check_state_dependent_auth_rules(rules, &**pdu, fetch_state).map_err(forbidden)
    }

    /// Store `map` as a new group: a delta over `prev` when the chain allows, else a snapshot.
    async fn new_state_group(
        &self,
        head: &RoomHead,
        prev: Option<i64>,
        chain_len: u32,
        map: &StateMap,
        delta: Option<(StateKey, OwnedEventId)>,
        out: &mut Vec<NewStateGroup>,
    ) -> Result<i64> {
        let id = self.next_state_group().await?;
        let group = match (prev, delta) {
            (Some(prev), Some((key, event))) if chain_len <= MAX_DELTA_CHAIN => NewStateGroup {
                id,
                room_id: head.room_id.clone(),
                prev_group: Some(prev),
                chain_len,
                entries: vec![(key, Some(event))],
            },
            _ => NewStateGroup {
                id,
                room_id: head.room_id.clone(),
                prev_group: None,
                chain_len: 0,
                entries: map.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect(),
            },
        };
        out.push(group);
        Ok(id)
    }

    /// The room head after `pdu`, and the change to the room's current state.
    async fn advance_head(
        &self,
        head: &RoomHead,
        pdu: &PduRef,
        after: &StateMap,
        group_after: i64,
        chain_after: u32,
        key: &Option<StateKey>,
    ) -> Result<(RoomHead, Vec<(StateKey, Option<OwnedEventId>)>)> {
        let mut extremities: Vec<OwnedEventId> =
            head.extremities.iter().filter(|e| !pdu.prev_events.contains(e)).cloned().collect();
        extremities.push(pdu.event_id.clone());
        let mut new_head =
            RoomHead { extremities, depth: head.depth.max(pdu.depth), ..head.clone() };
        let on_head = head.extremities.len() == pdu.prev_events.len()
            && head.extremities.iter().all(|e| pdu.prev_events.contains(e));
        if new_head.extremities.len() == 1 {
            // The usual case: the event extends the only extremity. Built on the head, its
            // state before is the current state, so only its own key changes.
            let delta = if on_head {
                key.iter().map(|k| (k.clone(), Some(pdu.event_id.clone()))).collect()
            } else {
                diff(&head.state, after)
            };
            new_head.state = after.clone();
            new_head.state_group = Some(group_after);
            new_head.chain_len = chain_after;
            return Ok((new_head, delta));
        }
        // A fork: the current state is the resolution of the states after every extremity.
        let mut states = Vec::new();
        for id in &new_head.extremities {
            if *id == pdu.event_id {
                states.push(after.clone());
            } else {
                states.push(self.state_after(id).await?.map);
            }
        }
        let resolved = self.resolve_states(&head.rules, states, Some(pdu)).await?;
        let delta = diff(&head.state, &resolved);
        new_head.state = resolved;
        new_head.state_group = None;
        new_head.chain_len = 0;
        Ok((new_head, delta))
    }

    /// The state after an event, stored or still committing.
    pub(crate) async fn state_after(&self, event_id: &OwnedEventId) -> Result<GroupedState> {
        if let Some((_, after)) = self.pending.lock().get(event_id) {
            return Ok(after.clone());
        }
        let record = self
            .ctx
            .storage
            .get_event(event_id)
            .await?
            .ok_or_else(|| Error::internal(format!("event {event_id} is missing")))?;
        let group = record
            .state_group_after
            .ok_or_else(|| Error::internal(format!("event {event_id} has no state")))?;
        let cached = self.state_group(group).await?;
        Ok(GroupedState { map: cached.map, group: Some(group), chain_len: cached.chain_len })
    }

    async fn membership_updates(
        &self,
        pdu: &PduRef,
        delta: &[(StateKey, Option<OwnedEventId>)],
    ) -> Result<Vec<MembershipUpdate>> {
        let mut out = Vec::new();
        for ((kind, user), id) in delta {
            let (Some(id), "m.room.member") = (id, kind.as_str()) else { continue };
            let event = if *id == pdu.event_id { Some(pdu.clone()) } else { self.pdu(id).await? };
            let Some(event) = event else { continue };
            let Ok(user_id) = ruma::OwnedUserId::try_from(user.as_str()) else { continue };
            let content = event.content_value();
            let text = |k: &str| content.get(k).and_then(|v| v.as_str()).map(str::to_owned);
            out.push(MembershipUpdate {
                user_id,
                membership: MembershipState::from(text("membership").unwrap_or_default()),
                event_id: id.clone(),
                sender: event.sender.clone(),
                display_name: text("displayname"),
                avatar_url: text("avatar_url"),
            });
        }
        Ok(out)
    }
}

impl Service {
    /// The room's new value of one state field (its join rule, its history visibility)
    /// when the change to its current state includes the event holding it.
    async fn state_field_change(
        &self,
        pdu: &PduRef,
        delta: &[(StateKey, Option<OwnedEventId>)],
        field: &StateField,
    ) -> Result<Option<String>> {
        let change = delta.iter().find(|((kind, key), _)| kind == field.kind && key.is_empty());
        let Some((_, id)) = change else { return Ok(None) };
        let event = match id {
            Some(id) if *id == pdu.event_id => Some(pdu.clone()),
            Some(id) => self.pdu(id).await?,
            None => None,
        };
        let value = event.and_then(|e| e.content_value()[field.key].as_str().map(str::to_owned));
        Ok(Some(value.unwrap_or_else(|| field.default.to_owned())))
    }
}

/// A field of a state event the `rooms` table keeps current, and its value without the event.
struct StateField {
    kind: &'static str,
    key: &'static str,
    default: &'static str,
}

/// A room without join rules is invite-only (spec: "m.room.join_rules").
const JOIN_RULE: StateField =
    StateField { kind: "m.room.join_rules", key: "join_rule", default: "invite" };
/// Without the event history is `shared` (spec: "m.room.history_visibility").
const HISTORY_VISIBILITY: StateField =
    StateField { kind: "m.room.history_visibility", key: "history_visibility", default: "shared" };

/// The PDU's size, then its format as ruma checks it (spec: client-server-api "Size limits": at
/// most 65,536 bytes as canonical JSON, signatures included). ruma's own size check refuses
/// exactly 65,536 bytes, so at that size it sees the PDU without its signatures.
pub(crate) fn check_format(
    json: &CanonicalJsonObject,
    len: usize,
    rules: &RoomVersionRules,
) -> Result<()> {
    if len > MAX_PDU_BYTES {
        return Err(Error::too_large("Event is larger than 65536 bytes"));
    }
    let format = |json: &CanonicalJsonObject| {
        state_res::check_pdu_format(json, &rules.event_format)
            .map_err(|e| Error::bad_json(format!("Invalid event: {e}")))
    };
    if len < MAX_PDU_BYTES {
        return format(json);
    }
    let mut unsigned = json.clone();
    unsigned.remove("signatures");
    format(&unsigned)
}

/// What changes from `old` to `new`.
fn diff(old: &StateMap, new: &StateMap) -> Vec<(StateKey, Option<OwnedEventId>)> {
    let mut out: Vec<_> = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), Some(v.clone())))
        .collect();
    out.extend(old.keys().filter(|k| !new.contains_key(*k)).map(|k| (k.clone(), None)));
    out
}
