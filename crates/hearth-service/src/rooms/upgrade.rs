//! Room upgrades (spec: client-server-api "Room Upgrades", server behaviour): a new room of the
//! requested version whose create event names its predecessor, the transferable state copied
//! across (Synapse's list: join rules, name, topic, history visibility, guest access, avatar,
//! encryption, server ACL, power levels, a space's children, bans), a tombstone in the old
//! room, local aliases and the canonical alias moved, the directory listing moved, and the old
//! room's power levels raised so regular users stop talking and inviting there.

use std::collections::HashSet;

use hearth_core::{Error, Result};
use http::StatusCode;
use ruma::{
    OwnedEventId, OwnedRoomId, OwnedUserId, RoomId, RoomVersionId, UserId,
    api::client::room::create_room::v3::{Request as CreateRoom, RoomPreset},
    events::{StateEventType, room::member::MembershipState},
    serde::Raw,
};
use serde_json::{Map, Value, json};

use super::{EventTemplate, Service, content, state::StateMap};
use crate::accounts::Session;

/// State copied into the new room, with an empty state key.
const COPIED_STATE: &[&str] = &[
    "m.room.join_rules",
    "m.room.name",
    "m.room.topic",
    "m.room.history_visibility",
    "m.room.guest_access",
    "m.room.avatar",
    "m.room.encryption",
    "m.room.server_acl",
];

/// The new room's power levels: `initial` is sent at creation; when it had to lift the upgrading
/// user to copy the state (before v12, where creators have no special power), `intended`
/// follows once everything is copied (Synapse).
struct NewLevels {
    initial: Value,
    intended: Value,
    raised: bool,
}

impl Service {
    /// `POST /rooms/{roomId}/upgrade`: the new room's ID.
    pub async fn upgrade_room(
        &self,
        session: &Session,
        old: &RoomId,
        new_version: &RoomVersionId,
        additional_creators: &[OwnedUserId],
    ) -> Result<OwnedRoomId> {
        session.forbid_guest()?;
        let user = &session.user_id;
        let version = self.requested_version(Some(new_version))?;
        if self.room_version(old).await?.is_none() {
            return Err(Error::not_found(format!("Unknown room {old}")));
        }
        let _upgrading = self.upgrade_guard(old)?;
        let state = self.head_state(old).await?;
        self.check_may_upgrade(old, user, &state).await?;
        let creators: Vec<OwnedUserId> =
            additional_creators.iter().filter(|c| *c != user).cloned().collect();
        let levels = self.new_room_levels(old, user, &state, &version, &creators).await?;
        let rules = version.rules().expect("supported version");
        let new = if rules.authorization.room_create_event_id_as_room_id {
            // The new room's ID is its create event's hash: the tombstone comes second, and the
            // predecessor names no event (spec: optional since v12).
            let request =
                self.replacement_request(old, &state, &version, &creators, levels.as_ref(), None);
            let new = self.create_room(user, &request.await?).await?;
            self.send_tombstone(old, user, &new).await?;
            new
        } else {
            // The new room's ID is chosen first, so its predecessor names the tombstone
            // (Synapse).
            let new = RoomId::new_v1(&self.ctx.config.server_name);
            let tombstone = self.send_tombstone(old, user, &new).await?;
            let request = self
                .replacement_request(
                    old,
                    &state,
                    &version,
                    &creators,
                    levels.as_ref(),
                    Some(tombstone),
                )
                .await?;
            self.create_room_with_id(user, &request, Some(new)).await?
        };
        self.copy_bans(&new, user, &state).await?;
        self.move_aliases(old, &new, user, &state).await?;
        self.move_listing(old, &new).await?;
        self.transfer_member_settings(old, &new).await?;
        self.restrict_old_levels(old, user, &state).await?;
        if let Some(levels) = levels.filter(|l| l.raised) {
            let template = EventTemplate::state("m.room.power_levels", "", levels.intended);
            self.send_event(&new, user, &template, None).await?;
        }
        Ok(new)
    }

    async fn send_tombstone(
        &self,
        old: &RoomId,
        user: &UserId,
        new: &RoomId,
    ) -> Result<OwnedEventId> {
        let content = json!({"body": "This room has been replaced", "replacement_room": new});
        let template = EventTemplate::state("m.room.tombstone", "", content);
        self.send_event(old, user, &template, None).await
    }

