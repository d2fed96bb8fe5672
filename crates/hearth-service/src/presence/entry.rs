//! One user's presence in memory and the rules that move it.

use hearth_storage::PresenceRecord;
use ruma::{UserId, events::presence::PresenceEvent, presence::PresenceState, serde::Raw};
use serde_json::{Map, Value, json};

/// How long after the last action a user still counts as `currently_active` (Synapse's
/// granularity; spec: "Last active ago").
const ACTIVE_GRANULARITY_MS: u64 = 60_000;

/// Who chose the current state: a state the user set (`unavailable` through the API) is not
/// overridden by their syncs; one the server set (idle, offline) is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Source {
    User,
    #[default]
    Server,
}

#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub state: PresenceState,
    pub status_msg: Option<String>,
    /// Last pro-active action, ms since the epoch; 0 if never.
    pub last_active: u64,
    /// When a sync request of the user last ended or began; 0 if never.
    pub last_sync: u64,
    /// Sync requests running now.
    pub syncing: u32,
    pub source: Source,
    pub currently_active: bool,
    /// Ephemeral-stream position of the last change others see; 0 if none since startup.
    pub changed_at: u64,
}

impl Default for Entry {
    fn default() -> Self {
        Entry {
            state: PresenceState::Offline,
            status_msg: None,
            last_active: 0,
            last_sync: 0,
            syncing: 0,
            source: Source::Server,
            currently_active: false,
            changed_at: 0,
        }
    }
}

/// What others see of a user's presence, and what `GET /presence` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceView {
    pub presence: PresenceState,
    pub status_msg: Option<String>,
    pub last_active_ago: Option<u64>,
    /// Only for `online`.
    pub currently_active: Option<bool>,
}

impl PresenceView {
    pub fn offline() -> Self {
        PresenceView {
            presence: PresenceState::Offline,
            status_msg: None,
            last_active_ago: None,
            currently_active: None,
        }
    }
}

impl Entry {
    pub fn stored(record: &PresenceRecord) -> Entry {
        Entry {
            state: PresenceState::from(record.state.as_str()),
            status_msg: record.status_msg.clone(),
            last_active: record.last_active_ts,
            ..Entry::default()
        }
    }

    pub fn record(&self, user_id: &UserId) -> PresenceRecord {
        PresenceRecord {
            user_id: user_id.to_owned(),
            state: self.state.as_str().to_owned(),
            status_msg: self.status_msg.clone(),
            last_active_ts: self.last_active,
        }
    }

    /// Whether there is any presence to tell about this user.
    pub fn known(&self) -> bool {
        self.changed_at > 0
            || self.last_active > 0
            || self.status_msg.is_some()
            || self.state != PresenceState::Offline
    }

    /// What others see: a change of it is announced.
    pub fn visible(&self) -> (PresenceState, Option<String>, bool) {
        (self.state.clone(), self.status_msg.clone(), self.currently_active)
    }

    /// Recompute `currently_active` at `now`.
    pub fn refresh(&mut self, now: u64) {
        self.currently_active = self.state == PresenceState::Online
            && now.saturating_sub(self.last_active) < ACTIVE_GRANULARITY_MS;
    }

    /// `PUT /presence`: the user chooses; setting a state counts as connection activity.
    pub fn set_state(&mut self, state: PresenceState, source: Source, now: u64) {
        if state == PresenceState::Online {
            self.last_active = now;
        }
        self.state = state;
        self.source = source;
        self.last_sync = self.last_sync.max(now);
    }

    /// A sync with `set_presence`: online keeps the user active (as Synapse does) unless they
    /// chose `unavailable`; `unavailable` marks them idle.
    pub fn synced_as(&mut self, state: PresenceState, now: u64) {
        match state {
            PresenceState::Online => {
                let chose_unavailable =
                    self.source == Source::User && self.state == PresenceState::Unavailable;
                if !chose_unavailable {
                    self.state = PresenceState::Online;
                    self.source = Source::Server;
                    self.last_active = now;
                }
            }
            PresenceState::Unavailable if self.state != PresenceState::Unavailable => {
                self.state = PresenceState::Unavailable;
                self.source = Source::Server;
            }
            _ => {}
        }
    }

    /// A pro-active action: active now, and online again if the server had marked them idle.
    pub fn active(&mut self, now: u64) {
        self.last_active = now;
        if self.state == PresenceState::Unavailable && self.source == Source::Server {
            self.state = PresenceState::Online;
        }
    }

    /// The timeouts: idle online users become unavailable, users not syncing go offline.
    pub fn time_out(&mut self, now: u64, idle_ms: u64, offline_ms: u64) {
        if self.state == PresenceState::Online && now.saturating_sub(self.last_active) > idle_ms {
            self.state = PresenceState::Unavailable;
            self.source = Source::Server;
        }
        if self.state != PresenceState::Offline
            && self.syncing == 0
            && now.saturating_sub(self.last_sync) > offline_ms
        {
            self.state = PresenceState::Offline;
            self.source = Source::Server;
        }
    }

    pub fn view(&self, now: u64) -> PresenceView {
        PresenceView {
            presence: self.state.clone(),
            status_msg: self.status_msg.clone(),
            last_active_ago: (self.last_active > 0).then(|| now.saturating_sub(self.last_active)),
            currently_active: (self.state == PresenceState::Online)
                .then_some(self.currently_active),
        }
    }

    /// The `m.presence` event (spec: "m.presence").
    pub fn event(&self, user_id: &UserId, now: u64) -> Raw<PresenceEvent> {
        let view = self.view(now);
        let mut content = Map::new();
        content.insert("presence".into(), json!(view.presence.as_str()));
        if let Some(ago) = view.last_active_ago {
            content.insert("last_active_ago".into(), json!(ago));
        }
        if let Some(active) = view.currently_active {
            content.insert("currently_active".into(), json!(active));
        }
        if let Some(msg) = &view.status_msg {
            content.insert("status_msg".into(), json!(msg));
        }
        let event =
            json!({ "type": "m.presence", "sender": user_id, "content": Value::Object(content) });
        Raw::from_json(serde_json::value::to_raw_value(&event).expect("JSON values serialize"))
    }
}
