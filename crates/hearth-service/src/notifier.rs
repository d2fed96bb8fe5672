//! Wakes waiting long-polls (`/sync`, sliding sync) the moment there is data for them.
//!
//! A long-poll registers a [`Watch`] for its user and the rooms it follows, *then* looks for new
//! data, and only if there is none waits on the watch. Anything committed after registration
//! wakes it, so nothing is missed between the check and the wait. Only watches of the
//! affected user or room are woken: no one wakes for another user's data. A watch also records
//! what woke it ([`Watch::woken_by`]), so a long-poll can look again at just that.

use std::{
    collections::{HashMap, HashSet},
    hash::Hash,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use parking_lot::Mutex;
use ruma::{OwnedRoomId, OwnedUserId, RoomId, UserId};
use tokio::sync::Notify;

type Watchers = HashMap<u64, Arc<Waker>>;

/// What wakes one watch, and what woke it.
#[derive(Default)]
struct Waker {
    notify: Notify,
    reasons: Mutex<WokenBy>,
}

/// Why a watch was woken since it was registered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WokenBy {
    /// Something for the user itself (account data, to-device, memberships, device lists...),
    /// or the server stopping: look at everything again.
    pub user: bool,
    /// Rooms whose long-polls were woken (events, typing, receipts, presence).
    pub rooms: HashSet<OwnedRoomId>,
}

#[derive(Default)]
pub struct Notifier {
    next_id: AtomicU64,
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    users: HashMap<OwnedUserId, Watchers>,
    rooms: HashMap<OwnedRoomId, Watchers>,
    /// Set when the server stops: every watch returns at once so shutdown does not wait for
    /// long-polls to time out.
    shutting_down: bool,
}

impl Notifier {
    /// Wake the long-polls of `user` (to-device messages, account data, device lists...).
    pub fn notify_user(&self, user: &UserId) {
        wake(self.inner.lock().users.get(user), |r| r.user = true);
    }

    /// Wake every long-poll following `room` (a new event, typing, a receipt...).
    pub fn notify_room(&self, room: &RoomId) {
        wake(self.inner.lock().rooms.get(room), |r| {
            r.rooms.insert(room.to_owned());
        });
    }

    /// The server is stopping: wake every watch, now and later.
    pub fn shut_down(&self) {
        let mut inner = self.inner.lock();
        inner.shutting_down = true;
        for watchers in inner.users.values().chain(inner.rooms.values()) {
            wake(Some(watchers), |r| r.user = true);
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.inner.lock().shutting_down
    }

    /// Register interest in `user` and `rooms`. Register before checking for data.
    pub fn watch(&self, user: &UserId, rooms: impl IntoIterator<Item = OwnedRoomId>) -> Watch {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let waker = Arc::new(Waker::default());
        let rooms: Vec<OwnedRoomId> = rooms.into_iter().collect();
        {
            let mut inner = self.inner.lock();
            inner.users.entry(user.to_owned()).or_default().insert(id, waker.clone());
            for room in &rooms {
                inner.rooms.entry(room.clone()).or_default().insert(id, waker.clone());
            }
        }
        Watch { id, waker, user: user.to_owned(), rooms, inner: self.inner.clone() }
    }
}

fn wake(watchers: Option<&Watchers>, reason: impl Fn(&mut WokenBy)) {
    for waker in watchers.into_iter().flat_map(|w| w.values()) {
        reason(&mut waker.reasons.lock());
        // `notify_one` stores a permit when the watch is not yet waiting, so a wake that
        // lands between registration and the wait is not lost.
        waker.notify.notify_one();
    }
}

/// A registered interest; deregisters when dropped.
pub struct Watch {
    id: u64,
    waker: Arc<Waker>,
    user: OwnedUserId,
    rooms: Vec<OwnedRoomId>,
    inner: Arc<Mutex<Inner>>,
}

impl Watch {
    /// Wait until woken or until `timeout` passes; returns whether it was woken.
    pub async fn wait(&self, timeout: Duration) -> bool {
        if self.inner.lock().shutting_down {
            return true;
        }
        tokio::time::timeout(timeout, self.waker.notify.notified()).await.is_ok()
    }

    /// What woke the watch so far (everything, once the server is stopping).
    pub fn woken_by(&self) -> WokenBy {
        let mut reasons = self.waker.reasons.lock().clone();
        reasons.user |= self.inner.lock().shutting_down;
        reasons
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let mut inner = self.inner.lock();
        remove(&mut inner.users, &self.user, self.id);
        for room in &self.rooms {
            remove(&mut inner.rooms, room, self.id);
        }
    }
}

fn remove<K: Hash + Eq>(map: &mut HashMap<K, Watchers>, key: &K, id: u64) {
    if let Some(watchers) = map.get_mut(key) {
        watchers.remove(&id);
        if watchers.is_empty() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use ruma::{room_id, user_id};

    use super::*;

    #[tokio::test]
    async fn wakes_only_the_affected_watchers() {
        let notifier = Notifier::default();
        let alice = notifier.watch(user_id!("@alice:x"), [room_id!("!a:x").to_owned()]);
        let bob = notifier.watch(user_id!("@bob:x"), [room_id!("!b:x").to_owned()]);
        // Woken before waiting: the permit is kept.
        notifier.notify_room(room_id!("!a:x"));
        assert!(alice.wait(Duration::from_secs(1)).await);
        assert!(!bob.wait(Duration::from_millis(20)).await);
        notifier.notify_user(user_id!("@bob:x"));
        assert!(bob.wait(Duration::from_secs(1)).await);
        let rooms = [room_id!("!a:x").to_owned()].into_iter().collect();
        assert_eq!(alice.woken_by(), WokenBy { user: false, rooms });
        assert_eq!(bob.woken_by(), WokenBy { user: true, rooms: HashSet::new() });
    }

    #[tokio::test]
    async fn shutting_down_wakes_every_watch() {
        let notifier = Notifier::default();
        let alice = notifier.watch(user_id!("@alice:x"), [room_id!("!a:x").to_owned()]);
        notifier.shut_down();
        assert!(alice.wait(Duration::from_secs(60)).await);
        let later = notifier.watch(user_id!("@bob:x"), []);
        assert!(later.wait(Duration::from_secs(60)).await);
    }

    #[tokio::test]
    async fn dropped_watches_deregister() {
        let notifier = Notifier::default();
        drop(notifier.watch(user_id!("@alice:x"), [room_id!("!a:x").to_owned()]));
        let inner = notifier.inner.lock();
        assert!(inner.users.is_empty() && inner.rooms.is_empty());
    }
}
