//! Who may see a room's summary without being in it (spec: `GET /room_summary`, and the rooms
//! `GET /hierarchy` returns): members and invitees (knockers, for the summary), anyone for a
//! world-readable or public room, a knockable room, or a restricted room whose allowed rooms
//! they are in. `GET /room_summary` itself lives here too.

use hearth_core::{Error, Result};
use ruma::{
    OwnedRoomId, OwnedServerName, RoomId, RoomOrAliasId, UserId,
    events::room::member::MembershipState, room::RoomSummary,
};
use serde_json::Value;

use super::Service;

impl Service {
    /// Whether `user` (`None`: not authenticated) may see the summary of a room this server
    /// knows.
    pub(crate) async fn may_preview(
        &self,
        user: Option<&UserId>,
        room_id: &RoomId,
    ) -> Result<bool> {
        let rooms = &self.services()?.rooms;
        let Some((_, rules)) = rooms.room_version(room_id).await? else { return Ok(false) };
        let state = rooms.head_state(room_id).await?;
        let content = |kind: &'static str| {
            let state = &state;
            async move {
                Ok::<_, hearth_core::Error>(match rooms.state_pdu(state, kind, "").await? {
                    Some(e) => e.content_value(),
                    None => Value::Null,
                })
            }
        };
        if content("m.room.history_visibility").await?["history_visibility"] == "world_readable" {
            return Ok(true);
        }
        let join_rules = content("m.room.join_rules").await?;
        let rule = join_rules["join_rule"].as_str().unwrap_or("invite");
        let rules = &rules.authorization;
        let knockable = (rule == "knock" && rules.knocking)
            || (rule == "knock_restricted" && rules.knock_restricted_join_rule);
        if rule == "public" || knockable {
            return Ok(true);
        }
        let Some(user) = user else { return Ok(false) };
        let membership = self.ctx.storage.membership(room_id, user).await?.map(|m| m.membership);
        if matches!(
            membership,
            Some(MembershipState::Join | MembershipState::Invite | MembershipState::Knock)
        ) {
            return Ok(true);
        }
        let restricted = (rule == "restricted" && rules.restricted_join_rule)
            || (rule == "knock_restricted" && rules.knock_restricted_join_rule);
        if !restricted {
            return Ok(false);
        }
        for allowed in join_rules["allow"].as_array().into_iter().flatten() {
            let Some(Ok(room)) = allowed["room_id"].as_str().map(RoomId::parse) else { continue };
            let member = self.ctx.storage.membership(&room, user).await?;
            if allowed["type"] == "m.room_membership"
                && member.is_some_and(|m| m.membership == MembershipState::Join)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// `GET /room_summary/{roomIdOrAlias}` (spec v1.15, MSC3266): the summary and the caller's
    /// membership. Rooms this server does not know need federation: `M_NOT_FOUND` for now.
    pub async fn room_summary(
        &self,
        user: Option<&UserId>,
        room: &RoomOrAliasId,
        via: &[OwnedServerName],
    ) -> Result<(RoomSummary, Option<MembershipState>)> {
        let room_id = self.room_id_of(room).await?;
        let unknown = || {
            let remote = via.iter().any(|s| *s != self.ctx.config.server_name);
            let hint = if remote { "; asking other servers needs federation" } else { "" };
            Error::not_found(format!("Room {room} not found or not accessible{hint}"))
        };
        if !self.may_preview(user, &room_id).await? {
            return Err(unknown());
        }
        let summary = self.summaries(vec![room_id.clone()]).await?.pop().ok_or_else(unknown)?;
        let membership = match user {
            Some(user) => self.ctx.storage.membership(&room_id, user).await?.map(|m| m.membership),
            None => None,
        };
        Ok((summary, membership))
    }

    async fn room_id_of(&self, room: &RoomOrAliasId) -> Result<OwnedRoomId> {
        match <&RoomId>::try_from(room) {
            Ok(id) => Ok(id.to_owned()),
            Err(alias) => Ok(self.resolve_alias(alias).await?.0),
        }
    }
}
