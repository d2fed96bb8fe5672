//! Reading a room (spec: client-server-api "Getting events for a room"): one event, the state,
//! one state event, members, joined members, joined rooms.

use std::{collections::BTreeMap, sync::Arc};

use hearth_core::{Error, Result};
use hearth_storage::EventRecord;
use ruma::{
    DeviceId, EventId, OwnedRoomId, OwnedUserId, RoomId, UserId,
    events::room::member::MembershipState,
};
use serde_json::value::RawValue;

use super::{PaginationToken, Pdu, Service, client::Viewer, pdu::PduRef, state::StateMap};

/// A member as `/joined_members` lists it.
#[derive(Debug, Clone)]
pub struct JoinedMember {
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
}

impl Service {
    /// A stored event with its parsed PDU (from the cache when there).
    pub(crate) async fn loaded(&self, record: EventRecord) -> Result<(EventRecord, PduRef)> {
        if let Some(pdu) = self.events.lock().get(&record.event_id) {
            return Ok((record, pdu.clone()));
        }
        let (_, rules) = self
            .room_version(&record.room_id)
            .await?
            .ok_or_else(|| Error::internal(format!("room of {} unknown", record.event_id)))?;
        let mut pdu = Pdu::from_str(record.event_id.clone(), &record.json, &rules)?;
        pdu.rejected = record.rejected;
        let pdu = Arc::new(pdu);
        self.events.lock().put(record.event_id.clone(), pdu.clone());
        Ok((record, pdu))
    }

    /// `GET /rooms/{roomId}/event/{eventId}`: `M_NOT_FOUND` also when the user may not see it.
    pub async fn get_event(
        &self,
        user: &UserId,
        device: Option<&DeviceId>,
        room_id: &RoomId,
        event_id: &EventId,
    ) -> Result<Box<RawValue>> {
        let not_found = || Error::not_found("Event not found");
        let record = self.ctx.storage.get_event(event_id).await?.ok_or_else(not_found)?;
        if record.room_id != room_id || record.outlier || record.rejected {
            return Err(not_found());
        }
        if !self.can_see_event(user, &record).await? {
            return Err(not_found());
        }
        let event = self.loaded(record).await?;
        let relations = &self.services()?.relations;
        let served = relations.client_events(Viewer { user, device }, &[event]).await?;
        served.into_iter().next().ok_or_else(|| Error::internal("event not served"))
    }

    /// The state a user may read: the current state while joined (or in a world-readable
    /// room), the state when they left otherwise (Synapse). `M_FORBIDDEN` if never a member.
    pub(crate) async fn readable_state(&self, user: &UserId, room_id: &RoomId) -> Result<StateMap> {
        if self.room_version(room_id).await?.is_none() {
            return Err(Error::forbidden("You are not a member of this room"));
        }
        let membership = self.ctx.storage.membership(room_id, user).await?;
        match membership {
            Some(m) if m.membership == MembershipState::Join => self.committed_state(room_id).await,
            Some(m) if matches!(m.membership, MembershipState::Leave | MembershipState::Ban) => {
                let record = self.ctx.storage.get_event(&m.event_id).await?;
                match record.and_then(|r| r.state_group_after) {
                    Some(g) => Ok(self.state_group(g).await?.map),
                    None => Err(Error::forbidden("You are not a member of this room")),
                }
            }
            _ if self.is_world_readable(room_id).await? => self.committed_state(room_id).await,
            _ => Err(Error::forbidden("You are not a member of this room")),
        }
    }

    /// The committed current state.
    async fn committed_state(&self, room_id: &RoomId) -> Result<StateMap> {
        Ok(self.ctx.storage.current_state(room_id).await?.into_iter().collect())
    }

    /// Whether the room's current history visibility is `world_readable` (`false` for a room
    /// this server does not know).
    pub(crate) async fn is_world_readable(&self, room_id: &RoomId) -> Result<bool> {
        let id =
            self.ctx.storage.current_state_event(room_id, "m.room.history_visibility", "").await?;
        let Some(id) = id else { return Ok(false) };
        Ok(self
            .pdu(&id)
            .await?
            .is_some_and(|e| e.content_value()["history_visibility"] == "world_readable"))
    }

