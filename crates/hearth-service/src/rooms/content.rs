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
use serde::de::DeserializeOwned;

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
        "m.room.server_acl" => check::<RoomServerAclEventContent>(c),
        "m.room.tombstone" => check::<RoomTombstoneEventContent>(c),
        "m.room.pinned_events" => check::<RoomPinnedEventsEventContent>(c),
        _ => Ok(()),
    }
}

fn check<T: DeserializeOwned>(content: &serde_json::Value) -> Result<()> {
    serde_json::from_value::<T>(content.clone())
        .map(|_| ())
        .map_err(|e| Error::bad_json(format!("Invalid content: {e}")))
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
