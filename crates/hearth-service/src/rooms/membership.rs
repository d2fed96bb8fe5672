//! Room membership (spec: client-server-api "Room membership"): join (by ID or local alias,
//! including restricted rooms), invite, leave, kick, ban, unban, knock, forget. Every change is
//! an `m.room.member` event checked by the authorization rules.

use hearth_core::{Error, Result};
use http::StatusCode;
use ruma::{
    OwnedRoomId, OwnedUserId, RoomId, RoomOrAliasId, ServerName, UserId, api::error::ErrorKind,
    events::room::member::MembershipState,
};
use serde_json::{Map, Value, json};

use super::{Service, state::StateMap};

impl Service {
    /// Join a room by ID or alias; returns the room ID. `extra` is what else the client put
    /// in the request body: like Synapse, it goes into the member event's content (a
    /// per-room display name, say), under the fields the server sets.
    pub async fn join(
        &self,
        user: &UserId,
        is_guest: bool,
        room: &RoomOrAliasId,
        reason: Option<String>,
        via: &[ruma::OwnedServerName],
        extra: Map<String, Value>,
    ) -> Result<OwnedRoomId> {
        let room_id = self.resolve_room(room, via).await?;
        let state = self.head_state(&room_id).await?;
        if is_guest && !guest_can_join(self, &state).await? {
            return Err(Error::forbidden("Guests may not join this room"));
        }
        let mut content = Value::Object(extra);
        merge(&mut content, member_content("join", reason));
        // Only the server may name the user who authorised a restricted join.
        content.as_object_mut().map(|c| c.remove("join_authorised_via_users_server"));
        if let Some(via) = self.authorising_user(&room_id, user, &state).await? {
            content["join_authorised_via_users_server"] = json!(via);
        }
        let template = self.member_template(user, content).await?;
        if self.duplicate_state(&room_id, user, &template).await?.is_none() {
            self.send_event(&room_id, user, &template, None).await?;
        }
        Ok(room_id)
    }

    /// Knock on a room (spec: "Knocking on rooms").
    pub async fn knock(
        &self,
        user: &UserId,
        room: &RoomOrAliasId,
        reason: Option<String>,
        via: &[ruma::OwnedServerName],
    ) -> Result<OwnedRoomId> {
        let room_id = self.resolve_room(room, via).await?;
        let template = self.member_template(user, member_content("knock", reason)).await?;
        self.send_event(&room_id, user, &template, None).await?;
        Ok(room_id)
    }

    /// Invite, kick, ban or unban `target`, or leave (`target` = `sender`).
    pub async fn change_membership(
        &self,
        sender: &UserId,
        room_id: &RoomId,
        target: &UserId,
        membership: MembershipState,
        reason: Option<String>,
        is_direct: bool,
    ) -> Result<()> {
        let mut content = member_content(membership.as_str(), reason);
        if is_direct {
            content["is_direct"] = json!(true);
        }
        if membership == MembershipState::Leave && sender == target {
            // Leaving a room one was never in is an error of its own (Synapse: 403).
            let current = self.ctx.storage.membership(room_id, sender).await?;
            if self.room_version(room_id).await?.is_none() {
                return Err(Error::not_found("Unknown room"));
            }
            if current.is_none_or(|m| {
                matches!(m.membership, MembershipState::Leave | MembershipState::Ban)
            }) {
                return Err(Error::forbidden("You are not a member of this room"));
            }
        }
        let template = self.member_template(target, content).await?;
        if self.duplicate_state(room_id, sender, &template).await?.is_none() {
            self.send_event(room_id, sender, &template, None).await?;
        }
        Ok(())
    }

    /// Kick: a leave for a member, invitee or knocker. Kicking someone who is not in the room
    /// (never was, left, or is banned: unban them instead) is `M_FORBIDDEN`, as in Synapse,
    /// though the authorization rules would allow the event.
    pub async fn kick(
        &self,
        sender: &UserId,
        room_id: &RoomId,
        target: &UserId,
        reason: Option<String>,
    ) -> Result<()> {
        if self.room_version(room_id).await?.is_none() {
            return Err(Error::not_found("Unknown room"));
        }
        let state = self.head_state(room_id).await?;
        let current = self.state_pdu(&state, "m.room.member", target.as_str()).await?;
        let membership = current.map(|m| m.content_value()["membership"].clone());
        if !membership.is_some_and(|m| m == "join" || m == "invite" || m == "knock") {
            return Err(Error::forbidden(format!("{target} is not in the room")));
        }
        self.change_membership(sender, room_id, target, MembershipState::Leave, reason, false).await
    }

