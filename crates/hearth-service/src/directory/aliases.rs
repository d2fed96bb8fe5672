//! Room aliases (spec: client-server-api "Room aliases"): local aliases only until federation;
//! and `m.room.canonical_alias` validation (every alias it newly names must point at the room).

use std::collections::BTreeSet;

use hearth_core::{Error, Result};
use http::StatusCode;
use ruma::{
    OwnedRoomAliasId, OwnedRoomId, OwnedServerName, RoomAliasId, RoomId, UserId,
    api::error::ErrorKind, events::room::member::MembershipState,
};
use serde_json::{Value, json};

use super::Service;
use crate::accounts::Session;

impl Service {
    /// `PUT /directory/room/{roomAlias}`: only by a member of the room (Synapse's default).
    pub async fn create_alias(
        &self,
        session: &Session,
        alias: &RoomAliasId,
        room_id: &RoomId,
    ) -> Result<()> {
        session.forbid_guest()?;
        self.check_local_alias(alias)?;
        let services = self.services()?;
        if services.rooms.room_version(room_id).await?.is_none() {
            return Err(Error::not_found(format!("Unknown room {room_id}")));
        }
        let member = self.ctx.storage.membership(room_id, &session.user_id).await?;
        if member.is_none_or(|m| m.membership != MembershipState::Join) {
            return Err(Error::forbidden("You must be in the room to create an alias for it"));
        }
        if !self.ctx.storage.create_alias(alias, room_id, &session.user_id).await? {
            return Err(Error::new(
                StatusCode::CONFLICT,
                ErrorKind::RoomInUse,
                format!("Room alias {alias} already exists"),
            ));
        }
        Ok(())
    }

    /// `GET /directory/room/{roomAlias}`: the room and the servers of its joined members, this
    /// one first.
    pub async fn resolve_alias(
        &self,
        alias: &RoomAliasId,
    ) -> Result<(OwnedRoomId, Vec<OwnedServerName>)> {
        let server = &self.ctx.config.server_name;
        if alias.server_name() != server {
            return Err(Error::not_found(format!(
                "Room alias {alias} is on another server; resolving it needs federation, which \
                 this server does not support yet"
            )));
        }
        let room_id = self
            .ctx
            .storage
            .resolve_alias(alias)
            .await?
            .ok_or_else(|| Error::not_found(format!("Room alias {alias} not found")))?;
        let members = self.ctx.storage.room_members(&room_id, &[MembershipState::Join]).await?;
        let others: BTreeSet<OwnedServerName> = members
            .into_iter()
            .map(|m| m.user_id.server_name().to_owned())
            .filter(|s| s != server)
            .collect();
        let servers = std::iter::once(server.clone()).chain(others).collect();
        Ok((room_id, servers))
    }

    /// `DELETE /directory/room/{roomAlias}`: by its creator, or by a member with the power to
    /// send `m.room.canonical_alias` (Synapse). The canonical alias stops naming it.
    pub async fn delete_alias(&self, session: &Session, alias: &RoomAliasId) -> Result<()> {
        session.forbid_guest()?;
        self.check_local_alias(alias)?;
        let user = &session.user_id;
        let not_found = || Error::not_found(format!("Room alias {alias} not found"));
        let record = self.ctx.storage.get_alias(alias).await?.ok_or_else(not_found)?;
        if record.creator != *user && !self.can_edit_directory(&record.room_id, user).await? {
            return Err(Error::forbidden("You don't have permission to delete the alias"));
        }
        let room_id = self.ctx.storage.delete_alias(alias).await?.ok_or_else(not_found)?;
        self.drop_from_canonical_alias(user, &room_id, alias).await
    }

    /// `GET /rooms/{roomId}/aliases`: for members and world-readable rooms only (Synapse).
    pub async fn room_aliases(
        &self,
        user: &UserId,
        room_id: &RoomId,
    ) -> Result<Vec<OwnedRoomAliasId>> {
        let forbidden = || Error::forbidden("You are not a member of this room");
        let services = self.services()?;
        if services.rooms.room_version(room_id).await?.is_none() {
            return Err(forbidden());
        }
        let joined = self
            .ctx
            .storage
            .membership(room_id, user)
            .await?
            .is_some_and(|m| m.membership == MembershipState::Join);
        if !joined && !self.world_readable(room_id).await? {
            return Err(forbidden());
        }
        self.ctx.storage.room_aliases(room_id).await
    }

