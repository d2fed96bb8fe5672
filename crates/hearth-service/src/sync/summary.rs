//! The room summary (spec: `/sync` `RoomSummary`): member counts, and heroes when the room has
//! no name or canonical alias to show.

use hearth_core::Result;
use ruma::RoomId;

use super::{Pass, response::RoomSummary, state::StateAt};

/// Heroes listed at most (spec: "the first 5 members").
const HEROES: usize = 5;

impl Pass<'_> {
    pub async fn summary(&self, room_id: &RoomId, end: &StateAt) -> Result<RoomSummary> {
        let storage = &self.services.ctx.storage;
        let mut records =
            storage.room_summaries(vec![room_id.to_owned()], self.user, HEROES).await?;
        let record = records.pop().map(|(_, r)| r).unwrap_or_default();
        let named = self.has_name(end).await?;
        Ok(RoomSummary {
            heroes: (!named).then_some(record.heroes),
            joined_member_count: Some(record.joined),
            invited_member_count: Some(record.invited),
        })
    }

    /// A non-empty `m.room.name`, or a canonical alias.
    async fn has_name(&self, state: &StateAt) -> Result<bool> {
        let rooms = &self.services.rooms;
        for (kind, field) in [("m.room.name", "name"), ("m.room.canonical_alias", "alias")] {
            let Some(id) = state.map.get(&(kind.to_owned(), String::new())) else { continue };
            let Some(pdu) = rooms.pdu(id).await? else { continue };
            if pdu.content_value()[field].as_str().is_some_and(|v| !v.is_empty()) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
