//! List filters (MSC4186 `SlidingRoomFilter`): every filter given must hold (AND); an unset
//! filter lets every room through. The data filters need (encryption, room types, tags, space
//! children) is read once per pass, for all rooms, and only when some list asks for it.

use std::collections::{HashMap, HashSet};

use hearth_core::Result;
use ruma::{
    OwnedRoomId, RoomId, api::client::sync::sync_events::v5::request::ListFilters,
    directory::RoomTypeFilter, events::room::member::MembershipState,
};
use serde::Deserialize;
use serde_json::Value;

use super::{lists::Candidate, pass::Pass};

/// Filters of the MSC's current text that ruma's request type lacks.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ExtraFilters {
    /// Rooms that are `m.space.child` of one of these spaces (the user must be joined to the
    /// space; subspaces are not followed).
    pub spaces: Option<Vec<OwnedRoomId>>,
    /// Rooms with one of these tags (`m.tag` room account data).
    pub tags: Option<Vec<String>>,
    /// Rooms with none of these tags; wins over `tags`.
    pub not_tags: Option<Vec<String>>,
    /// The MSC's later name for `is_invite`.
    pub is_invited: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct Filters {
    is_dm: Option<bool>,
    is_encrypted: Option<bool>,
    is_invite: Option<bool>,
    /// `None` (`null` in the request) stands for rooms without a type.
    room_types: Option<Vec<Option<String>>>,
    not_room_types: Vec<Option<String>>,
    spaces: Option<Vec<OwnedRoomId>>,
    tags: Option<Vec<String>>,
    not_tags: Vec<String>,
}

impl Filters {
    pub fn new(filters: Option<&ListFilters>, extra: Option<&ExtraFilters>) -> Filters {
        let types = |t: &[RoomTypeFilter]| -> Vec<Option<String>> {
            t.iter().map(|t| t.as_str().map(str::to_owned)).collect()
        };
        let extra = extra.cloned().unwrap_or_default();
        let Some(f) = filters else {
            return Filters {
                is_invite: extra.is_invited,
                spaces: extra.spaces,
                tags: extra.tags,
                not_tags: extra.not_tags.unwrap_or_default(),
                ..Filters::default()
            };
        };
        Filters {
            is_dm: f.is_dm,
            is_encrypted: f.is_encrypted,
            is_invite: f.is_invite.or(extra.is_invited),
            room_types: (!f.room_types.is_empty()).then(|| types(&f.room_types)),
            not_room_types: types(&f.not_room_types),
            spaces: extra.spaces,
            tags: extra.tags,
            not_tags: extra.not_tags.unwrap_or_default(),
        }
    }

    fn needs_room_info(&self) -> bool {
        self.is_encrypted.is_some() || self.room_types.is_some() || !self.not_room_types.is_empty()
    }

    fn needs_tags(&self) -> bool {
        self.tags.is_some() || !self.not_tags.is_empty()
    }
}

/// What the filters of one pass look at, read once.
#[derive(Default)]
pub struct FilterData {
    /// Rooms known to this server (with a create event): their type, and whether encrypted.
    rooms: HashMap<OwnedRoomId, RoomInfo>,
    tags: HashMap<OwnedRoomId, HashSet<String>>,
    space_children: HashMap<OwnedRoomId, HashSet<OwnedRoomId>>,
}

struct RoomInfo {
    room_type: Option<String>,
    encrypted: bool,
}

