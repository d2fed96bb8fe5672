//! Each room's head in memory: what building the next event needs (version, forward
//! extremities, depth, current state) without a database read. Events of one room are built
//! one at a time under the room's async mutex; the head advances when an event is handed to
//! the writer, so the next event is built while the first commits. A failed commit drops the
//! head (it is reloaded from the database) unless a later failure already did.

use std::sync::Arc;

use hearth_core::{Error, Result};
use ruma::{
    OwnedEventId, OwnedRoomId, RoomId, RoomVersionId, room_version_rules::RoomVersionRules,
};
use tokio::sync::Mutex;

use super::{Service, state::StateMap};

#[derive(Clone)]
pub(crate) struct RoomHead {
    pub room_id: OwnedRoomId,
    pub version: RoomVersionId,
    pub rules: RoomVersionRules,
    pub extremities: Vec<OwnedEventId>,
    /// The greatest depth among the extremities.
    pub depth: u64,
    /// The current state: the state after the extremities (resolved when there are several).
    pub state: StateMap,
    /// The stored group holding `state`, if there is one.
    pub state_group: Option<i64>,
    pub chain_len: u32,
}

impl RoomHead {
    /// The head of a room about to be created: no events, no state.
    pub fn empty(room_id: OwnedRoomId, version: RoomVersionId, rules: RoomVersionRules) -> Self {
        RoomHead {
            room_id,
            version,
            rules,
            extremities: Vec::new(),
            depth: 0,
            state: StateMap::new(),
            state_group: None,
            chain_len: 0,
        }
    }
}

#[derive(Default)]
pub(crate) struct HeadSlot {
    pub head: Option<RoomHead>,
    /// Bumped whenever the head is dropped after a failed commit.
    pub generation: u64,
}

pub(crate) type Slot = Arc<Mutex<HeadSlot>>;

/// Rooms kept in memory before idle ones are dropped.
const MAX_ROOMS: usize = 20_000;

impl Service {
    pub(crate) fn slot(&self, room_id: &RoomId) -> Slot {
        let mut rooms = self.rooms.lock();
        if let Some(slot) = rooms.get(room_id) {
            return slot.clone();
        }
        if rooms.len() >= MAX_ROOMS {
            // Only idle rooms: nobody holds their slot, so nothing is being built or committed.
            rooms.retain(|_, slot| Arc::strong_count(slot) > 1);
        }
        rooms.entry(room_id.to_owned()).or_default().clone()
    }

    /// The room's head, loaded from the database if it is not in memory.
    /// `M_NOT_FOUND` for a room this server does not know.
    pub(crate) async fn loaded_head<'a>(
        &self,
        slot: &'a mut HeadSlot,
        room_id: &RoomId,
    ) -> Result<&'a RoomHead> {
        if slot.head.is_none() {
            slot.head = Some(self.load_head(room_id).await?);
        }
        Ok(slot.head.as_ref().expect("just loaded"))
    }

    async fn load_head(&self, room_id: &RoomId) -> Result<RoomHead> {
        let record = self
            .ctx
            .storage
            .room_head(room_id)
            .await?
            .ok_or_else(|| Error::not_found("Unknown room"))?;
        let (version, rules) = parse_version(&record.room.version)?;
        let mut states = Vec::new();
        let mut groups = Vec::new();
        for extremity in &record.extremities {
            let group = extremity
                .state_group_after
                .ok_or_else(|| Error::internal(format!("{} has no state", extremity.event_id)))?;
            states.push(self.state_group(group).await?);
            groups.push(group);
        }
        let (state, state_group, chain_len) = if states.len() == 1 {
            let only = states.pop().expect("one state");
            (only.map, Some(groups[0]), only.chain_len)
        } else {
            let maps = states.into_iter().map(|s| s.map).collect();
            (self.resolve_states(&rules, maps, None).await?, None, 0)
        };
        Ok(RoomHead {
            room_id: room_id.to_owned(),
            version,
            rules,
            extremities: record.extremities.iter().map(|e| e.event_id.clone()).collect(),
            depth: record.extremities.iter().map(|e| e.depth.max(0) as u64).max().unwrap_or(0),
            state,
            state_group,
            chain_len,
        })
    }
}

pub(crate) fn parse_version(version: &str) -> Result<(RoomVersionId, RoomVersionRules)> {
    let id = RoomVersionId::try_from(version)
        .map_err(|_| Error::internal(format!("stored room version {version:?} is invalid")))?;
    let rules = id
        .rules()
        .ok_or_else(|| Error::internal(format!("room version {version} is not supported")))?;
    Ok((id, rules))
}
