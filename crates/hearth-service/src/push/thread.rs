//! Which thread an event belongs to (spec: client-server-api "Threaded read receipts"): an
//! `m.thread` relation names its root; otherwise the event's relation is followed, at most 3
//! hops, looking for one. Thread roots and everything else are in the main timeline.

use hearth_core::Result;
use ruma::{EventId, OwnedEventId};
use serde_json::Value;

use crate::rooms;

const MAX_HOPS: usize = 3;

/// The thread root of the event with `content`, or `None` for the main timeline.
pub(super) async fn thread_of(
    rooms: &rooms::Service,
    content: &Value,
) -> Result<Option<OwnedEventId>> {
    let mut content = content.clone();
    for _ in 0..MAX_HOPS {
        let relates_to = &content["m.relates_to"];
        let Some(parent) = relates_to["event_id"].as_str().and_then(|id| EventId::parse(id).ok())
        else {
            return Ok(None);
        };
        if relates_to["rel_type"] == "m.thread" {
            return Ok(Some(parent));
        }
        match rooms.pdu(&parent).await? {
            Some(pdu) => content = pdu.content_value(),
            None => return Ok(None),
        }
    }
    Ok(None)
}