    /// `/invite` with a third-party identifier (spec: "Invitations to third-party
    /// identifiers"): finding or storing the invite needs an identity server, and this server
    /// uses none, so it is refused as Synapse refuses it with 3PID lookups disabled (403).
    pub async fn invite_3pid(&self, room_id: &RoomId) -> Result<()> {
        if self.room_version(room_id).await?.is_none() {
            return Err(Error::not_found("Unknown room"));
        }
        Err(Error::forbidden(
            "Looking up third-party identifiers is denied from this server: it uses no identity server, so invite the user by their Matrix ID",
        ))
    }

    /// Unban: a leave for a banned user; `M_FORBIDDEN` when they are not banned.
    pub async fn unban(
        &self,
        sender: &UserId,
        room_id: &RoomId,
        target: &UserId,
        reason: Option<String>,
    ) -> Result<()> {
        let state = self.head_state(room_id).await?;
        let banned = self
            .state_pdu(&state, "m.room.member", target.as_str())
            .await?
            .is_some_and(|m| m.content_value()["membership"] == "ban");
        if !banned {
            return Err(Error::forbidden(format!("{target} is not banned from this room")));
        }
        self.change_membership(sender, room_id, target, MembershipState::Leave, reason, false).await
    }

    /// Leave every room a deactivated user is in, rejecting their invites and rescinding their
    /// knocks (Synapse parts deactivated users from all rooms). A room that refuses is logged
    /// and skipped.
    pub async fn leave_all(&self, user: &UserId) -> Result<()> {
        let pending = [MembershipState::Join, MembershipState::Invite, MembershipState::Knock];
        let rooms = self.ctx.storage.rooms_for_user(user, &pending).await?;
        let template = self.member_template(user, member_content("leave", None)).await?;
        let mut commits = Vec::new();
        for room in &rooms {
            // Queued back to back, so the rooms share commits.
            match self.submit(&room.room_id, user, &template, None).await {
                Ok(commit) => commits.push((&room.room_id, commit)),
                Err(e) => tracing::warn!(%user, room = %room.room_id, "could not leave: {e}"),
            }
        }
        for (room, commit) in commits {
            if let Err(e) = commit.await {
                tracing::warn!(%user, %room, "could not leave: {e}");
            }
        }
        Ok(())
    }

    /// Guest access was revoked: the guests in the room leave it (Synapse). A guest whose
    /// leave fails is logged and skipped.
    pub(crate) async fn guests_leave(&self, room_id: &RoomId) -> Result<()> {
        let members = self.ctx.storage.room_members(room_id, &[MembershipState::Join]).await?;
        let local =
            members.iter().filter(|m| m.user_id.server_name() == self.ctx.config.server_name);
        for member in local {
            let user = &member.user_id;
            if !self.ctx.storage.get_user(user).await?.is_some_and(|u| u.is_guest) {
                continue;
            }
            let template = self.member_template(user, member_content("leave", None)).await?;
            if let Err(e) = self.send_event(room_id, user, &template, None).await {
                tracing::warn!(%user, %room_id, "guest could not leave: {e}");
            }
        }
        Ok(())
    }

    /// Forget a room the user has left (spec: "Leaving rooms"): it disappears from their sync.
    pub async fn forget(&self, user: &UserId, room_id: &RoomId) -> Result<()> {
        let Some(current) = self.ctx.storage.membership(room_id, user).await? else {
            return Err(Error::not_found("You have no membership in this room"));
        };
        if matches!(
            current.membership,
            MembershipState::Join | MembershipState::Invite | MembershipState::Knock
        ) {
            return Err(Error::unknown(
                StatusCode::BAD_REQUEST,
                "Leave the room before forgetting it",
            ));
        }
        self.ctx.storage.forget_room(room_id, user).await?;
        Ok(())
    }

