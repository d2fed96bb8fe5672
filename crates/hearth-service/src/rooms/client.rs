//! Events as clients see them (spec: client-server-api "Room event format"): the client fields
//! of the PDU, redacted with the room version's algorithm when a valid redaction exists, and
//! `unsigned` with `age`, `transaction_id` (for the sending device only), `membership` (the
//! viewer's), `prev_content`, `replaces_state` and `redacted_because`.

use hearth_core::{Result, utils::now_millis};
use hearth_storage::EventRecord;
use ruma::{
    CanonicalJsonObject, CanonicalJsonValue, DeviceId, UserId,
    canonical_json::{RedactedBecause, redact},
    events::TimelineEventType,
};
use serde_json::{Map, Value, json, value::RawValue};

use super::{Service, pdu::PduRef};

const CLIENT_FIELDS: &[&str] = &[
    "content",
    "event_id",
    "origin_server_ts",
    "room_id",
    "sender",
    "state_key",
    "type",
    "redacts",
];

/// Who asks: their own transaction IDs are echoed back.
#[derive(Clone, Copy)]
pub struct Viewer<'a> {
    pub user: &'a UserId,
    pub device: Option<&'a DeviceId>,
}

impl Service {
    pub(crate) async fn client_event(
        &self,
        record: &EventRecord,
        pdu: &PduRef,
        viewer: Option<Viewer<'_>>,
    ) -> Result<Box<RawValue>> {
        let value = self.client_value(record, pdu, viewer, true).await?;
        Ok(serde_json::value::to_raw_value(&value)?)
    }

    /// The event in federation format (a filter's `event_format`): the PDU as servers
    /// exchange it, redacted if a valid redaction exists, with its `event_id`.
    pub(crate) async fn federation_event(
        &self,
        record: &EventRecord,
        pdu: &PduRef,
    ) -> Result<Box<RawValue>> {
        let mut obj = pdu.json.clone();
        if let Some(because) = self.valid_redaction(record, pdu).await?
            && let Some((_, rules)) = self.room_version(&pdu.room_id).await?
        {
            obj = redact(obj, &rules.redaction, Some(RedactedBecause::from_json(because)))
                .unwrap_or(obj_fallback(pdu));
        } else if self.self_destructed(pdu)
            && let Some((_, rules)) = self.room_version(&pdu.room_id).await?
        {
            obj = redact(obj, &rules.redaction, None).unwrap_or(obj_fallback(pdu));
        }
        obj.insert("event_id".into(), CanonicalJsonValue::String(pdu.event_id.to_string()));
        Ok(serde_json::value::to_raw_value(&obj)?)
    }

    pub(crate) async fn client_value(
        &self,
        record: &EventRecord,
        pdu: &PduRef,
        viewer: Option<Viewer<'_>>,
        with_redaction: bool,
    ) -> Result<Value> {
        let mut obj = pdu.json.clone();
        let membership = match viewer {
            Some(viewer) => self.membership_after(viewer.user, record, pdu).await?,
            None => None,
        };
        if with_redaction && let Some(because) = self.valid_redaction(record, pdu).await? {
            let rules = self.room_version(&pdu.room_id).await?.map(|v| v.1);
            if let Some(rules) = rules {
                obj = redact(obj, &rules.redaction, Some(RedactedBecause::from_json(because)))
                    .unwrap_or(obj_fallback(pdu));
            }
        } else if self.pruned_for(viewer.map(|v| v.user), membership.as_deref(), pdu).await?
            && let Some((_, rules)) = self.room_version(&pdu.room_id).await?
        {
            obj = redact(obj, &rules.redaction, None).unwrap_or(obj_fallback(pdu));
        }
        let mut out = Map::new();
        for field in CLIENT_FIELDS {
            if let Some(v) = obj.get(*field) {
                out.insert((*field).to_owned(), serde_json::to_value(v)?);
            }
        }
        out.insert("event_id".into(), json!(pdu.event_id));
        out.insert("room_id".into(), json!(pdu.room_id));
        if let Some(redacts) = &pdu.redacts {
            // v11 moved `redacts` into content; clients still read the top-level field.
            out.insert("redacts".into(), json!(redacts));
        }
        let mut unsigned = match obj.get("unsigned") {
            Some(CanonicalJsonValue::Object(u)) => {
                serde_json::to_value(u)?.as_object().cloned().unwrap_or_default()
            }
            _ => Map::new(),
        };
        let ts = u64::from(pdu.origin_server_ts.0);
        unsigned.insert("age".into(), json!(now_millis().saturating_sub(ts)));
        if let (Some(viewer), Some((device, txn))) = (viewer, &record.txn)
            && pdu.sender == viewer.user
            && viewer.device == Some(&**device)
        {
            unsigned.insert("transaction_id".into(), json!(txn));
        }
        if let Some(membership) = membership {
            unsigned.insert("membership".into(), json!(membership));
        }
        if let Some(replaced) = &record.replaces_state {
            unsigned.insert("replaces_state".into(), json!(replaced));
            if let Some(prev) = self.pdu(replaced).await? {
                unsigned.insert("prev_content".into(), serde_json::from_str(prev.content.get())?);
                unsigned.insert("prev_sender".into(), json!(prev.sender));
            }
        }
        out.insert("unsigned".into(), Value::Object(unsigned));
        Ok(Value::Object(out))
    }

