//! Presence (spec: client-server-api "Presence"): online, unavailable or offline, a status
//! message and the last active time of each user, shared with the users they share a room with.
//!
//! Kept in memory (a copy of each state change is stored for restarts). Syncing marks a user
//! online (unless the sync says otherwise) and keeps them active; a user none of whose clients
//! syncs for `offline_timeout_ms` goes offline, an online user inactive for `idle_timeout_ms`
//! goes unavailable (Synapse's rules). Every change takes an ephemeral-stream position and
//! wakes the rooms the user is in. With `[presence] enabled = false`, setting presence is
//! accepted and nothing is tracked or shared (Synapse).

mod entry;
mod timer;

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use hearth_core::{Error, Result, utils::now_millis};
use hearth_storage::PresenceRecord;
use parking_lot::Mutex;
use ruma::{
    OwnedUserId, UserId, events::presence::PresenceEvent, presence::PresenceState, serde::Raw,
};

pub use entry::PresenceView;
use entry::{Entry, Source};

use crate::{Ctx, ephemeral::EphemeralStream};

type Users = Mutex<HashMap<OwnedUserId, Entry>>;

pub struct Service {
    ctx: Arc<Ctx>,
    stream: Arc<EphemeralStream>,
    users: Arc<Users>,
    timer_started: AtomicBool,
}

/// Held while a sync request runs: the user counts as connected until it is dropped.
pub struct Syncing {
    users: Option<Arc<Users>>,
    user: OwnedUserId,
}

impl Drop for Syncing {
    fn drop(&mut self) {
        if let Some(users) = &self.users
            && let Some(entry) = users.lock().get_mut(&self.user)
        {
            entry.syncing = entry.syncing.saturating_sub(1);
            entry.last_sync = now_millis();
        }
    }
}

impl Service {
    pub(crate) fn new(ctx: Arc<Ctx>, stream: Arc<EphemeralStream>) -> Self {
        Service { ctx, stream, users: Arc::default(), timer_started: AtomicBool::new(false) }
    }

    fn enabled(&self) -> bool {
        self.ctx.config.presence.enabled
    }

    /// `PUT /presence/{userId}/status`: only one's own.
    pub async fn set_presence(
        &self,
        sender: &UserId,
        user_id: &UserId,
        state: &PresenceState,
        status_msg: Option<String>,
    ) -> Result<()> {
        if sender != user_id {
            return Err(Error::forbidden("Can only set your own presence state"));
        }
        if !matches!(
            state,
            PresenceState::Online | PresenceState::Unavailable | PresenceState::Offline
        ) {
            return Err(Error::invalid_param("presence must be online, unavailable or offline"));
        }
        if !self.enabled() {
            return Ok(());
        }
        self.load(std::slice::from_ref(&user_id.to_owned())).await?;
        let changed = self.update(user_id, |e, now| {
            e.set_state(state.clone(), Source::User, now);
            e.status_msg = status_msg.filter(|m| !m.is_empty());
        });
        self.after_change(user_id, changed).await
    }

    /// `GET /presence/{userId}/status`: one's own, or that of someone sharing a room.
    pub async fn get_presence(&self, requester: &UserId, user_id: &UserId) -> Result<PresenceView> {
        if !self.enabled() {
            return Ok(PresenceView::offline());
        }
        if requester != user_id && !self.ctx.storage.share_a_room(requester, user_id).await? {
            return Err(Error::forbidden("You are not allowed to see their presence"));
        }
        self.load(std::slice::from_ref(&user_id.to_owned())).await?;
        let now = now_millis();
        Ok(self
            .users
            .lock()
            .get(user_id)
            .map(|e| e.view(now))
            .unwrap_or_else(PresenceView::offline))
    }

    /// A sync request starts: `set_presence` (default `online`) marks the user, and they count
    /// as connected until the returned guard is dropped. `offline` changes nothing (spec).
    pub async fn syncing(&self, user_id: &UserId, set_presence: &PresenceState) -> Result<Syncing> {
        if !self.enabled() || *set_presence == PresenceState::Offline {
            return Ok(Syncing { users: None, user: user_id.to_owned() });
        }
        self.start_timer();
        self.load(std::slice::from_ref(&user_id.to_owned())).await?;
        let changed = self.update(user_id, |e, now| {
            e.syncing += 1;
            e.last_sync = now;
            e.synced_as(set_presence.clone(), now);
        });
        self.after_change(user_id, changed).await?;
        Ok(Syncing { users: Some(self.users.clone()), user: user_id.to_owned() })
    }

    /// A pro-active action (sending a message): the user is active, and online again if the
    /// server had marked them idle.
    pub fn bump_active(&self, user_id: &UserId) {
        if !self.enabled() {
            return;
        }
        let changed = self.update(user_id, |e, now| e.active(now));
        if changed {
            let (ctx, user) = (self.ctx.clone(), user_id.to_owned());
            let record = self.record(&user);
            tokio::spawn(async move {
                let _ = timer::announce(&ctx, &user, record).await;
            });
        }
    }

