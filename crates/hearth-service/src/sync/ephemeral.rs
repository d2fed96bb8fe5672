//! A room's ephemeral section (spec: `/sync` `ephemeral`): the typing list when it changed
//! since the client's token (or is not empty, for a client new to the room), and the receipts
//! stored since then, as one `m.receipt` event.

use hearth_storage::ReceiptRecord;
use ruma::RoomId;
use serde_json::{json, value::RawValue};

use super::{
    Pass,
    filter::{EventConditions, room_allowed},
};
use crate::receipts::receipt_event;

impl Pass<'_> {
    /// `fresh`: the client knows nothing of the room yet.
    pub fn ephemeral(
        &self,
        room_id: &RoomId,
        receipts: &[ReceiptRecord],
        fresh: bool,
    ) -> Vec<Box<RawValue>> {
        let filter = &self.filter.room.ephemeral;
        if !room_allowed(&filter.rooms, &filter.not_rooms, room_id) {
            return Vec::new();
        }
        let mut events: Vec<(&str, Box<RawValue>)> = Vec::new();
        if let Some(typing) = self.services.typing.room(room_id) {
            let changed = match self.since {
                Some(since) if !fresh => typing.changed_at > since.eph,
                _ => !typing.user_ids.is_empty(),
            };
            if changed {
                let event = json!({"type": "m.typing", "content": {"user_ids": typing.user_ids}});
                events
                    .extend(serde_json::value::to_raw_value(&event).ok().map(|e| ("m.typing", e)));
            }
        }
        events.extend(receipt_event(receipts, self.user).map(|e| ("m.receipt", e)));
        let conditions = EventConditions::of_room_filter(filter);
        conditions
            .apply(events, |(kind, _)| ((*kind).to_owned(), None))
            .into_iter()
            .map(|(_, e)| e)
            .collect()
    }
}
