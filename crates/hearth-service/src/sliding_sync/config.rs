//! Room configs (MSC4186 "Room config"): how many timeline events and which state to send for
//! a room, from a list or a subscription. A room matched by several is sent with their union
//! ("Combining room configs"): the largest `timeline_limit`, every `required_state` entry.
//!
//! `required_state` entries are `[type, state_key]` pairs where `*` matches any type or any
//! state key, `$ME` stands for the syncing user, and `["m.room.member", "$LAZY"]` asks for the
//! members the timeline needs ("Lazy loaded memberships").

use std::collections::{BTreeMap, BTreeSet};

use ruma::{UserId, api::client::sync::sync_events::v5::request::RoomDetails};

pub const WILDCARD: &str = "*";
pub const LAZY: &str = "$LAZY";
const ME: &str = "$ME";
pub const MEMBER: &str = "m.room.member";
/// The most timeline events sent per room (the MSC lets servers cap `timeline_limit`).
const MAX_TIMELINE_LIMIT: usize = 1_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomConfig {
    pub timeline_limit: usize,
    pub required_state: RequiredState,
}

impl RoomConfig {
    pub fn new(
        timeline_limit: ruma::UInt,
        required_state: &[(ruma::events::StateEventType, String)],
        me: &UserId,
    ) -> RoomConfig {
        let limit = u64::from(timeline_limit).min(MAX_TIMELINE_LIMIT as u64) as usize;
        let pairs = required_state.iter().map(|(t, k)| (t.to_string(), k.clone()));
        RoomConfig { timeline_limit: limit, required_state: RequiredState::new(pairs, me) }
    }

    pub fn of_details(details: &RoomDetails, me: &UserId) -> RoomConfig {
        Self::new(details.timeline_limit, &details.required_state, me)
    }

    pub fn union(&self, other: &RoomConfig) -> RoomConfig {
        RoomConfig {
            timeline_limit: self.timeline_limit.max(other.timeline_limit),
            required_state: self.required_state.union(&other.required_state),
        }
    }
}

/// Requested state: event type (or `*`) to state keys (or `*`, or `$LAZY` for members).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequiredState {
    entries: BTreeMap<String, BTreeSet<String>>,
}

impl RequiredState {
    /// `$ME` is replaced by the user's ID, so both spellings compare equal.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>, me: &UserId) -> RequiredState {
        let mut entries: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (kind, key) in pairs {
            let key = if key == ME { me.to_string() } else { key };
            entries.entry(kind).or_default().insert(key);
        }
        RequiredState { entries }
    }

    pub fn union(&self, other: &RequiredState) -> RequiredState {
        let mut entries = self.entries.clone();
        for (kind, keys) in &other.entries {
            entries.entry(kind.clone()).or_default().extend(keys.iter().cloned());
        }
        RequiredState { entries }
    }

    /// Whether the state entry `(kind, key)` is asked for (lazy members aside).
    pub fn matches(&self, kind: &str, key: &str) -> bool {
        let has = |kind: &str| {
            self.entries.get(kind).is_some_and(|keys| keys.contains(WILDCARD) || keys.contains(key))
        };
        has(kind) || has(WILDCARD)
    }

    /// `["m.room.member", "$LAZY"]`: the members the timeline needs.
    pub fn lazy_members(&self) -> bool {
        self.entries.get(MEMBER).is_some_and(|keys| keys.contains(LAZY))
    }

    /// Whether this asks for state that `previous` did not: an entry `previous` does not
    /// cover, or lazy members newly asked for ("Changes to `required_state`").
    pub fn expands(&self, previous: &RequiredState) -> bool {
        if self.lazy_members() && !previous.lazy_members() {
            return true;
        }
        self.entries.iter().any(|(kind, keys)| {
            keys.iter()
                .filter(|key| !(kind == MEMBER && *key == LAZY))
                .any(|key| !previous.covers(kind, key))
        })
    }

    /// Whether the entry `(kind, key)`, wildcards included, asks for nothing beyond this.
    fn covers(&self, kind: &str, key: &str) -> bool {
        let has = |k: &str, v: &str| self.entries.get(k).is_some_and(|s| s.contains(v));
        has(WILDCARD, WILDCARD)
            || has(kind, key)
            || (kind != WILDCARD && has(kind, WILDCARD))
            || (key != WILDCARD && has(WILDCARD, key))
    }
}

#[cfg(test)]
mod tests {
    use ruma::user_id;

    use super::*;

    fn rs(pairs: &[(&str, &str)]) -> RequiredState {
        let pairs = pairs.iter().map(|(t, k)| ((*t).to_owned(), (*k).to_owned()));
        RequiredState::new(pairs, user_id!("@me:x"))
    }

    #[test]
    fn wildcards_me_and_lazy() {
        let state = rs(&[("m.room.name", ""), ("m.space.child", "*"), (MEMBER, "$ME")]);
        assert!(state.matches("m.room.name", ""));
        assert!(!state.matches("m.room.name", "other"));
        assert!(state.matches("m.space.child", "!a:x"));
        assert!(state.matches(MEMBER, "@me:x"));
        assert!(!state.matches(MEMBER, "@you:x"));
        assert!(!state.lazy_members());
        let all = rs(&[("*", "*")]);
        assert!(all.matches("anything", "at all"));
        let by_key = rs(&[("*", "")]);
        assert!(by_key.matches("m.room.topic", "") && !by_key.matches(MEMBER, "@me:x"));
        let lazy = rs(&[(MEMBER, LAZY)]);
        assert!(lazy.lazy_members() && !lazy.matches(MEMBER, "@me:x"));
    }

    #[test]
    fn union_and_expansion() {
        let a = rs(&[("m.room.name", "")]);
        let b = rs(&[("m.room.topic", ""), (MEMBER, LAZY)]);
        let both = a.union(&b);
        assert!(both.matches("m.room.name", "") && both.matches("m.room.topic", ""));
        assert!(both.lazy_members());
        assert!(both.expands(&a) && !a.expands(&both) && !both.expands(&both));
        assert!(rs(&[("m.space.child", "*")]).expands(&rs(&[("m.space.child", "!a:x")])));
        assert!(!rs(&[("m.space.child", "!a:x")]).expands(&rs(&[("m.space.child", "*")])));
        assert!(!rs(&[("m.room.name", "")]).expands(&rs(&[("*", "*")])));
        assert!(rs(&[("*", "*")]).expands(&rs(&[("m.room.name", "")])));
        assert!(!rs(&[(MEMBER, "@me:x")]).expands(&rs(&[(MEMBER, "$ME")])));
    }
}
