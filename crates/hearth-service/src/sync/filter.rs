//! Applying a sync filter (spec: client-server-api "Filtering"): which rooms, which events of
//! the sections that are not room timelines (ephemeral, account data, presence), and
//! `event_fields`. Timeline and state events are matched by the rooms service's
//! `matches_filter`, the same check `/messages` uses.

use ruma::{
    OwnedRoomId, OwnedUserId, RoomId, UInt, UserId,
    api::client::filter::{Filter, RoomEventFilter},
};
use serde_json::{Map, Value, value::RawValue};

use crate::rooms::glob;

/// Timeline events per room when the filter does not say (Synapse).
pub const DEFAULT_TIMELINE_LIMIT: usize = 10;
/// The most timeline events per room a filter may ask for.
const MAX_TIMELINE_LIMIT: usize = 1_000;

pub fn timeline_limit(filter: &RoomEventFilter) -> usize {
    filter
        .limit
        .map(|l| u64::from(l) as usize)
        .unwrap_or(DEFAULT_TIMELINE_LIMIT)
        .min(MAX_TIMELINE_LIMIT)
}

pub fn room_allowed(
    rooms: &Option<Vec<OwnedRoomId>>,
    not_rooms: &[OwnedRoomId],
    room: &RoomId,
) -> bool {
    !not_rooms.iter().any(|r| r == room)
        && rooms.as_ref().is_none_or(|only| only.iter().any(|r| r == room))
}

/// The type and sender conditions shared by every filter kind.
pub struct EventConditions<'a> {
    pub types: &'a Option<Vec<String>>,
    pub not_types: &'a [String],
    pub senders: &'a Option<Vec<OwnedUserId>>,
    pub not_senders: &'a [OwnedUserId],
    pub limit: Option<UInt>,
}

impl<'a> EventConditions<'a> {
    pub fn of_filter(f: &'a Filter) -> Self {
        EventConditions {
            types: &f.types,
            not_types: &f.not_types,
            senders: &f.senders,
            not_senders: &f.not_senders,
            limit: f.limit,
        }
    }

    pub fn of_room_filter(f: &'a RoomEventFilter) -> Self {
        EventConditions {
            types: &f.types,
            not_types: &f.not_types,
            senders: &f.senders,
            not_senders: &f.not_senders,
            limit: f.limit,
        }
    }

    /// Whether an event of `kind` sent by `sender` (none for typing and receipts) passes.
    pub fn allows(&self, kind: &str, sender: Option<&UserId>) -> bool {
        if self.not_types.iter().any(|t| glob(t, kind)) {
            return false;
        }
        if let Some(types) = self.types
            && !types.iter().any(|t| glob(t, kind))
        {
            return false;
        }
        match sender {
            Some(sender) => {
                !self.not_senders.iter().any(|s| s == sender)
                    && self.senders.as_ref().is_none_or(|only| only.iter().any(|s| s == sender))
            }
            None => true,
        }
    }

    /// Keep the events that pass, at most `limit` of them.
    pub fn apply<T>(
        &self,
        items: Vec<T>,
        describe: impl Fn(&T) -> (String, Option<OwnedUserId>),
    ) -> Vec<T> {
        let limit = self.limit.map(|l| u64::from(l) as usize).unwrap_or(usize::MAX);
        items
            .into_iter()
            .filter(|item| {
                let (kind, sender) = describe(item);
                self.allows(&kind, sender.as_deref())
            })
            .take(limit)
            .collect()
    }
}

/// `event_fields`: keep only the listed fields, each a dot-separated path (`content.body`;
/// `\.` for a literal dot). Synapse's semantics: a path to a missing field adds nothing.
pub fn only_fields(event: &RawValue, fields: &[String]) -> Box<RawValue> {
    let Ok(Value::Object(source)) = serde_json::from_str::<Value>(event.get()) else {
        return event.to_owned();
    };
    let mut out = Map::new();
    for field in fields {
        let path = split_path(field);
        copy_path(&source, &mut out, &path);
    }
    serde_json::value::to_raw_value(&out).unwrap_or_else(|_| event.to_owned())
}

fn split_path(field: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => parts.last_mut().expect("non-empty").push(next),
                None => parts.last_mut().expect("non-empty").push('\\'),
            },
            '.' => parts.push(String::new()),
            c => parts.last_mut().expect("non-empty").push(c),
        }
    }
    parts
}

fn copy_path(source: &Map<String, Value>, out: &mut Map<String, Value>, path: &[String]) {
    let Some((first, rest)) = path.split_first() else { return };
    let Some(value) = source.get(first) else { return };
    if rest.is_empty() {
        out.insert(first.clone(), value.clone());
        return;
    }
    let Value::Object(inner) = value else { return };
    let entry = out.entry(first.clone()).or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(target) = entry {
        copy_path(inner, target, rest);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn event_fields_keep_only_the_paths_given() {
        let event = serde_json::value::to_raw_value(&json!({
            "type": "m.room.message",
            "sender": "@a:x",
            "content": {"body": "hi", "msgtype": "m.text", "m.dot": 1},
        }))
        .unwrap();
        let fields = ["type".to_owned(), "content.body".to_owned(), "content.m\\.dot".to_owned()];
        let kept: Value = serde_json::from_str(only_fields(&event, &fields).get()).unwrap();
        assert_eq!(kept, json!({"type": "m.room.message", "content": {"body": "hi", "m.dot": 1}}));
        let none: Value =
            serde_json::from_str(only_fields(&event, &["nope.x".to_owned()]).get()).unwrap();
        assert_eq!(none, json!({}));
    }

    #[test]
    fn conditions_match_types_with_wildcards_and_senders() {
        let types = Some(vec!["m.*".to_owned()]);
        let senders = None;
        let not = vec![ruma::owned_user_id!("@b:x")];
        let c = EventConditions {
            types: &types,
            not_types: &["m.typing".to_owned()],
            senders: &senders,
            not_senders: &not,
            limit: None,
        };
        assert!(c.allows("m.receipt", None));
        assert!(!c.allows("m.typing", None));
        assert!(!c.allows("org.x", None));
        assert!(!c.allows("m.presence", Some(ruma::user_id!("@b:x"))));
        assert!(c.allows("m.presence", Some(ruma::user_id!("@a:x"))));
    }
}
