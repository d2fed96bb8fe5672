//! What the relations index records of an event: its `m.relates_to` when that names a parent
//! with a `rel_type` (spec: "Forming relationships between events"; replies, which have no
//! `rel_type`, are not relations here).

use hearth_storage::NewRelation;
use ruma::OwnedEventId;
use serde_json::Value;

use crate::rooms::Pdu;

/// The relationship recorded for `pdu`, if it has a well-formed one.
pub(crate) fn new_relation(pdu: &Pdu) -> Option<NewRelation> {
    let content: Value = serde_json::from_str(pdu.content.get()).ok()?;
    relation_in(&content)
}

/// `m.relates_to` of event content: parent, `rel_type` and annotation key.
pub(crate) fn relation_in(content: &Value) -> Option<NewRelation> {
    let relates_to = content.get("m.relates_to")?;
    let rel_type = relates_to.get("rel_type")?.as_str()?;
    let parent = relates_to.get("event_id")?.as_str()?;
    Some(NewRelation {
        relates_to: OwnedEventId::try_from(parent).ok()?,
        rel_type: rel_type.to_owned(),
        key: relates_to.get("key").and_then(Value::as_str).map(str::to_owned),
    })
}
