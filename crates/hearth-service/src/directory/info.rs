//! The facts shown about a room in the room directory, the space hierarchy and room summaries
//! (spec: client-server-api "Room summaries", `RoomSummary`), read for many rooms at once.

use std::collections::HashMap;

use hearth_core::Result;
use hearth_storage::EventRecord;
use ruma::{
    CanonicalJsonObject, OwnedRoomId, UInt,
    canonical_json::redact_content_in_place,
    room::{JoinRule, JoinRuleSummary, RoomSummary},
};
use serde_json::Value;

use super::Service;

/// The state events a summary is made of.
const INFO_TYPES: &[&str] = &[
    "m.room.create",
    "m.room.name",
    "m.room.topic",
    "m.room.avatar",
    "m.room.canonical_alias",
    "m.room.join_rules",
    "m.room.history_visibility",
    "m.room.guest_access",
    "m.room.encryption",
];

impl Service {
    /// Summaries of the rooms this server knows among `rooms`, in the order given.
    pub(crate) async fn summaries(&self, rooms: Vec<OwnedRoomId>) -> Result<Vec<RoomSummary>> {
        let storage = &self.ctx.storage;
        let events = storage.room_info_events(rooms.clone(), INFO_TYPES).await?;
        let counts = storage.joined_member_counts(rooms.clone()).await?;
        let mut by_room: HashMap<OwnedRoomId, HashMap<String, Value>> = HashMap::new();
        for record in events {
            let Some((kind, content)) = self.visible_content(&record).await? else { continue };
            by_room.entry(record.room_id.clone()).or_default().insert(kind, content);
        }
        let services = self.services()?;
        let mut out = Vec::with_capacity(rooms.len());
        for room_id in rooms {
            let Some((version, _)) = services.rooms.room_version(&room_id).await? else {
                continue;
            };
            let state = by_room.remove(&room_id).unwrap_or_default();
            let joined = counts.get(&room_id).copied().unwrap_or(0);
            let mut summary = summary(room_id, &state, joined);
            summary.room_version = Some(version);
            out.push(summary);
        }
        Ok(out)
    }

    /// An event's type and content, redacted if a redaction of it is stored.
    async fn visible_content(&self, record: &EventRecord) -> Result<Option<(String, Value)>> {
        let mut pdu: serde_json::Map<String, Value> = serde_json::from_str(&record.json)?;
        let kind = pdu.get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
        let content = pdu.remove("content").unwrap_or_default();
        if record.redacted_by.is_none() {
            return Ok(Some((kind, content)));
        }
        let Some((_, rules)) = self.services()?.rooms.room_version(&record.room_id).await? else {
            return Ok(None);
        };
        let mut object: CanonicalJsonObject = serde_json::from_value(content).unwrap_or_default();
        redact_content_in_place(&mut object, &rules.redaction, &kind);
        Ok(Some((kind, serde_json::to_value(object)?)))
    }
}

fn summary(room_id: OwnedRoomId, state: &HashMap<String, Value>, joined: u64) -> RoomSummary {
    let field = |kind: &str, key: &str| -> Option<String> {
        state.get(kind)?.get(key)?.as_str().map(str::to_owned)
    };
    // No join rules event: the authorization rules treat the room as invite-only.
    let join_rule = match state.get("m.room.join_rules") {
        Some(content) => serde_json::from_value::<JoinRule>(content.clone())
            .map(JoinRuleSummary::from)
            .unwrap_or(JoinRuleSummary::Invite),
        None => JoinRuleSummary::Invite,
    };
    let world_readable = field("m.room.history_visibility", "history_visibility").as_deref()
        == Some("world_readable");
    let guest_can_join =
        field("m.room.guest_access", "guest_access").as_deref() == Some("can_join");
    let joined = UInt::new_saturating(joined);
    let mut summary = RoomSummary::new(room_id, join_rule, guest_can_join, joined, world_readable);
    summary.name = field("m.room.name", "name");
    summary.topic = field("m.room.topic", "topic");
    summary.avatar_url = field("m.room.avatar", "url").map(Into::into);
    summary.canonical_alias =
        field("m.room.canonical_alias", "alias").and_then(|a| a.try_into().ok());
    summary.room_type = field("m.room.create", "type").map(Into::into);
    summary.encryption = field("m.room.encryption", "algorithm").map(Into::into);
    summary
}