    /// A room ID for a room ID or a local alias. Rooms on other servers need federation.
    async fn resolve_room(
        &self,
        room: &RoomOrAliasId,
        via: &[ruma::OwnedServerName],
    ) -> Result<OwnedRoomId> {
        let room_id = match <&RoomId>::try_from(room) {
            Ok(id) => id.to_owned(),
            Err(alias) => {
                if alias.server_name() != self.ctx.config.server_name {
                    return Err(no_federation(alias.server_name()));
                }
                self.ctx
                    .storage
                    .resolve_alias(alias)
                    .await?
                    .ok_or_else(|| Error::not_found(format!("Room alias {alias} not found")))?
            }
        };
        if self.room_version(&room_id).await?.is_none() {
            let remote = via.iter().find(|s| **s != self.ctx.config.server_name);
            return match (remote, room_id.server_name()) {
                (Some(server), _) => Err(no_federation(server)),
                (None, Some(server)) if server != self.ctx.config.server_name => {
                    Err(no_federation(server))
                }
                _ => Err(Error::not_found("Unknown room")),
            };
        }
        Ok(room_id)
    }

    /// For a join under a `restricted` or `knock_restricted` rule by a user not already invited
    /// or joined: a local member able to invite, when the user is in one of the allowed rooms
    /// (spec: "Restricted rooms"). `M_FORBIDDEN` when no allowed room has them.
    async fn authorising_user(
        &self,
        room_id: &RoomId,
        user: &UserId,
        state: &StateMap,
    ) -> Result<Option<OwnedUserId>> {
        let Some(rules) = self.state_pdu(state, "m.room.join_rules", "").await? else {
            return Ok(None);
        };
        let content = rules.content_value();
        let rule = content["join_rule"].as_str().unwrap_or_default();
        if !matches!(rule, "restricted" | "knock_restricted") {
            return Ok(None);
        }
        let current = match self.state_pdu(state, "m.room.member", user.as_str()).await? {
            Some(m) => m.content_value()["membership"].as_str().unwrap_or_default().to_owned(),
            None => String::new(),
        };
        if current == "join" || current == "invite" {
            return Ok(None);
        }
        let allowed_rooms: Vec<OwnedRoomId> = content["allow"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["type"] == "m.room_membership")
            .filter_map(|a| a["room_id"].as_str().and_then(|r| RoomId::parse(r).ok()))
            .collect();
        let mut in_allowed_room = false;
        for allowed in &allowed_rooms {
            let member = self.ctx.storage.membership(allowed, user).await?;
            in_allowed_room |= member.is_some_and(|m| m.membership == MembershipState::Join);
        }
        if !in_allowed_room {
            return Err(Error::forbidden(
                "You are not a member of any room this room allows to join",
            ));
        }
        let levels = self.power_levels_in(room_id, state).await?;
        let members = self.ctx.storage.room_members(room_id, &[MembershipState::Join]).await?;
        let via = members
            .into_iter()
            .map(|m| m.user_id)
            .filter(|m| m.server_name() == self.ctx.config.server_name && levels.user_can_invite(m))
            .max_by_key(|m| levels.for_user(m));
        via.map(Some)
            .ok_or_else(|| Error::forbidden("No member of this room can authorise your join"))
    }
}

/// `{"membership": .., "reason": ..}`; the profile is added by `member_template`.
fn member_content(membership: &str, reason: Option<String>) -> Value {
    let mut content = json!({"membership": membership});
    if let Some(reason) = reason {
        content["reason"] = json!(reason);
    }
    content
}

/// Copy `fields`' keys over `content`'s.
fn merge(content: &mut Value, fields: Value) {
    if let (Some(content), Value::Object(fields)) = (content.as_object_mut(), fields) {
        content.extend(fields);
    }
}

async fn guest_can_join(svc: &Service, state: &StateMap) -> Result<bool> {
    Ok(match svc.state_pdu(state, "m.room.guest_access", "").await? {
        Some(e) => e.content_value()["guest_access"] == "can_join",
        None => false,
    })
}

fn no_federation(server: &ServerName) -> Error {
    Error::new(
        StatusCode::NOT_FOUND,
        ErrorKind::NotFound,
        format!(
            "The room is on {server}; joining rooms on other servers needs federation, which this server does not support yet"
        ),
    )
}
