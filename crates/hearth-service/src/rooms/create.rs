//! `createRoom` (spec: client-server-api "Creation"): the create event, the creator's join,
//! power levels, the canonical alias, the preset's join rules / history visibility / guest
//! access, `initial_state`, name, topic, then invites — in that order, queued back to back so
//! they share commits.

use hearth_core::{Error, Result, config::ROOM_VERSIONS, utils::now_millis};
use http::StatusCode;
use ruma::{
    OwnedRoomAliasId, OwnedRoomId, OwnedUserId, RoomAliasId, RoomId, RoomVersionId, UserId,
    api::{
        client::room::{
            Visibility,
            create_room::v3::{Request, RoomPreset},
        },
        error::ErrorKind,
    },
    events::TimelineEventType,
};
use serde_json::{Map, Value, json};

use super::{EventTemplate, Service, content, head::RoomHead};

/// Create events tried before giving up on finding an unused room ID.
const CREATE_ATTEMPTS: u64 = 64;

impl Service {
    pub async fn create_room(&self, sender: &UserId, req: &Request) -> Result<OwnedRoomId> {
        self.create_room_with_id(sender, req, None).await
    }

    /// `create_room`, with the ID chosen by the caller for versions before 12 (room upgrades
    /// name the new room in the old room's tombstone first).
    pub(super) async fn create_room_with_id(
        &self,
        sender: &UserId,
        req: &Request,
        room_id: Option<OwnedRoomId>,
    ) -> Result<OwnedRoomId> {
        let version = self.requested_version(req.room_version.as_ref())?;
        let rules = version.rules().expect("checked supported");
        let alias = self.requested_alias(req.room_alias_name.as_deref()).await?;
        let preset = req.preset.clone().unwrap_or(match req.visibility {
            Visibility::Public => RoomPreset::PublicChat,
            _ => RoomPreset::PrivateChat,
        });
        let trusted = preset == RoomPreset::TrustedPrivateChat;
        let initial_state = initial_state(req)?;
        let has = |kind: &str| {
            initial_state
                .iter()
                .any(|t| t.kind.to_string() == kind && t.state_key.as_deref() == Some(""))
        };

        let create = create_template(sender, req, &version, &rules, trusted)?;
        let power_levels = power_levels(sender, req, &rules, trusted, &initial_state)?;
        let mut templates =
            vec![self.member_template(sender, json!({"membership": "join"})).await?, power_levels];
        if let Some(alias) = &alias {
            templates.push(EventTemplate::state(
                "m.room.canonical_alias",
                "",
                json!({"alias": alias}),
            ));
        }
        // The preset table's `guest_access: forbidden` (public_chat) is what a room without the
        // event has, so only the private presets send one (as Synapse does).
        let public = preset == RoomPreset::PublicChat;
        let mut preset_state = vec![
            ("m.room.join_rules", json!({"join_rule": if public { "public" } else { "invite" }})),
            ("m.room.history_visibility", json!({"history_visibility": "shared"})),
        ];
        if !public {
            preset_state.push(("m.room.guest_access", json!({"guest_access": "can_join"})));
        }
        for (kind, content) in preset_state {
            if !has(kind) {
                templates.push(EventTemplate::state(kind, "", content));
            }
        }
        templates.extend(
            initial_state.into_iter().filter(|t| t.kind != TimelineEventType::RoomPowerLevels),
        );
        if let Some(name) = &req.name {
            templates.push(EventTemplate::state("m.room.name", "", json!({"name": name})));
        }
        if let Some(topic) = &req.topic {
            templates.push(EventTemplate::state(
                "m.room.topic",
                "",
                json!({"topic": topic, "m.topic": {"m.text": [{"mimetype": "text/plain", "body": topic}]}}),
            ));
        }
        for invitee in &req.invite {
            let mut content = json!({"membership": "invite"});
            if req.is_direct {
                content["is_direct"] = json!(true);
            }
            templates.push(self.member_template(invitee, content).await?);
        }
        for t in &templates {
            content::validate(t)?;
            content::validate_for_version(t, &rules.authorization)?;
        }

        let public = req.visibility == Visibility::Public;
        let room_id = self.create_event(sender, &version, create, public, room_id).await?;
        if let Some(alias) = &alias
            && !self.ctx.storage.create_alias(alias, &room_id, sender).await?
        {
            return Err(Error::new(
                StatusCode::BAD_REQUEST,
                ErrorKind::RoomInUse,
                "Room alias already taken",
            ));
        }
        let mut commits = Vec::with_capacity(templates.len());
        for t in &templates {
            commits.push(self.submit(&room_id, sender, t, None).await?);
        }
        for commit in commits {
            commit.await?;
        }
        Ok(room_id)
    }

    pub(super) fn requested_version(
        &self,
        requested: Option<&RoomVersionId>,
    ) -> Result<RoomVersionId> {
        let version = match requested {
            Some(v) => v.clone(),
            None => RoomVersionId::try_from(self.ctx.config.rooms.default_version.as_str())
                .map_err(Error::internal)?,
        };
        if !ROOM_VERSIONS.contains(&version.as_str()) || version.rules().is_none() {
            return Err(Error::new(
                StatusCode::BAD_REQUEST,
                ErrorKind::UnsupportedRoomVersion,
                format!("Room version {version} is not supported"),
            ));
        }
        Ok(version)
    }