impl Pass<'_> {
    /// Read what the lists' filters need about `rooms`.
    pub async fn filter_data(&self, rooms: &[Candidate]) -> Result<FilterData> {
        let filters: Vec<&Filters> = self.req.lists.iter().map(|l| &l.filters).collect();
        let mut data = FilterData::default();
        let ids: Vec<OwnedRoomId> = rooms.iter().map(|c| c.membership.room_id.clone()).collect();
        if filters.iter().any(|f| f.needs_room_info()) {
            data.rooms = self.room_info(ids).await?;
        }
        if filters.iter().any(|f| f.needs_tags()) {
            data.tags = self.tags().await?;
        }
        let spaces: HashSet<&OwnedRoomId> =
            filters.iter().filter_map(|f| f.spaces.as_ref()).flatten().collect();
        for space in spaces {
            // Spaces the user is not joined to are ignored (MSC4186).
            let joined = rooms.iter().any(|c| {
                c.membership.room_id == *space && c.membership.membership == MembershipState::Join
            });
            let children = match joined {
                true => self.services.ctx.storage.space_children(space).await?,
                false => Vec::new(),
            };
            data.space_children.insert(space.clone(), children.into_iter().collect());
        }
        Ok(data)
    }

    async fn room_info(&self, rooms: Vec<OwnedRoomId>) -> Result<HashMap<OwnedRoomId, RoomInfo>> {
        let storage = &self.services.ctx.storage;
        let creates = storage.current_state_contents(rooms.clone(), "m.room.create", "").await?;
        let encrypted: HashSet<OwnedRoomId> = storage
            .current_state_contents(rooms, "m.room.encryption", "")
            .await?
            .into_iter()
            .filter(|(_, content)| field(content, "algorithm").is_some())
            .map(|(room, _)| room)
            .collect();
        Ok(creates
            .into_iter()
            .map(|(room, content)| {
                let info = RoomInfo {
                    room_type: field(&content, "type"),
                    encrypted: encrypted.contains(&room),
                };
                (room, info)
            })
            .collect())
    }

    /// Each room's tag names, from the user's `m.tag` room account data.
    async fn tags(&self) -> Result<HashMap<OwnedRoomId, HashSet<String>>> {
        let storage = &self.services.ctx.storage;
        let all = storage.account_data_changes(self.user, 0, self.to_pos).await?;
        Ok(all
            .into_iter()
            .filter(|c| c.data_type == "m.tag")
            .filter_map(|c| {
                let value: Value = serde_json::from_str(c.content.get()).ok()?;
                let names = value["tags"].as_object()?.keys().cloned().collect();
                Some((c.room_id?, names))
            })
            .collect())
    }
}

impl Filters {
    /// Whether a room passes every filter.
    pub fn allows(&self, room: &Candidate, dms: &HashSet<OwnedRoomId>, data: &FilterData) -> bool {
        let id = &room.membership.room_id;
        if self.is_dm.is_some_and(|dm| dm != dms.contains(id)) {
            return false;
        }
        let invited = room.membership.membership == MembershipState::Invite;
        if self.is_invite.is_some_and(|want| want != invited) {
            return false;
        }
        if self.needs_room_info() && !self.room_info_allows(id, data) {
            return false;
        }
        if let Some(spaces) = &self.spaces
            && !spaces.iter().any(|s| data.space_children.get(s).is_some_and(|c| c.contains(id)))
        {
            return false;
        }
        self.tags_allow(data.tags.get(id))
    }

    /// Rooms whose type and encryption are unknown here (an invite over federation) are left
    /// out when a list filters on them (Synapse).
    fn room_info_allows(&self, room: &RoomId, data: &FilterData) -> bool {
        let Some(info) = data.rooms.get(room) else { return false };
        if self.is_encrypted.is_some_and(|want| want != info.encrypted) {
            return false;
        }
        if let Some(types) = &self.room_types
            && !types.contains(&info.room_type)
        {
            return false;
        }
        !self.not_room_types.contains(&info.room_type)
    }

    fn tags_allow(&self, tags: Option<&HashSet<String>>) -> bool {
        let has = |t: &String| tags.is_some_and(|tags| tags.contains(t));
        if self.not_tags.iter().any(has) {
            return false;
        }
        self.tags.as_ref().is_none_or(|wanted| wanted.iter().any(has))
    }
}

/// A string field of a JSON object given as text.
fn field(content: &str, name: &str) -> Option<String> {
    let value: Value = serde_json::from_str(content).ok()?;
    value[name].as_str().map(str::to_owned)
}