    /// `GET /rooms/{roomId}/state`.
    pub async fn get_state(&self, user: &UserId, room_id: &RoomId) -> Result<Vec<Box<RawValue>>> {
        let state = self.readable_state(user, room_id).await?;
        self.client_events(user, state.values().cloned().collect()).await
    }

    /// `GET /rooms/{roomId}/state/{eventType}/{stateKey}`: the content, or the whole event.
    pub async fn get_state_event(
        &self,
        user: &UserId,
        room_id: &RoomId,
        kind: &str,
        state_key: &str,
        whole_event: bool,
    ) -> Result<Box<RawValue>> {
        let state = self.readable_state(user, room_id).await?;
        let id = state
            .get(&(kind.to_owned(), state_key.to_owned()))
            .ok_or_else(|| Error::not_found("Event not found"))?;
        let record = self
            .ctx
            .storage
            .get_event(id)
            .await?
            .ok_or_else(|| Error::not_found("Event not found"))?;
        let (record, pdu) = self.loaded(record).await?;
        let event = self.client_event(&record, &pdu, Some(Viewer { user, device: None })).await?;
        if whole_event {
            return Ok(event);
        }
        let value: serde_json::Value = serde_json::from_str(event.get())?;
        Ok(serde_json::value::to_raw_value(&value["content"])?)
    }

    /// Client events for stored event IDs, in the order given.
    pub(crate) async fn client_events(
        &self,
        user: &UserId,
        ids: Vec<ruma::OwnedEventId>,
    ) -> Result<Vec<Box<RawValue>>> {
        let mut records = self.ctx.storage.get_events(ids.clone()).await?;
        records.sort_by_key(|r| ids.iter().position(|i| *i == r.event_id));
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            let (record, pdu) = self.loaded(record).await?;
            out.push(self.client_event(&record, &pdu, Some(Viewer { user, device: None })).await?);
        }
        Ok(out)
    }

    /// `GET /rooms/{roomId}/members`: member events of the state now or `at` a token,
    /// filtered by `membership` / `not_membership`.
    pub async fn members(
        &self,
        user: &UserId,
        room_id: &RoomId,
        at: Option<&str>,
        membership: Option<&MembershipState>,
        not_membership: Option<&MembershipState>,
    ) -> Result<Vec<Box<RawValue>>> {
        let mut state = self.readable_state(user, room_id).await?;
        if let Some(at) = at {
            let token: PaginationToken = at.parse()?;
            let record = self.ctx.storage.room_event_at(room_id, token.0).await?;
            if let Some(group) = record.and_then(|r| r.state_group_after) {
                state = self.state_group(group).await?.map;
            }
        }
        let mut ids = Vec::new();
        for ((kind, _), id) in state.iter() {
            if kind != "m.room.member" {
                continue;
            }
            let Some(pdu) = self.pdu(id).await? else { continue };
            let m = MembershipState::from(
                pdu.content_value()["membership"].as_str().unwrap_or_default(),
            );
            if membership.is_some_and(|want| *want != m)
                || not_membership.is_some_and(|skip| *skip == m)
            {
                continue;
            }
            ids.push(id.clone());
        }
        self.client_events(user, ids).await
    }

    /// `GET /rooms/{roomId}/joined_members`: only for members (spec).
    pub async fn joined_members(
        &self,
        user: &UserId,
        room_id: &RoomId,
    ) -> Result<BTreeMap<OwnedUserId, JoinedMember>> {
        self.readable_state(user, room_id).await?;
        let members = self.ctx.storage.room_members(room_id, &[MembershipState::Join]).await?;
        Ok(members
            .into_iter()
            .map(|m| {
                (m.user_id, JoinedMember { display_name: m.display_name, avatar_url: m.avatar_url })
            })
            .collect())
    }

    /// `GET /joined_rooms`.
    pub async fn joined_rooms(&self, user: &UserId) -> Result<Vec<OwnedRoomId>> {
        let rooms = self.ctx.storage.rooms_for_user(user, &[MembershipState::Join]).await?;
        Ok(rooms.into_iter().map(|m| m.room_id).collect())
    }
}
