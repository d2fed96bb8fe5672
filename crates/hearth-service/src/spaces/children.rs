//! A space's children: its `m.space.child` state events with a non-empty `via`, in the spec's
//! order ("Ordering of children within a space"): a valid `order` first, compared by code
//! points, then by the event's `origin_server_ts`, then by room ID.

use std::cmp::Ordering;

use hearth_core::Result;
use ruma::{OwnedRoomId, RoomId};
use serde_json::{Value, json};

use super::Service;

/// A child as the hierarchy lists it.
pub(super) struct Child {
    pub room_id: OwnedRoomId,
    /// The stripped `m.space.child` event, with `origin_server_ts`.
    pub event: Value,
    order: Option<String>,
    ts: u64,
}

impl Service {
    /// The children of `room` (only suggested ones if `suggested_only`), ordered.
    pub(super) async fn children(&self, room: &RoomId, suggested_only: bool) -> Result<Vec<Child>> {
        let rooms = &self.services()?.rooms;
        let state = rooms.head_state(room).await?;
        let mut out = Vec::new();
        for ((kind, key), id) in state.iter() {
            if kind != "m.space.child" {
                continue;
            }
            let Ok(room_id) = OwnedRoomId::try_from(key.as_str()) else { continue };
            let Some(event) = rooms.pdu(id).await? else { continue };
            let content = event.content_value();
            let has_via = content["via"].as_array().is_some_and(|v| !v.is_empty());
            if !has_via || (suggested_only && content["suggested"] != true) {
                continue;
            }
            let order = content["order"].as_str().filter(|o| valid_order(o)).map(str::to_owned);
            let ts = u64::from(event.origin_server_ts.0);
            let event = json!({
                "type": "m.space.child", "state_key": key, "content": content,
                "sender": event.sender, "origin_server_ts": ts,
            });
            out.push(Child { room_id, event, order, ts });
        }
        out.sort_by(compare);
        Ok(out)
    }
}

/// At most 50 characters between `\x20` and `\x7E` (spec: `m.space.child`).
fn valid_order(order: &str) -> bool {
    order.len() <= 50 && order.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

fn compare(a: &Child, b: &Child) -> Ordering {
    let by_order = match (&a.order, &b.order) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    by_order.then(a.ts.cmp(&b.ts)).then_with(|| a.room_id.cmp(&b.room_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(room: &str, order: Option<&str>, ts: u64) -> Child {
        Child {
            room_id: OwnedRoomId::try_from(room).unwrap(),
            event: Value::Null,
            order: order.map(str::to_owned),
            ts,
        }
    }

    #[test]
    fn orders_by_order_then_timestamp_then_room_id() {
        let mut children = [
            child("!d:x", None, 1),
            child("!c:x", None, 1),
            child("!b:x", Some("b"), 9),
            child("!a:x", Some("a"), 9),
            child("!e:x", None, 0),
        ];
        children.sort_by(compare);
        let ids: Vec<&str> = children.iter().map(|c| c.room_id.as_str()).collect();
        assert_eq!(ids, ["!a:x", "!b:x", "!e:x", "!c:x", "!d:x"]);
        assert!(valid_order(" ~"));
        assert!(!valid_order("\u{7f}"));
        assert!(!valid_order(&"a".repeat(51)));
    }
}
