//! The PDU: one event of the room graph as servers exchange it (spec: server-server-api "PDUs"
//! and rooms/v1..v12 "Event format"), parsed once from its canonical JSON.

use std::sync::Arc;

use hearth_core::{Error, Result};
use ruma::{
    CanonicalJsonObject, CanonicalJsonValue, MilliSecondsSinceUnixEpoch, OwnedEventId, OwnedRoomId,
    OwnedUserId, RoomId, UInt, UserId,
    events::TimelineEventType,
    room_version_rules::{EventsReferenceFormatVersion, RoomVersionRules},
};
use serde_json::value::RawValue;

#[derive(Debug)]
pub struct Pdu {
    pub event_id: OwnedEventId,
    /// The room; for a v12 create event (which has no `room_id` field) derived from its ID.
    pub room_id: OwnedRoomId,
    has_room_id_field: bool,
    pub sender: OwnedUserId,
    pub origin_server_ts: MilliSecondsSinceUnixEpoch,
    pub kind: TimelineEventType,
    pub content: Box<RawValue>,
    pub state_key: Option<String>,
    pub prev_events: Vec<OwnedEventId>,
    pub auth_events: Vec<OwnedEventId>,
    /// The event this one redacts: top-level `redacts` before v11, `content.redacts` since.
    pub redacts: Option<OwnedEventId>,
    pub depth: u64,
    /// The whole PDU, as hashed and signed.
    pub json: CanonicalJsonObject,
    pub rejected: bool,
}

pub type PduRef = Arc<Pdu>;

fn bad(msg: impl std::fmt::Display) -> Error {
    Error::bad_json(format!("invalid event: {msg}"))
}

fn string<'a>(obj: &'a CanonicalJsonObject, key: &str) -> Result<&'a str> {
    match obj.get(key) {
        Some(CanonicalJsonValue::String(s)) => Ok(s),
        _ => Err(bad(format!("`{key}` is missing or not a string"))),
    }
}

/// `prev_events`/`auth_events`: `[[id, {hashes}], ...]` before v3, `[id, ...]` since.
fn event_refs(
    obj: &CanonicalJsonObject,
    key: &str,
    format: EventsReferenceFormatVersion,
) -> Result<Vec<OwnedEventId>> {
    let Some(CanonicalJsonValue::Array(items)) = obj.get(key) else {
        return Err(bad(format!("`{key}` is missing or not an array")));
    };
    items
        .iter()
        .map(|item| {
            let id = match (format, item) {
                (EventsReferenceFormatVersion::V1, CanonicalJsonValue::Array(pair)) => {
                    match pair.first() {
                        Some(CanonicalJsonValue::String(s)) => s.as_str(),
                        _ => return Err(bad(format!("malformed `{key}` entry"))),
                    }
                }
                (_, CanonicalJsonValue::String(s)) => s.as_str(),
                _ => return Err(bad(format!("malformed `{key}` entry"))),
            };
            OwnedEventId::try_from(id).map_err(bad)
        })
        .collect()
}

