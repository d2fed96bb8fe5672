//! The published room list (spec: client-server-api "Room directory"): `GET`/`POST
//! /publicRooms` and each room's visibility in it. Only this server's list until federation;
//! there are no third-party networks (application services) yet, so a network's list is empty.

use hearth_core::{Error, Result};
use ruma::{
    OwnedRoomId, RoomId, ServerName,
    directory::{Filter, PublicRoomsChunk, PublicRoomsChunkInit, RoomNetwork, RoomTypeFilter},
    room::{JoinRuleSummary, RoomSummary},
};

use super::Service;
use crate::accounts::Session;

/// What a client asks of the published room list.
#[derive(Debug, Default)]
pub struct PublicRoomsQuery<'a> {
    pub server: Option<&'a ServerName>,
    pub limit: Option<u64>,
    pub since: Option<&'a str>,
    pub filter: Filter,
    pub network: RoomNetwork,
}

pub struct PublicRoomsPage {
    pub chunk: Vec<PublicRoomsChunk>,
    pub next_batch: Option<String>,
    pub prev_batch: Option<String>,
    pub total_room_count_estimate: u64,
}

impl Service {
    /// A page of the published rooms that match the filter, most joined members first.
    /// Pagination tokens are offsets into that order (`o<n>`).
    pub async fn public_rooms(&self, query: PublicRoomsQuery<'_>) -> Result<PublicRoomsPage> {
        if let Some(server) = query.server
            && server != self.ctx.config.server_name
        {
            return Err(Error::not_found(format!(
                "Listing the room directory of {server} needs federation, which this server \
                 does not support yet"
            )));
        }
        let offset = query.since.map(parse_token).transpose()?.unwrap_or(0);
        let rooms = match query.network {
            RoomNetwork::ThirdParty(_) => Vec::new(),
            _ => self.ctx.storage.published_rooms().await?,
        };
        let ids: Vec<OwnedRoomId> = rooms.into_iter().map(|(id, _)| id).collect();
        let mut matching: Vec<RoomSummary> = self
            .summaries(ids)
            .await?
            .into_iter()
            .filter(|s| listed(s) && matches(s, &query.filter))
            .collect();
        // Counts may have moved since the list was read; the sort is stable (room IDs stay ordered).
        matching.sort_by_key(|s| std::cmp::Reverse(s.num_joined_members));
        let total = matching.len() as u64;
        let limit = query.limit.unwrap_or(total).max(1);
        let start = offset.min(total);
        let end = start.saturating_add(limit).min(total);
        let chunk = matching.drain(start as usize..end as usize).map(chunk_of).collect();
        Ok(PublicRoomsPage {
            chunk,
            next_batch: (end < total).then(|| format!("o{end}")),
            prev_batch: (start > 0).then(|| format!("o{}", start.saturating_sub(limit))),
            total_room_count_estimate: total,
        })
    }

    /// `GET /directory/list/room/{roomId}`.
    pub async fn room_visibility(&self, room_id: &RoomId) -> Result<bool> {
        let room = self.ctx.storage.get_room(room_id).await?;
        room.map(|r| r.public).ok_or_else(|| Error::not_found(format!("Unknown room {room_id}")))
    }

    /// `PUT /directory/list/room/{roomId}`: by a member with the power to send
    /// `m.room.canonical_alias` (Synapse); never by guests.
    pub async fn set_room_visibility(
        &self,
        session: &Session,
        room_id: &RoomId,
        public: bool,
    ) -> Result<()> {
        session.forbid_guest()?;
        if self.ctx.storage.get_room(room_id).await?.is_none() {
            return Err(Error::not_found(format!("Unknown room {room_id}")));
        }
        if !self.can_edit_directory(room_id, &session.user_id).await? {
            return Err(Error::forbidden(
                "You need to be a moderator in the room to edit its room directory entry",
            ));
        }
        self.ctx.storage.set_room_public(room_id, public).await
    }
}

fn parse_token(token: &str) -> Result<u64> {
    token
        .strip_prefix('o')
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| Error::invalid_param(format!("Invalid pagination token {token:?}")))
}

/// Published rooms nobody could join or read are left out (spec allows it; Synapse does it).
fn listed(summary: &RoomSummary) -> bool {
    summary.world_readable
        || matches!(
            summary.join_rule,
            JoinRuleSummary::Public | JoinRuleSummary::Knock | JoinRuleSummary::KnockRestricted(_)
        )
}

/// `generic_search_term` (case-insensitive, in the name, topic or canonical alias) and
/// `room_types`.
fn matches(summary: &RoomSummary, filter: &Filter) -> bool {
    if let Some(term) = filter.generic_search_term.as_deref().filter(|t| !t.is_empty()) {
        let term = term.to_lowercase();
        let found = [summary.name.as_deref(), summary.topic.as_deref()]
            .into_iter()
            .chain([summary.canonical_alias.as_ref().map(|a| a.as_str())])
            .flatten()
            .any(|text| text.to_lowercase().contains(&term));
        if !found {
            return false;
        }
    }
    filter.room_types.is_empty()
        || filter.room_types.contains(&RoomTypeFilter::from(summary.room_type.clone()))
}

fn chunk_of(summary: RoomSummary) -> PublicRoomsChunk {
    let mut chunk: PublicRoomsChunk = PublicRoomsChunkInit {
        room_id: summary.room_id,
        num_joined_members: summary.num_joined_members,
        world_readable: summary.world_readable,
        guest_can_join: summary.guest_can_join,
    }
    .into();
    chunk.canonical_alias = summary.canonical_alias;
    chunk.name = summary.name;
    chunk.topic = summary.topic;
    chunk.avatar_url = summary.avatar_url;
    chunk.join_rule = summary.join_rule.kind();
    chunk.room_type = summary.room_type;
    chunk
}
