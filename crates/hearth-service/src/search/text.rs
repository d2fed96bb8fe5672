//! What the search index records of an event: the text of `content.body` (messages),
//! `content.name` and `content.topic` (spec: "Server Side Search", `keys`).

use serde_json::Value;

use crate::rooms::Pdu;

/// The searchable `(key, text)` of `pdu`, if it has any.
pub(crate) fn search_text(pdu: &Pdu) -> Option<(String, String)> {
    let (key, field) = match pdu.kind.to_string().as_str() {
        "m.room.message" => ("content.body", "body"),
        "m.room.name" => ("content.name", "name"),
        "m.room.topic" => ("content.topic", "topic"),
        _ => return None,
    };
    let content: Value = serde_json::from_str(pdu.content.get()).ok()?;
    let text = content.get(field)?.as_str()?.trim();
    (!text.is_empty()).then(|| (key.to_owned(), text.to_owned()))
}