    /// One upgrade of a room at a time (Synapse refuses a second while the first runs).
    fn upgrade_guard(&self, room: &RoomId) -> Result<UpgradeGuard<'_>> {
        if !self.upgrading.lock().insert(room.to_owned()) {
            return Err(Error::unknown(
                StatusCode::BAD_REQUEST,
                "An upgrade of this room is already in progress",
            ));
        }
        Ok(UpgradeGuard { service: self, room: room.to_owned() })
    }

    /// The user must be joined and able to send the tombstone (spec: step 1).
    async fn check_may_upgrade(
        &self,
        room: &RoomId,
        user: &UserId,
        state: &StateMap,
    ) -> Result<()> {
        let joined = self
            .state_pdu(state, "m.room.member", user.as_str())
            .await?
            .is_some_and(|m| m.content_value()["membership"] == "join");
        let levels = self.power_levels_in(room, state).await?;
        if !joined || !levels.user_can_send_state(user, StateEventType::RoomTombstone) {
            return Err(Error::forbidden("You do not have the power to upgrade this room"));
        }
        Ok(())
    }

    /// The createRoom request that builds the replacement: `predecessor`, the old room's `type`
    /// and `m.federate: false`, the additional creators, and the copied state.
    async fn replacement_request(
        &self,
        old: &RoomId,
        state: &StateMap,
        version: &RoomVersionId,
        creators: &[OwnedUserId],
        levels: Option<&NewLevels>,
        tombstone: Option<OwnedEventId>,
    ) -> Result<CreateRoom> {
        let old_create = self.create_content(old, state).await?;
        let mut predecessor = json!({"room_id": old});
        if let Some(tombstone) = tombstone {
            predecessor["event_id"] = json!(tombstone);
        }
        let mut creation = json!({"predecessor": predecessor});
        if let Some(kind) = old_create.get("type") {
            creation["type"] = kind.clone();
        }
        if old_create.get("m.federate") == Some(&json!(false)) {
            creation["m.federate"] = json!(false);
        }
        if !creators.is_empty() {
            creation["additional_creators"] = json!(creators);
        }
        let rules = version.rules().expect("supported version");
        let mut initial_state = Vec::new();
        for (kind, key, content) in self.transferable_state(state, &old_create).await? {
            let template = EventTemplate::state(kind.as_str(), key.as_str(), content.clone());
            // Content another server let in may not pass our checks: it is left behind.
            if content::validate(&template).is_err()
                || content::validate_for_version(&template, &rules.authorization).is_err()
            {
                continue;
            }
            initial_state.push(json!({"type": kind, "state_key": key, "content": content}));
        }
        if let Some(levels) = levels {
            initial_state.push(
                json!({"type": "m.room.power_levels", "state_key": "", "content": levels.initial}),
            );
        }
        // The preset fills in only what the old room lacks; a lacking join rule or guest access
        // must stay what absence means (spec: invite, forbidden), so it is given explicitly.
        for (kind, content) in [
            ("m.room.join_rules", json!({"join_rule": "invite"})),
            ("m.room.guest_access", json!({"guest_access": "forbidden"})),
        ] {
            if !initial_state.iter().any(|e| e["type"] == kind) {
                initial_state.push(json!({"type": kind, "state_key": "", "content": content}));
            }
        }
        let mut request = CreateRoom::new();
        request.room_version = Some(version.clone());
        request.preset = Some(RoomPreset::PrivateChat);
        request.creation_content =
            Some(Raw::from_json(serde_json::value::to_raw_value(&creation)?));
        request.initial_state = initial_state
            .iter()
            .map(|e| serde_json::value::to_raw_value(e).map(Raw::from_json))
            .collect::<serde_json::Result<_>>()?;
        Ok(request)
    }

    async fn create_content(&self, room: &RoomId, state: &StateMap) -> Result<Value> {
        let create = self.state_pdu(state, "m.room.create", "").await?;
        let create = create.ok_or_else(|| Error::internal(format!("room {room} has no create")))?;
        Ok(create.content_value())
    }

    /// `(type, state_key, content)` of the state copied across: the list above, and for a
    /// space its children still in it (Synapse).
    async fn transferable_state(
        &self,
        state: &StateMap,
        old_create: &Value,
    ) -> Result<Vec<(String, String, Value)>> {
        let is_space = old_create.get("type").and_then(Value::as_str) == Some("m.space");
        let mut out = Vec::new();
        for ((kind, key), id) in state.iter() {
            let copied = (COPIED_STATE.contains(&kind.as_str()) && key.is_empty())
                || (is_space && kind == "m.space.child");
            if !copied {
                continue;
            }
            let Some(event) = self.pdu(id).await? else { continue };
            let content = event.content_value();
            if kind == "m.space.child" && content.as_object().is_none_or(|c| c.is_empty()) {
                continue;
            }
            out.push((kind.clone(), key.clone(), content));
        }
        Ok(out)
    }

    /// The old power levels for the new room, fixed for its version: creators leave `users`
    /// since v12 (they outrank everyone and may not be listed); before v12 the creators of a
    /// v12 room keep their power as 100, and the upgrading user is lifted, for the copy only,
    /// to the level sending every copied event needs.
    async fn new_room_levels(
        &self,
        old: &RoomId,
        user: &UserId,
        state: &StateMap,
        version: &RoomVersionId,
        creators: &[OwnedUserId],
    ) -> Result<Option<NewLevels>> {
        let Some(event) = self.state_pdu(state, "m.room.power_levels", "").await? else {
            return Ok(None);
        };
        let mut levels = integer_levels(event.content_value());
        let rules = version.rules().expect("supported version").authorization;
        let users = levels["users"].as_object_mut().map(std::mem::take).unwrap_or_default();
        let mut users: Map<String, Value> = users;
        if rules.explicitly_privilege_room_creators {
            users.remove(user.as_str());
            for creator in creators {
                users.remove(creator.as_str());
            }
        } else {
            for creator in self.old_creators(old, state).await? {
                users.entry(creator.to_string()).or_insert(json!(100));
            }
        }
        levels["users"] = Value::Object(users);
        let intended = levels.clone();
        let mut raised = false;
        if !rules.explicitly_privilege_room_creators {
            let needed = needed_level(&levels);
            let default = levels["users_default"].as_i64().unwrap_or(0);
            let current = levels["users"][user.as_str()].as_i64().unwrap_or(default);
            if current < needed {
                levels["users"][user.as_str()] = json!(needed);
                raised = true;
            }
        }
        // Levels another server let in may not pass our checks: the new room then starts with
        // the defaults rather than failing half-way (before v12 the tombstone is already sent).
        for content in [&levels, &intended] {
            let template = EventTemplate::state("m.room.power_levels", "", content.clone());
            if content::validate(&template).is_err()
                || content::validate_for_version(&template, &rules).is_err()
            {
                tracing::warn!(room = %old, "power levels not copied on upgrade: invalid");
                return Ok(None);
            }
        }
        Ok(Some(NewLevels { initial: levels, intended, raised }))
    }

    /// The creators of a room whose version gives creators their own power (v12), else none.
    async fn old_creators(&self, room: &RoomId, state: &StateMap) -> Result<HashSet<OwnedUserId>> {
        let Some((_, rules)) = self.room_version(room).await? else { return Ok(HashSet::new()) };
        if !rules.authorization.explicitly_privilege_room_creators {
            return Ok(HashSet::new());
        }
        let Some(create) = self.state_pdu(state, "m.room.create", "").await? else {
            return Ok(HashSet::new());
        };
        let create = ruma::state_res::events::RoomCreateEvent::new(create);
        Ok(create.creators(&rules.authorization).unwrap_or_default())
    }

    /// Users banned from the old room are banned from the new one, with the same content.
    async fn copy_bans(&self, new: &RoomId, user: &UserId, state: &StateMap) -> Result<()> {
        for ((kind, target), id) in state.iter() {
            if kind != "m.room.member" {
                continue;
            }
            let Some(event) = self.pdu(id).await? else { continue };
            let content = event.content_value();
            if content["membership"] != "ban" {
                continue;
            }
            let template = EventTemplate::state("m.room.member", target.as_str(), content);
            self.send_event(new, user, &template, None).await?;
        }
        Ok(())
    }

    /// Local aliases point at the new room; the canonical alias event's local aliases move
    /// with them (Synapse: the old room keeps only other servers' aliases).
    async fn move_aliases(
        &self,
        old: &RoomId,
        new: &RoomId,
        user: &UserId,
        state: &StateMap,
    ) -> Result<()> {
        self.ctx.storage.move_aliases(old, new).await?;
        let Some(event) = self.state_pdu(state, "m.room.canonical_alias", "").await? else {
            return Ok(());
        };
        let server = &self.ctx.config.server_name;
        let local = |alias: &Value| {
            alias
                .as_str()
                .and_then(|a| ruma::RoomAliasId::parse(a).ok())
                .is_some_and(|a| a.server_name() == server)
        };
        let mut old_content = event.content_value();
        let mut new_content = json!({});
        if old_content.get("alias").is_some_and(local) {
            new_content["alias"] = old_content["alias"].take();
            if let Some(c) = old_content.as_object_mut() {
                c.remove("alias");
            }
        }
        if let Some(alt) = old_content.get_mut("alt_aliases").and_then(Value::as_array_mut) {
            let (moved, kept): (Vec<Value>, Vec<Value>) = alt.drain(..).partition(local);
            *alt = kept;
            if !moved.is_empty() {
                new_content["alt_aliases"] = json!(moved);
            }
        }
        if old_content["alt_aliases"].as_array().is_some_and(Vec::is_empty)
            && let Some(c) = old_content.as_object_mut()
        {
            c.remove("alt_aliases");
        }
        for (room, content) in [(old, old_content), (new, new_content)] {
            let template = EventTemplate::state("m.room.canonical_alias", "", content);
            if let Err(e) = self.send_event(room, user, &template, None).await {
                tracing::warn!(%room, "canonical alias not moved on upgrade: {e:?}");
            }
        }
        Ok(())
    }

    /// A room listed in the directory is replaced there by its successor (Synapse).
    async fn move_listing(&self, old: &RoomId, new: &RoomId) -> Result<()> {
        let listed = self.ctx.storage.get_room(old).await?.is_some_and(|r| r.public);
        if listed {
            self.ctx.storage.set_room_public(new, true).await?;
            self.ctx.storage.set_room_public(old, false).await?;
        }
        Ok(())
    }

    /// The old room's local members keep their tags and direct-chat marks on the new room
    /// (spec: settings "should" follow the room; Synapse does this at the upgrade), and their
    /// push rules about the room.
    async fn transfer_member_settings(&self, old: &RoomId, new: &RoomId) -> Result<()> {
        let storage = &self.ctx.storage;
        let services = self.services()?;
        let members = storage.room_members(old, &[MembershipState::Join]).await?;
        let local =
            members.iter().filter(|m| m.user_id.server_name() == self.ctx.config.server_name);
        for member in local {
            let user = &member.user_id;
            services.push.copy_room_rules(user, old, new).await?;
            if let Some(tags) = storage.get_account_data(user, Some(old), "m.tag").await? {
                services.account_data.set(user, Some(new), "m.tag", tags).await?;
            }
            let Some(direct) = storage.get_account_data(user, None, "m.direct").await? else {
                continue;
            };
            let mut direct: Value = serde_json::from_str(direct.get()).unwrap_or_default();
            let mut changed = false;
            for rooms in direct.as_object_mut().into_iter().flat_map(|m| m.values_mut()) {
                let Some(rooms) = rooms.as_array_mut() else { continue };
                if rooms.iter().any(|r| r == old.as_str())
                    && !rooms.iter().any(|r| r == new.as_str())
                {
                    rooms.push(json!(new));
                    changed = true;
                }
            }
            if changed {
                let content = serde_json::value::to_raw_value(&direct)?;
                services.account_data.set(user, None, "m.direct", content).await?;
            }
        }
        Ok(())
    }

    /// Stop regular users talking and inviting in the old room: `events_default` and `invite`
    /// at least `max(50, users_default + 1)` (spec: step 6). Skipped if not allowed.
    async fn restrict_old_levels(
        &self,
        old: &RoomId,
        user: &UserId,
        state: &StateMap,
    ) -> Result<()> {
        let Some(event) = self.state_pdu(state, "m.room.power_levels", "").await? else {
            return Ok(());
        };
        let mut levels = event.content_value();
        let users_default = levels["users_default"].as_i64().unwrap_or(0);
        let restricted = (users_default + 1).max(50);
        let mut changed = false;
        for key in ["events_default", "invite"] {
            let current = levels[key].as_i64().unwrap_or(0);
            if current < restricted {
                levels[key] = json!(restricted);
                changed = true;
            }
        }
        if changed {
            let template = EventTemplate::state("m.room.power_levels", "", levels);
            if let Err(e) = self.send_event(old, user, &template, None).await {
                tracing::warn!(room = %old, "old room's power levels not restricted: {e:?}");
            }
        }
        Ok(())
    }
}

struct UpgradeGuard<'a> {
    service: &'a Service,
    room: OwnedRoomId,
}

impl Drop for UpgradeGuard<'_> {
    fn drop(&mut self) {
        self.service.upgrading.lock().remove(&self.room);
    }
}

/// The level that sends every copied event and the bans: the highest of `state_default`,
/// `ban` and the per-event levels (Synapse).
fn needed_level(levels: &Value) -> i64 {
    let events = levels["events"].as_object().into_iter().flatten().filter_map(|(_, v)| v.as_i64());
    let state_default = levels["state_default"].as_i64().unwrap_or(50);
    let ban = levels["ban"].as_i64().unwrap_or(50);
    events.chain([state_default, ban]).max().unwrap_or(50)
}

/// Power levels with numeric strings made integers (room versions before 10 allowed them).
fn integer_levels(mut levels: Value) -> Value {
    fn fix(v: &mut Value) {
        match v {
            Value::String(s) => {
                if let Ok(n) = s.trim().parse::<i64>() {
                    *v = json!(n);
                }
            }
            Value::Object(map) => map.values_mut().for_each(fix),
            _ => {}
        }
    }
    fix(&mut levels);
    levels
}
