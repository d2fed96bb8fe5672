//! Profiles in member events (spec: client-server-api "m.room.member", "Events on Change of
//! Profile Information"): joins, invites and knocks carry the target's display name and
//! avatar unless the client set them (Synapse), and a profile change sends a new join event,
//! through the normal send path, to every room the user has joined.

use hearth_core::Result;
use ruma::{UserId, events::TimelineEventType, events::room::member::MembershipState};
use serde_json::{Value, json};

use super::{EventTemplate, Service};

impl Service {
    /// A member event for `target`, with the profile of a local target filled in for a join,
    /// an invite or a knock.
    pub(crate) async fn member_template(
        &self,
        target: &UserId,
        mut content: Value,
    ) -> Result<EventTemplate> {
        let takes_profile =
            matches!(content["membership"].as_str(), Some("join" | "invite" | "knock"));
        let missing = content.get("displayname").is_none() || content.get("avatar_url").is_none();
        if takes_profile && missing && target.server_name() == self.ctx.config.server_name {
            let (name, avatar) = self.member_fields(target).await?;
            fill(&mut content, name, avatar);
        }
        Ok(EventTemplate::state(TimelineEventType::RoomMember, target.as_str(), content))
    }

    /// The user's display name or avatar changed: a join event with the new values in every
    /// room they have joined where their member event differs. A room that refuses it is
    /// logged and skipped, as Synapse does.
    pub async fn profile_changed(&self, user: &UserId) -> Result<()> {
        let (name, avatar) = self.member_fields(user).await?;
        let rooms = self.ctx.storage.rooms_for_user(user, &[MembershipState::Join]).await?;
        let mut commits = Vec::new();
        for room in rooms.iter().filter(|m| m.display_name != name || m.avatar_url != avatar) {
            let mut content = json!({"membership": "join"});
            fill(&mut content, name.clone(), avatar.clone());
            let template =
                EventTemplate::state(TimelineEventType::RoomMember, user.as_str(), content);
            // Queued back to back, so the rooms share commits.
            match self.submit(&room.room_id, user, &template, None).await {
                Ok(commit) => commits.push((&room.room_id, commit)),
                Err(e) => tracing::warn!(%user, room = %room.room_id, "profile not updated: {e}"),
            }
        }
        for (room, commit) in commits {
            if let Err(e) = commit.await {
                tracing::warn!(%user, %room, "profile not updated: {e}");
            }
        }
        Ok(())
    }

    async fn member_fields(&self, user: &UserId) -> Result<(Option<String>, Option<String>)> {
        match self.services.upgrade() {
            Some(services) => services.profile.member_fields(user).await,
            None => Ok((None, None)),
        }
    }
}

/// Set `displayname` and `avatar_url` where the content lacks them and the profile has them.
fn fill(content: &mut Value, name: Option<String>, avatar: Option<String>) {
    let Some(obj) = content.as_object_mut() else { return };
    for (key, value) in [("displayname", name), ("avatar_url", avatar)] {
        if let Some(value) = value {
            obj.entry(key).or_insert(Value::String(value));
        }
    }
}
