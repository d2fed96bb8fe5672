//! The typing extension (MSC3961): the typing list of each room in scope whose list changed
//! since the client's `pos` (or that is not empty, for a room sent from scratch). Not tracked
//! per connection: a room that was out of scope for a while gets its current list, and typing
//! notices that lapsed meanwhile do not matter (Synapse).

use std::collections::BTreeSet;

use hearth_core::Result;
use ruma::{OwnedRoomId, api::client::sync::sync_events::v5::response, serde::Raw};
use serde_json::json;

use crate::sliding_sync::{pass::Pass, room::Built};

impl Pass<'_> {
    pub(super) fn typing(
        &self,
        rooms: &BTreeSet<OwnedRoomId>,
        built: &[Built],
    ) -> Result<response::Typing> {
        let mut out = response::Typing::default();
        for room in rooms {
            let Some(typing) = self.services.typing.room(room) else { continue };
            let fresh = built.iter().any(|b| &b.room_id == room && b.initial);
            let changed = match self.since {
                Some(since) if !fresh => typing.changed_at > since.eph,
                _ => !typing.user_ids.is_empty(),
            };
            if changed {
                let event = json!({"type": "m.typing", "content": {"user_ids": typing.user_ids}});
                out.rooms
                    .insert(room.clone(), Raw::from_json(serde_json::value::to_raw_value(&event)?));
            }
        }
        Ok(out)
    }
}
