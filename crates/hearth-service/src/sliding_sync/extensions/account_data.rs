//! The account data extension (MSC3959): global account data (all on a connection's first
//! response, then what changed since `pos`) and room account data of the rooms in scope (all
//! for a room the extension has not covered before, then its changes).

use std::collections::{BTreeMap, BTreeSet};

use hearth_core::Result;
use hearth_storage::AccountDataChange;
use ruma::{OwnedRoomId, api::client::sync::sync_events::v5::response, serde::Raw};
use serde_json::json;

use crate::sliding_sync::{
    connection::{ConnState, Status},
    pass::Pass,
};

impl Pass<'_> {
    pub(super) async fn account_data(
        &self,
        rooms: &BTreeSet<OwnedRoomId>,
        state: &mut ConnState,
    ) -> Result<response::AccountData> {
        let global_since = self.since.map_or(0, |s| s.pos);
        let room_since: BTreeMap<&OwnedRoomId, i64> =
            rooms.iter().map(|room| (room, self.room_since(&state.account_data, room))).collect();
        let from = room_since.values().copied().chain([global_since]).min().unwrap_or(0);
        let changes =
            self.services.ctx.storage.account_data_changes(self.user, from, self.to_pos).await?;
        let mut out = response::AccountData::default();
        for change in changes {
            let since = match &change.room_id {
                None => global_since,
                Some(room) => match room_since.get(room) {
                    Some(since) => *since,
                    None => continue,
                },
            };
            if change.pos <= since {
                continue;
            }
            let Some(event) = event(&change) else { continue };
            match change.room_id {
                None => out.global.push(event.cast_unchecked()),
                Some(room) => out.rooms.entry(room).or_default().push(event.cast_unchecked()),
            }
        }
        if let Some(since) = self.since {
            ConnState::demote(&mut state.account_data, &|room| rooms.contains(room), since.pos);
        }
        for room in rooms {
            state.account_data.insert(room.clone(), Status::Live);
        }
        Ok(out)
    }

    /// Where the client's copy of a room's extension data is up to date (0: it has none).
    pub(super) fn room_since(
        &self,
        statuses: &imbl::HashMap<OwnedRoomId, Status>,
        room: &OwnedRoomId,
    ) -> i64 {
        match (self.since, statuses.get(room)) {
            (Some(since), Some(Status::Live)) => since.pos,
            (Some(_), Some(Status::Previously(pos))) => *pos,
            _ => 0,
        }
    }
}

fn event(change: &AccountDataChange) -> Option<Raw<serde_json::Value>> {
    let event = json!({ "type": change.data_type, "content": change.content });
    serde_json::value::to_raw_value(&event).ok().map(Raw::from_json)
}
