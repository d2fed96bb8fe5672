//! Building a local event as a complete PDU (spec: server-server-api "PDUs", "Auth events
//! selection", "Calculating the reference hash"): auth events from the current state, every
//! forward extremity as prev event, depth, content hash, signature, and the event ID the room
//! version prescribes.

use hearth_core::{Error, Result, utils::now_millis};
use ruma::{
    CanonicalJsonObject, CanonicalJsonValue, EventId, OwnedEventId, UserId,
    canonical_json::to_canonical_value,
    events::TimelineEventType,
    room_version_rules::{EventIdFormatVersion, EventsReferenceFormatVersion},
    signatures::reference_hash,
    state_res::auth_types_for_event,
};
use serde_json::value::to_raw_value;
use std::sync::Arc;

use super::{
    Service,
    head::RoomHead,
    pdu::{Pdu, PduRef},
};

/// The largest PDU, as canonical JSON (spec: client-server-api "Size limits").
pub const MAX_PDU_BYTES: usize = 65_536;
/// At most this many prev events (spec: rooms/v1 "Event format").
const MAX_PREV_EVENTS: usize = 20;

/// What a local user asks to send.
#[derive(Debug, Clone)]
pub struct EventTemplate {
    pub kind: TimelineEventType,
    pub content: serde_json::Value,
    pub state_key: Option<String>,
    /// For redactions before room version 11 (a top-level field); v11+ carry it in content.
    pub redacts: Option<OwnedEventId>,
    /// `ts` of appservices; default now.
    pub origin_server_ts: Option<u64>,
}

impl EventTemplate {
    pub fn new(kind: impl Into<TimelineEventType>, content: serde_json::Value) -> Self {
        EventTemplate {
            kind: kind.into(),
            content,
            state_key: None,
            redacts: None,
            origin_server_ts: None,
        }
    }

    pub fn state(
        kind: impl Into<TimelineEventType>,
        key: impl Into<String>,
        content: serde_json::Value,
    ) -> Self {
        EventTemplate { state_key: Some(key.into()), ..Self::new(kind, content) }
    }
}

impl Service {
    pub(crate) async fn build_pdu(
        &self,
        head: &RoomHead,
        sender: &UserId,
        t: &EventTemplate,
    ) -> Result<PduRef> {
        let rules = &head.rules;
        let content = match to_canonical_value(&t.content) {
            Ok(CanonicalJsonValue::Object(obj)) => obj,
            Ok(_) => return Err(Error::bad_json("Event content must be an object")),
            Err(e) => {
                return Err(Error::bad_json(format!("Event content is not canonical JSON: {e}")));
            }
        };
        let raw_content = to_raw_value(&content)?;
        let auth_types = auth_types_for_event(
            &t.kind,
            sender,
            t.state_key.as_deref(),
            &raw_content,
            &rules.authorization,
        )
        .map_err(|e| Error::bad_json(format!("Invalid event: {e}")))?;
        let auth_events: Vec<OwnedEventId> = auth_types
            .iter()
            .filter_map(|(kind, key)| head.state.get(&(kind.to_string(), key.clone())).cloned())
            .collect();
        let prev_events: Vec<OwnedEventId> =
            head.extremities.iter().rev().take(MAX_PREV_EVENTS).rev().cloned().collect();

        let mut obj = CanonicalJsonObject::new();
        let is_create = t.kind == TimelineEventType::RoomCreate;
        obj.insert("auth_events".into(), self.event_refs(head, &auth_events).await?);
        obj.insert("prev_events".into(), self.event_refs(head, &prev_events).await?);
        obj.insert("content".into(), CanonicalJsonValue::Object(content));
        obj.insert("depth".into(), int(head.depth.saturating_add(1).min(i64::MAX as u64) as i64));
        let ts = t.origin_server_ts.unwrap_or_else(now_millis);
        obj.insert("origin_server_ts".into(), int(ts as i64));
        if !is_create || rules.event_format.require_room_create_room_id {
            obj.insert("room_id".into(), CanonicalJsonValue::String(head.room_id.to_string()));
        }
        obj.insert("sender".into(), CanonicalJsonValue::String(sender.to_string()));
        obj.insert("type".into(), CanonicalJsonValue::String(t.kind.to_string()));
        if let Some(key) = &t.state_key {
            obj.insert("state_key".into(), CanonicalJsonValue::String(key.clone()));
        }
        if let Some(redacts) = &t.redacts
            && !rules.redaction.content_field_redacts
        {
            obj.insert("redacts".into(), CanonicalJsonValue::String(redacts.to_string()));
        }
        if rules.event_format.require_event_id {
            let id = EventId::new_v1(&self.ctx.config.server_name);
            obj.insert("event_id".into(), CanonicalJsonValue::String(id.to_string()));
        }
        if serde_json::to_string(&obj)?.len() > MAX_PDU_BYTES {
            return Err(Error::too_large("Event is larger than 65536 bytes"));
        }
        self.keys.hash_and_sign_event(&mut obj, &rules.redaction)?;
        let event_id = match rules.event_id_format {
            EventIdFormatVersion::V1 => match obj.get("event_id") {
                Some(CanonicalJsonValue::String(s)) => OwnedEventId::try_from(s.as_str())?,
                _ => return Err(Error::internal("v1 event without an event ID")),
            },
            _ => {
                let hash = reference_hash(&obj, rules).map_err(size_or_internal)?;
                EventId::new_v2_or_v3(&hash).map_err(Error::internal)?
            }
        };
        let room_id_known = obj.contains_key("room_id");
        let pdu = Pdu::from_json(event_id, obj, rules)?;
        if room_id_known && pdu.room_id != head.room_id {
            return Err(Error::internal("built an event for another room"));
        }
        Ok(Arc::new(pdu))
    }

    /// Event references in the room version's format: IDs, or `[id, {"sha256": hash}]` pairs
    /// before v3.
    async fn event_refs(
        &self,
        head: &RoomHead,
        ids: &[OwnedEventId],
    ) -> Result<CanonicalJsonValue> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let value = match head.rules.events_reference_format {
                EventsReferenceFormatVersion::V1 => {
                    let pdu = self.pdu(id).await?.ok_or_else(|| {
                        Error::internal(format!("referenced event {id} is missing"))
                    })?;
                    let hash = reference_hash(&pdu.json, &head.rules).map_err(size_or_internal)?;
                    let hashes = CanonicalJsonObject::from_iter([(
                        "sha256".to_owned(),
                        CanonicalJsonValue::String(hash),
                    )]);
                    CanonicalJsonValue::Array(vec![
                        CanonicalJsonValue::String(id.to_string()),
                        CanonicalJsonValue::Object(hashes),
                    ])
                }
                _ => CanonicalJsonValue::String(id.to_string()),
            };
            out.push(value);
        }
        Ok(CanonicalJsonValue::Array(out))
    }
}

fn int(i: i64) -> CanonicalJsonValue {
    CanonicalJsonValue::Integer(ruma::Int::new_saturating(i))
}

fn size_or_internal(e: ruma::signatures::JsonError) -> Error {
    match e {
        ruma::signatures::JsonError::PduTooLarge => {
            Error::too_large("Event is larger than 65536 bytes")
        }
        e => Error::internal(format!("cannot hash event: {e}")),
    }
}
