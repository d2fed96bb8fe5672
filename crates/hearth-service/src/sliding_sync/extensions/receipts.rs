//! The receipts extension (MSC3960): receipts of the rooms in scope since the client's copy.
//! For a room the client gets from scratch, only the receipts on the events of its timeline
//! and the user's own (as Synapse, so a large room does not send every member's receipt).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use hearth_core::Result;
use hearth_storage::ReceiptRecord;
use ruma::{OwnedEventId, OwnedRoomId, api::client::sync::sync_events::v5::response, serde::Raw};

use crate::{
    receipts::receipt_event,
    sliding_sync::{
        connection::{ConnState, Status},
        pass::Pass,
        room::Built,
    },
};

impl Pass<'_> {
    pub(super) async fn receipts(
        &self,
        rooms: &BTreeSet<OwnedRoomId>,
        built: &[Built],
        state: &mut ConnState,
    ) -> Result<response::Receipts> {
        let storage = &self.services.ctx.storage;
        let mut fresh: BTreeMap<&OwnedRoomId, HashSet<&OwnedEventId>> = BTreeMap::new();
        let mut by_since: BTreeMap<i64, Vec<OwnedRoomId>> = BTreeMap::new();
        for room in rooms {
            let rebuilt = built.iter().find(|b| &b.room_id == room);
            let since = self.room_since(&state.receipts, room);
            if since == 0 || rebuilt.is_some_and(|b| b.initial) {
                let timeline = rebuilt.map(|b| b.timeline.iter().collect()).unwrap_or_default();
                fresh.insert(room, timeline);
            } else {
                by_since.entry(since).or_default().push(room.clone());
            }
        }
        let mut found: Vec<ReceiptRecord> = Vec::new();
        for (since, rooms) in by_since {
            found.extend(storage.room_receipts(rooms, since, self.to_pos).await?);
        }
        if !fresh.is_empty() {
            let all = storage
                .room_receipts(fresh.keys().map(|r| (*r).clone()).collect(), 0, self.to_pos)
                .await?;
            found.extend(all.into_iter().filter(|r| {
                r.user_id == self.user
                    || fresh.get(&r.room_id).is_some_and(|events| events.contains(&r.event_id))
            }));
        }
        let mut per_room: BTreeMap<OwnedRoomId, Vec<ReceiptRecord>> = BTreeMap::new();
        for r in found {
            per_room.entry(r.room_id.clone()).or_default().push(r);
        }
        let mut out = response::Receipts::default();
        for (room, records) in per_room {
            if let Some(event) = receipt_event(&records, self.user) {
                out.rooms.insert(room, Raw::from_json(event));
            }
        }
        if let Some(since) = self.since {
            ConnState::demote(&mut state.receipts, &|room| rooms.contains(room), since.pos);
        }
        for room in rooms {
            state.receipts.insert(room.clone(), Status::Live);
        }
        Ok(out)
    }
}