    /// Validate `m.room.canonical_alias` content a client sends (Synapse): malformed aliases
    /// are `M_INVALID_PARAM`; an alias it newly names that does not point at the room is
    /// `M_BAD_ALIAS` (aliases already there are kept even if they were deleted since).
    pub(crate) async fn check_canonical_alias(
        &self,
        room_id: &RoomId,
        content: &Value,
    ) -> Result<()> {
        let (alias, alt_aliases) = parse_canonical_alias(content)?;
        let current = self.current_canonical_alias(room_id).await?;
        let (old_alias, old_alt) = parse_canonical_alias(&current).unwrap_or_default();
        let mut added: Vec<OwnedRoomAliasId> =
            alias.into_iter().filter(|a| old_alias.as_ref() != Some(a)).collect();
        added.extend(alt_aliases.into_iter().filter(|a| !old_alt.contains(a)));
        for alias in added {
            if alias.server_name() != self.ctx.config.server_name {
                return Err(bad_alias(format!(
                    "Room alias {alias} is on another server and cannot be checked without \
                     federation"
                )));
            }
            if self.ctx.storage.resolve_alias(&alias).await?.as_deref() != Some(room_id) {
                return Err(bad_alias(format!("Room alias {alias} does not point to the room")));
            }
        }
        Ok(())
    }

    fn check_local_alias(&self, alias: &RoomAliasId) -> Result<()> {
        if alias.server_name() != self.ctx.config.server_name {
            return Err(Error::invalid_param(format!("Room alias {alias} is not on this server")));
        }
        let local = alias.alias();
        if local.is_empty() || local.contains(':') || local.contains(char::is_whitespace) {
            return Err(Error::invalid_param(format!("Invalid characters in room alias {alias}")));
        }
        Ok(())
    }

    async fn current_canonical_alias(&self, room_id: &RoomId) -> Result<Value> {
        let rooms = &self.services()?.rooms;
        let state = rooms.head_state(room_id).await?;
        Ok(match rooms.state_pdu(&state, "m.room.canonical_alias", "").await? {
            Some(event) => event.content_value(),
            None => Value::Null,
        })
    }

    async fn world_readable(&self, room_id: &RoomId) -> Result<bool> {
        let rooms = &self.services()?.rooms;
        let state = rooms.head_state(room_id).await?;
        Ok(rooms
            .state_pdu(&state, "m.room.history_visibility", "")
            .await?
            .is_some_and(|e| e.content_value()["history_visibility"] == "world_readable"))
    }

    /// After an alias is deleted, take it out of the room's canonical alias event, as the user
    /// who deleted it; if they may not send that event, the event stays as it is (Synapse).
    async fn drop_from_canonical_alias(
        &self,
        user: &UserId,
        room_id: &RoomId,
        alias: &RoomAliasId,
    ) -> Result<()> {
        let Value::Object(mut content) = self.current_canonical_alias(room_id).await? else {
            return Ok(());
        };
        let mut changed = false;
        if content.get("alias").and_then(Value::as_str) == Some(alias.as_str()) {
            content.remove("alias");
            changed = true;
        }
        if let Some(Value::Array(alt)) = content.get_mut("alt_aliases") {
            let before = alt.len();
            alt.retain(|a| a.as_str() != Some(alias.as_str()));
            changed |= alt.len() != before;
            if alt.is_empty() {
                content.remove("alt_aliases");
            }
        }
        if !changed {
            return Ok(());
        }
        let rooms = &self.services()?.rooms;
        let sent =
            rooms.send_state(user, room_id, "m.room.canonical_alias", "", json!(content)).await;
        match sent {
            Err(Error::Matrix { status: StatusCode::FORBIDDEN, .. }) => Ok(()),
            other => other.map(|_| ()),
        }
    }
}

/// `alias` and `alt_aliases` of canonical alias content; `M_INVALID_PARAM` if malformed.
fn parse_canonical_alias(
    content: &Value,
) -> Result<(Option<OwnedRoomAliasId>, Vec<OwnedRoomAliasId>)> {
    let parse = |v: &Value| -> Result<OwnedRoomAliasId> {
        let s = v.as_str().ok_or_else(|| Error::invalid_param("Aliases must be strings"))?;
        OwnedRoomAliasId::try_from(s)
            .map_err(|e| Error::invalid_param(format!("Invalid alias {s:?}: {e}")))
    };
    let alias = match content.get("alias") {
        // An empty alias unsets it, as does a missing one (Synapse).
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(v) => Some(parse(v)?),
    };
    let alt = match content.get("alt_aliases") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(parse).collect::<Result<_>>()?,
        Some(_) => return Err(Error::invalid_param("alt_aliases must be a list")),
    };
    Ok((alias, alt))
}

fn bad_alias(message: String) -> Error {
    Error::new(StatusCode::BAD_REQUEST, ErrorKind::BadAlias, message)
}