impl Pdu {
    /// Parse a PDU whose event ID is known (stored, or computed by the caller).
    pub fn from_json(
        event_id: OwnedEventId,
        json: CanonicalJsonObject,
        rules: &RoomVersionRules,
    ) -> Result<Pdu> {
        let kind = TimelineEventType::from(string(&json, "type")?);
        let has_room_id_field = json.contains_key("room_id");
        let room_id = if has_room_id_field {
            OwnedRoomId::try_from(string(&json, "room_id")?).map_err(bad)?
        } else if kind == TimelineEventType::RoomCreate {
            RoomId::new_v2(event_id.localpart()).map_err(bad)?
        } else {
            return Err(bad("`room_id` is missing"));
        };
        let sender = UserId::parse(string(&json, "sender")?).map_err(bad)?;
        let origin_server_ts = match json.get("origin_server_ts") {
            Some(CanonicalJsonValue::Integer(i)) => MilliSecondsSinceUnixEpoch(
                UInt::try_from(i64::from(*i)).map_err(|_| bad("negative `origin_server_ts`"))?,
            ),
            _ => return Err(bad("`origin_server_ts` is missing")),
        };
        let depth = match json.get("depth") {
            Some(CanonicalJsonValue::Integer(i)) => {
                u64::try_from(i64::from(*i)).map_err(|_| bad("negative `depth`"))?
            }
            _ => return Err(bad("`depth` is missing")),
        };
        let content = match json.get("content") {
            Some(c @ CanonicalJsonValue::Object(_)) => serde_json::value::to_raw_value(c)?,
            _ => return Err(bad("`content` is missing or not an object")),
        };
        let state_key = match json.get("state_key") {
            None => None,
            Some(CanonicalJsonValue::String(s)) => Some(s.clone()),
            Some(_) => return Err(bad("`state_key` is not a string")),
        };
        let format = rules.events_reference_format;
        let prev_events = event_refs(&json, "prev_events", format)?;
        let auth_events = event_refs(&json, "auth_events", format)?;
        let redacts = redacts_of(&json, &kind, rules)?;
        Ok(Pdu {
            event_id,
            room_id,
            has_room_id_field,
            sender,
            origin_server_ts,
            kind,
            content,
            state_key,
            prev_events,
            auth_events,
            redacts,
            depth,
            json,
            rejected: false,
        })
    }

    /// Parse a stored PDU.
    pub fn from_str(event_id: OwnedEventId, json: &str, rules: &RoomVersionRules) -> Result<Pdu> {
        let obj: CanonicalJsonObject = serde_json::from_str(json)
            .map_err(|e| Error::internal(format!("stored event {event_id}: {e}")))?;
        Pdu::from_json(event_id, obj, rules)
    }

    pub fn is_state(&self) -> bool {
        self.state_key.is_some()
    }

    /// The `(type, state_key)` of a state event.
    pub fn state_key_pair(&self) -> Option<(String, String)> {
        self.state_key.as_ref().map(|k| (self.kind.to_string(), k.clone()))
    }

    /// The content as a JSON value.
    pub fn content_value(&self) -> serde_json::Value {
        serde_json::from_str(self.content.get()).unwrap_or_default()
    }

    /// The canonical JSON string of the whole PDU, as stored.
    pub fn canonical_string(&self) -> String {
        serde_json::to_string(&self.json).unwrap_or_default()
    }
}

fn redacts_of(
    json: &CanonicalJsonObject,
    kind: &TimelineEventType,
    rules: &RoomVersionRules,
) -> Result<Option<OwnedEventId>> {
    if *kind != TimelineEventType::RoomRedaction {
        return Ok(None);
    }
    let value = if rules.redaction.content_field_redacts {
        match json.get("content") {
            Some(CanonicalJsonValue::Object(c)) => c.get("redacts"),
            _ => None,
        }
    } else {
        json.get("redacts")
    };
    match value {
        Some(CanonicalJsonValue::String(s)) => {
            Ok(Some(OwnedEventId::try_from(s.as_str()).map_err(bad)?))
        }
        _ => Ok(None),
    }
}

impl ruma::state_res::Event for Pdu {
    type Id = OwnedEventId;

    fn event_id(&self) -> &Self::Id {
        &self.event_id
    }

    fn room_id(&self) -> Option<&RoomId> {
        self.has_room_id_field.then_some(&*self.room_id)
    }

    fn sender(&self) -> &UserId {
        &self.sender
    }

    fn origin_server_ts(&self) -> MilliSecondsSinceUnixEpoch {
        self.origin_server_ts
    }

    fn event_type(&self) -> &TimelineEventType {
        &self.kind
    }

    fn content(&self) -> &RawValue {
        &self.content
    }

    fn state_key(&self) -> Option<&str> {
        self.state_key.as_deref()
    }

    fn prev_events(&self) -> Box<dyn DoubleEndedIterator<Item = &Self::Id> + '_> {
        Box::new(self.prev_events.iter())
    }

    fn auth_events(&self) -> Box<dyn DoubleEndedIterator<Item = &Self::Id> + '_> {
        Box::new(self.auth_events.iter())
    }

    fn redacts(&self) -> Option<&Self::Id> {
        self.redacts.as_ref()
    }

    fn rejected(&self) -> bool {
        self.rejected
    }
}