    async fn requested_alias(&self, name: Option<&str>) -> Result<Option<OwnedRoomAliasId>> {
        let Some(name) = name else { return Ok(None) };
        let alias = RoomAliasId::parse(format!("#{name}:{}", self.ctx.config.server_name))
            .map_err(|e| Error::invalid_param(format!("Invalid room_alias_name: {e}")))?;
        if name.is_empty() || name.contains(':') || name.contains(char::is_whitespace) {
            return Err(Error::invalid_param("Invalid room_alias_name"));
        }
        if self.ctx.storage.resolve_alias(&alias).await?.is_some() {
            return Err(Error::new(
                StatusCode::BAD_REQUEST,
                ErrorKind::RoomInUse,
                "Room alias already taken",
            ));
        }
        Ok(Some(alias))
    }

    /// Build and persist the create event; returns the new room's ID.
    async fn create_event(
        &self,
        sender: &UserId,
        version: &RoomVersionId,
        mut template: EventTemplate,
        public: bool,
        room_id: Option<OwnedRoomId>,
    ) -> Result<OwnedRoomId> {
        let rules = version.rules().expect("supported version");
        let first = now_millis();
        for ts in first..first + CREATE_ATTEMPTS {
            // Before v12 the room ID is chosen here; since v12 it is the create event's hash.
            let provisional =
                room_id.clone().unwrap_or_else(|| RoomId::new_v1(&self.ctx.config.server_name));
            let head = RoomHead::empty(provisional, version.clone(), rules.clone());
            template.origin_server_ts = Some(ts);
            let pdu = self.build_pdu(&head, sender, &template).await?;
            let head = RoomHead { room_id: pdu.room_id.clone(), ..head };
            if let Some(created) = self.persist_new_room(head, pdu, public).await? {
                return Ok(created);
            }
            // Since v12 a create event's only entropy is its millisecond timestamp: one user
            // creating identical rooms at once hashes to one room ID. Like Synapse, try again a
            // millisecond later, which gives another ID.
        }
        Err(Error::internal(format!("no free room ID after {CREATE_ATTEMPTS} attempts")))
    }
}

fn create_template(
    sender: &UserId,
    req: &Request,
    version: &RoomVersionId,
    rules: &ruma::room_version_rules::RoomVersionRules,
    trusted: bool,
) -> Result<EventTemplate> {
    let mut content: Map<String, Value> = match &req.creation_content {
        Some(raw) => serde_json::from_str(raw.json().get())
            .map_err(|e| Error::bad_json(format!("Invalid creation_content: {e}")))?,
        None => Map::new(),
    };
    content.insert("room_version".into(), json!(version.as_str()));
    if rules.authorization.use_room_create_sender {
        content.remove("creator");
    } else {
        content.insert("creator".into(), json!(sender));
    }
    if rules.authorization.additional_room_creators {
        let mut creators: Vec<OwnedUserId> = match content.get("additional_creators") {
            Some(v) => serde_json::from_value(v.clone())
                .map_err(|e| Error::bad_json(format!("Invalid additional_creators: {e}")))?,
            None => Vec::new(),
        };
        // Synapse: in v12 a trusted private chat makes the invitees creators.
        if trusted {
            creators.extend(req.invite.iter().cloned());
        }
        creators.retain(|c| c != sender);
        creators.dedup();
        if !creators.is_empty() {
            content.insert("additional_creators".into(), json!(creators));
        }
    } else {
        content.remove("additional_creators");
    }
    Ok(EventTemplate::state(TimelineEventType::RoomCreate, "", Value::Object(content)))
}

fn power_levels(
    sender: &UserId,
    req: &Request,
    rules: &ruma::room_version_rules::RoomVersionRules,
    trusted: bool,
    initial_state: &[EventTemplate],
) -> Result<EventTemplate> {
    let privileged_creators = rules.authorization.explicitly_privilege_room_creators;
    let mut users = Map::new();
    if !privileged_creators {
        users.insert(sender.to_string(), json!(100));
        if trusted {
            for invitee in &req.invite {
                users.insert(invitee.to_string(), json!(100));
            }
        }
    }
    let mut content = json!({
        "users": users,
        "users_default": 0,
        "events": {
            "m.room.name": 50,
            "m.room.power_levels": 100,
            "m.room.history_visibility": 100,
            "m.room.canonical_alias": 50,
            "m.room.avatar": 50,
            "m.room.tombstone": 100,
            "m.room.server_acl": 100,
            "m.room.encryption": 100,
        },
        "events_default": 0,
        "state_default": 50,
        "ban": 50,
        "kick": 50,
        "redact": 50,
        "invite": 50,
        "notifications": {"room": 50},
    });
    if let Some(t) = initial_state.iter().find(|t| t.kind == TimelineEventType::RoomPowerLevels) {
        content = t.content.clone();
    }
    if let Some(raw) = &req.power_level_content_override {
        let overrides: Map<String, Value> = serde_json::from_str(raw.json().get())
            .map_err(|e| Error::bad_json(format!("Invalid power_level_content_override: {e}")))?;
        for (k, v) in overrides {
            content[k] = v;
        }
    }
    Ok(EventTemplate::state(TimelineEventType::RoomPowerLevels, "", content))
}

/// `initial_state`; create and member events there are ignored (createRoom makes those).
fn initial_state(req: &Request) -> Result<Vec<EventTemplate>> {
    let mut out = Vec::new();
    for raw in &req.initial_state {
        let event: Value = serde_json::from_str(raw.json().get())
            .map_err(|e| Error::bad_json(format!("Invalid initial_state event: {e}")))?;
        let kind = event["type"]
            .as_str()
            .ok_or_else(|| Error::bad_json("initial_state event without a type"))?;
        let key = event.get("state_key").and_then(Value::as_str).unwrap_or("");
        let content = event.get("content").cloned().unwrap_or(json!({}));
        if matches!(kind, "m.room.create" | "m.room.member") {
            continue;
        }
        out.push(EventTemplate::state(kind, key, content));
    }
    Ok(out)
}
