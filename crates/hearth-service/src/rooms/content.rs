//! Validation of event content sent by local clients: well-known state events must match their
//! schema in the spec (ruma's content types), so a client cannot store, say, a `membership`
//! that does not exist. Events received over federation are not held to this (the
//! authorization rules read only what they need).

use hearth_core::{Error, Result};
use ruma::events::room::{
    avatar::RoomAvatarEventContent, canonical_alias::RoomCanonicalAliasEventContent,
    encryption::RoomEncryptionEventContent, guest_access::RoomGuestAccessEventContent,
    history_visibility::RoomHistoryVisibilityEventContent, join_rules::RoomJoinRulesEventContent,
    member::RoomMemberEventContent, name::RoomNameEventContent,
    pinned_events::RoomPinnedEventsEventContent, power_levels::RoomPowerLevelsEventContent,
    server_acl::RoomServerAclEventContent, tombstone::RoomTombstoneEventContent,
    topic::RoomTopicEventContent,
};
use ruma::{events::TimelineEventType, room_version_rules::AuthorizationRules};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::EventTemplate;

pub(crate) fn validate(t: &EventTemplate) -> Result<()> {
    if !t.content.is_object() {
        return Err(Error::bad_json("Event content must be a JSON object"));
    }
    if let Some(key) = &t.state_key {
        validate_state_key(t.kind.to_string().as_str(), key)?;
    }
    let c = &t.content;
    match t.kind.to_string().as_str() {
        "m.room.member" => {
            check::<RoomMemberEventContent>(c)?;
            match c["membership"].as_str() {
                Some("join" | "invite" | "leave" | "ban" | "knock") => Ok(()),
                _ => Err(Error::bad_json("Invalid content: unknown `membership`")),
            }
        }
        "m.room.power_levels" => check::<RoomPowerLevelsEventContent>(c),
        "m.room.join_rules" => check::<RoomJoinRulesEventContent>(c),
        "m.room.history_visibility" => check::<RoomHistoryVisibilityEventContent>(c),
        "m.room.guest_access" => check::<RoomGuestAccessEventContent>(c),
        "m.room.name" => check::<RoomNameEventContent>(c),
        "m.room.topic" => check::<RoomTopicEventContent>(c),
        "m.room.avatar" => check::<RoomAvatarEventContent>(c),
        "m.room.canonical_alias" => check::<RoomCanonicalAliasEventContent>(c),
        "m.room.encryption" => check::<RoomEncryptionEventContent>(c),
        "m.room.server_acl" => check::<RoomServerAclEventContent>(&lenient_acl(c)),
        "m.room.tombstone" => check::<RoomTombstoneEventContent>(c),
        "m.room.pinned_events" => check::<RoomPinnedEventsEventContent>(c),
        _ => Ok(()),
    }
}

/// What the room version adds: since v10 every power level is an integer (spec: rooms/v10
/// "Authorization rules"; Synapse answers 400 before the rules run, not 403).
pub(crate) fn validate_for_version(t: &EventTemplate, rules: &AuthorizationRules) -> Result<()> {
    if rules.integer_power_levels
        && t.kind == TimelineEventType::RoomPowerLevels
        && !integer_levels(&t.content)
    {
        return Err(Error::bad_json("Power levels must be integers in this room version"));
    }
    Ok(())
}

fn integer_levels(content: &Value) -> bool {
    let single =
        ["users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"];
    let maps = ["events", "notifications", "users"];
    single.iter().filter_map(|k| content.get(*k)).all(Value::is_i64)
        && maps
            .iter()
            .filter_map(|k| content.get(*k))
            .all(|m| m.as_object().is_some_and(|m| m.values().all(Value::is_i64)))
}

fn check<T: DeserializeOwned>(content: &serde_json::Value) -> Result<()> {
    serde_json::from_value::<T>(content.clone())
        .map(|_| ())
        .map_err(|e| Error::bad_json(format!("Invalid content: {e}")))
}

/// `allow_ip_literals` "defaults to `true` if missing or otherwise not a boolean" (spec:
/// `m.room.server_acl`): Synapse accepts any value there, so only a boolean is checked.
fn lenient_acl(content: &Value) -> Value {
    let mut content = content.clone();
    if let Some(obj) = content.as_object_mut()
        && obj.get("allow_ip_literals").is_some_and(|v| !v.is_boolean())
    {
        obj.remove("allow_ip_literals");
    }
    content
}

/// Member events are keyed by a user ID.
fn validate_state_key(kind: &str, key: &str) -> Result<()> {
    if kind == "m.room.member" && ruma::UserId::parse(key).is_err() {
        return Err(Error::bad_json(format!(
            "State key {key:?} of a member event is not a user ID"
        )));
    }
    Ok(())
}
