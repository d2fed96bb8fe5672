//! Receiving a PDU built by another server, the entry federation will use (spec:
//! server-server-api "Checks performed on receipt of a PDU"): format and size, signatures and
//! content hash (an event whose hash does not match is redacted), then the same persist path as
//! local events, with the state before it resolved from the states after its `prev_events`.
//!
//! Not yet: fetching missing `prev_events`/`auth_events` (backfill, outliers) and other
//! servers' keys (501, nothing stored); storing rejected events (`M_FORBIDDEN`, nothing
//! stored); soft-failing (step 6): an event that passes against the state before it is
//! accepted even when it fails against the room's current state. TODO(federation).

use std::sync::Arc;

use hearth_core::{Error, Result};
use http::StatusCode;
use ruma::{
    CanonicalJsonObject, CanonicalJsonValue, EventId, OwnedEventId, RoomId,
    api::error::ErrorKind,
    canonical_json::redact,
    room_version_rules::{EventIdFormatVersion, RoomVersionRules},
    signatures::{Verified, reference_hash},
};

use super::{
    Service,
    head::RoomHead,
    pdu::{Pdu, PduRef},
    persist::{GroupedState, check_format},
};

impl Service {
    /// Check and persist a PDU built elsewhere (signed, with its own `prev_events`,
    /// `auth_events` and `depth`), as federation delivers it. Returns its event ID; receiving
    /// an event already stored does nothing. An event the authorization rules reject is
    /// refused with `M_FORBIDDEN` and nothing is stored.
    pub async fn receive_pdu(&self, json: CanonicalJsonObject) -> Result<OwnedEventId> {
        let room_id = match json.get("room_id") {
            Some(CanonicalJsonValue::String(s)) => RoomId::parse(s)
                .map_err(|e| Error::bad_json(format!("Invalid event: bad `room_id`: {e}")))?,
            _ => return Err(Error::bad_json("Invalid event: `room_id` is missing")),
        };
        let Some((_, rules)) = self.room_version(&room_id).await? else {
            return Err(needs_federation(format!("The room {room_id} is not known here")));
        };
        let len = serde_json::to_string(&json)?.len();
        check_format(&json, len, &rules)?;
        let event_id = event_id_of(&json, &rules)?;
        let json = match self.keys.verify_event(&json, &rules)? {
            Verified::All => json,
            // Spec: an event whose content hash does not match is redacted, then processed.
            Verified::Signatures => redact(json, &rules.redaction, None)
                .map_err(|e| Error::bad_json(format!("Invalid event: {e}")))?,
        };
        if self.pdu(&event_id).await?.is_some() {
            return Ok(event_id);
        }
        let pdu = Arc::new(Pdu::from_json(event_id.clone(), json, &rules)?);
        if pdu.prev_events.is_empty() {
            return Err(Error::bad_json("Invalid event: no `prev_events`"));
        }
        for id in pdu.prev_events.iter().chain(&pdu.auth_events) {
            if self.pdu(id).await?.is_none() {
                return Err(needs_federation(format!(
                    "The event refers to {id}, which this server does not have"
                )));
            }
        }

        let slot = self.slot(&room_id);
        let mut guard = slot.lock().await;
        if self.pdu(&event_id).await?.is_some() {
            // The same event, received concurrently, was persisted while we waited.
            return Ok(event_id);
        }
        let head = self.loaded_head(&mut guard, &room_id).await?.clone();
        let before = self.state_before(&head, &pdu).await?;
        let prepared = self.prepare_persist(&head, &pdu, before, None).await?;
        self.commit_locked(&mut guard, prepared, &pdu).await?;
        Ok(event_id)
    }

    /// The state before a received event: the state after its prev event, or the resolution
    /// of the states after each of them (spec: rooms/v2 "State resolution").
    async fn state_before(&self, head: &RoomHead, pdu: &PduRef) -> Result<GroupedState> {
        if pdu.prev_events == head.extremities {
            // Built on the room's head: the state before it is the current state.
            return Ok(GroupedState {
                map: head.state.clone(),
                group: head.state_group,
                chain_len: head.chain_len,
            });
        }
        let mut states = Vec::with_capacity(pdu.prev_events.len());
        for id in &pdu.prev_events {
            states.push(self.state_after(id).await?);
        }
        if states.len() == 1 {
            return Ok(states.pop().expect("one state"));
        }
        let maps = states.into_iter().map(|s| s.map).collect();
        let map = self.resolve_states(&head.rules, maps, None).await?;
        Ok(GroupedState { map, group: None, chain_len: 0 })
    }
}

/// The event ID: the `event_id` field in room versions 1 and 2, the reference hash since.
fn event_id_of(json: &CanonicalJsonObject, rules: &RoomVersionRules) -> Result<OwnedEventId> {
    match rules.event_id_format {
        EventIdFormatVersion::V1 => match json.get("event_id") {
            Some(CanonicalJsonValue::String(s)) => EventId::parse(s)
                .map_err(|e| Error::bad_json(format!("Invalid event: bad `event_id`: {e}"))),
            _ => Err(Error::bad_json("Invalid event: `event_id` is missing")),
        },
        _ => {
            let hash = reference_hash(json, rules)
                .map_err(|e| Error::bad_json(format!("Invalid event: {e}")))?;
            EventId::new_v2_or_v3(&hash).map_err(Error::internal)
        }
    }
}

/// What federation would fetch or do, which this server cannot yet.
fn needs_federation(what: String) -> Error {
    Error::new(
        StatusCode::NOT_IMPLEMENTED,
        ErrorKind::Unrecognized,
        format!("{what}: fetching it needs federation, which is not supported yet"),
    )
}