    /// Presence events for `user`'s sync: on an initial sync (`since` = `None`) everyone
    /// sharing a room with them and themselves; on an incremental one, those of them whose
    /// presence changed after ephemeral position `since`, plus `newly_shared` (users who began
    /// sharing a room with them).
    pub async fn sync_events(
        &self,
        user: &UserId,
        since: Option<u64>,
        newly_shared: &[OwnedUserId],
    ) -> Result<Vec<Raw<PresenceEvent>>> {
        if !self.enabled() {
            return Ok(Vec::new());
        }
        let newly_shared: HashSet<&OwnedUserId> = newly_shared.iter().collect();
        let mut wanted: Vec<OwnedUserId> = newly_shared.iter().map(|u| (*u).clone()).collect();
        match since {
            None => {
                wanted.extend(self.ctx.storage.users_sharing_a_room(user).await?);
                wanted.push(user.to_owned());
            }
            Some(since) => {
                let changed: Vec<OwnedUserId> = {
                    let users = self.users.lock();
                    let changed = users.iter().filter(|(_, e)| e.changed_at > since);
                    changed.map(|(u, _)| u.clone()).collect()
                };
                if !changed.is_empty() {
                    let sharing: HashSet<OwnedUserId> =
                        self.ctx.storage.users_sharing_a_room(user).await?.into_iter().collect();
                    wanted.extend(changed.into_iter().filter(|u| u == user || sharing.contains(u)));
                }
            }
        }
        let mut seen = HashSet::new();
        wanted.retain(|u| seen.insert(u.clone()));
        self.load(&wanted).await?;
        let now = now_millis();
        let users = self.users.lock();
        // Someone newly sharing a room is always told of, offline or not (Synapse); on an
        // initial sync, others who are offline are left out.
        let include = |u: &OwnedUserId, e: &Entry| {
            newly_shared.contains(u)
                || since.is_some()
                || u == user
                || (e.known() && e.state != PresenceState::Offline)
        };
        Ok(wanted
            .iter()
            .filter_map(|u| users.get(u).filter(|e| include(u, e)).map(|e| e.event(u, now)))
            .collect())
    }

    /// Presence events of `users` now (those with any presence to tell).
    pub async fn current_events(&self, users: &[OwnedUserId]) -> Result<Vec<Raw<PresenceEvent>>> {
        if !self.enabled() {
            return Ok(Vec::new());
        }
        self.load(users).await?;
        let now = now_millis();
        let known = self.users.lock();
        Ok(users
            .iter()
            .filter_map(|u| known.get(u).filter(|e| e.known()).map(|e| e.event(u, now)))
            .collect())
    }

    /// Presence events of those of `users` whose presence changed after ephemeral position
    /// `since` (the members of a room peeked at through the v1 event stream).
    pub async fn changed_events(
        &self,
        users: &[OwnedUserId],
        since: u64,
    ) -> Result<Vec<Raw<PresenceEvent>>> {
        if !self.enabled() {
            return Ok(Vec::new());
        }
        let now = now_millis();
        let known = self.users.lock();
        Ok(users
            .iter()
            .filter_map(|u| known.get(u).filter(|e| e.changed_at > since).map(|e| e.event(u, now)))
            .collect())
    }

    /// Bring the stored presence of users not yet in memory into it.
    async fn load(&self, users: &[OwnedUserId]) -> Result<()> {
        let missing: Vec<OwnedUserId> = {
            let known = self.users.lock();
            users.iter().filter(|u| !known.contains_key(*u)).cloned().collect()
        };
        if missing.is_empty() {
            return Ok(());
        }
        let stored = self.ctx.storage.get_presence(missing.clone()).await?;
        let mut known = self.users.lock();
        for record in stored {
            known.entry(record.user_id.clone()).or_insert_with(|| Entry::stored(&record));
        }
        for user in missing {
            known.entry(user).or_default();
        }
        Ok(())
    }

    /// Apply `f` to the user's entry; whether anything others see changed (it then takes a
    /// new ephemeral position).
    fn update(&self, user_id: &UserId, f: impl FnOnce(&mut Entry, u64)) -> bool {
        let now = now_millis();
        let mut users = self.users.lock();
        let entry = users.entry(user_id.to_owned()).or_default();
        let before = entry.visible();
        f(entry, now);
        entry.refresh(now);
        let changed = entry.visible() != before;
        if changed {
            entry.changed_at = self.stream.advance();
        }
        changed
    }

    fn record(&self, user_id: &UserId) -> Option<PresenceRecord> {
        self.users.lock().get(user_id).map(|e| e.record(user_id))
    }

    async fn after_change(&self, user_id: &UserId, changed: bool) -> Result<()> {
        if changed {
            timer::announce(&self.ctx, user_id, self.record(user_id)).await?;
        }
        Ok(())
    }

    /// The timeouts are checked by one background task, started with the first sync.
    fn start_timer(&self) {
        if self.timer_started.swap(true, Ordering::SeqCst) {
            return;
        }
        timer::spawn(Arc::downgrade(&self.ctx), Arc::downgrade(&self.users), self.stream.clone());
    }
}