    /// Served pruned without a redaction: a self-destructed message, or an erased sender's
    /// event for someone who was not in the room when it was sent (`membership`: the viewer's
    /// after the event). Sync's render cache asks this before using its viewer-free copy.
    pub(crate) async fn pruned_for(
        &self,
        viewer: Option<&UserId>,
        membership: Option<&str>,
        pdu: &PduRef,
    ) -> Result<bool> {
        if self.self_destructed(pdu) {
            return Ok(true);
        }
        Ok(match viewer {
            Some(viewer) if viewer != pdu.sender && membership != Some("join") => {
                self.sender_erased(&pdu.sender).await?
            }
            _ => false,
        })
    }

    /// `unsigned.membership` (spec v1.11, MSC4115): the user's membership in the state after
    /// the event, `leave` if they have none; `None` for an event without state (an outlier).
    async fn membership_after(
        &self,
        user: &UserId,
        record: &EventRecord,
        pdu: &PduRef,
    ) -> Result<Option<String>> {
        let membership =
            |e: &PduRef| e.content_value()["membership"].as_str().unwrap_or("leave").to_owned();
        if pdu.kind == TimelineEventType::RoomMember
            && pdu.state_key.as_deref() == Some(user.as_str())
        {
            return Ok(Some(membership(pdu)));
        }
        let Some(group) = record.state_group_after else { return Ok(None) };
        let state = self.state_group(group).await?.map;
        let member = self.state_pdu(&state, "m.room.member", user.as_str()).await?;
        Ok(Some(member.as_ref().map(membership).unwrap_or_else(|| "leave".to_owned())))
    }

    /// The redaction of this event, in client format, if there is one that counts: from the
    /// same server as the event, or from a user with the `redact` power level then (spec:
    /// rooms/v3 "Handling redactions").
    async fn valid_redaction(
        &self,
        record: &EventRecord,
        pdu: &PduRef,
    ) -> Result<Option<CanonicalJsonObject>> {
        let Some(redaction_id) = &record.redacted_by else { return Ok(None) };
        let Some(redaction) = self.pdu(redaction_id).await? else { return Ok(None) };
        let same_server = redaction.sender.server_name() == pdu.sender.server_name();
        if !same_server {
            let Some(r) = self.ctx.storage.get_event(redaction_id).await? else { return Ok(None) };
            let Some(group) = r.state_group_before else { return Ok(None) };
            let state = self.state_group(group).await?.map;
            let levels = self.power_levels_in(&pdu.room_id, &state).await?;
            if !levels.user_can_redact_event_of_other(&redaction.sender) {
                return Ok(None);
            }
        }
        let Some(redaction_record) = self.ctx.storage.get_event(redaction_id).await? else {
            return Ok(None);
        };
        let value = Box::pin(self.client_value(&redaction_record, &redaction, None, false)).await?;
        Ok(serde_json::from_value(value).ok())
    }
}

fn obj_fallback(pdu: &PduRef) -> CanonicalJsonObject {
    pdu.json.clone()
}
