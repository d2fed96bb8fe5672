//! Per-connection state (MSC4186 "Connections"): for each `(user, device, conn_id)`, what the
//! client has been sent, so a request carrying `pos` gets only what changed since.
//!
//! Every response records a new state under a new connection position, derived from the state
//! at the request's `pos`. The state at `pos` is kept until the client shows it has a later
//! response (a request with a later `pos`), so a retried or cancelled request can reuse `pos`.
//! States live in memory, bounded: the least recently used devices are forgotten, and so is
//! a device's least recently used connection beyond a few. A `pos` whose state is gone
//! (expired, or from before a restart) answers `M_UNKNOWN_POS` and the client starts over.
//! States share structure (`imbl`), so keeping a few per connection costs little.

use std::{
    collections::{BTreeMap, HashMap},
    num::NonZeroUsize,
    sync::Arc,
};

use lru::LruCache;
use parking_lot::Mutex;
use ruma::{OwnedDeviceId, OwnedEventId, OwnedRoomId, OwnedUserId};

use super::config::RoomConfig;
use crate::{ephemeral::EphemeralStream, push::Counts};

/// Devices whose connections are remembered.
const DEVICES: usize = 10_000;
/// Connections (`conn_id`s) per device.
const CONNECTIONS_PER_DEVICE: usize = 10;
/// States kept per connection: the acknowledged one, the latest, and a few from retries.
const STATES_PER_CONNECTION: usize = 4;
/// Member events remembered per room; beyond that the room's record starts over (members are
/// then simply sent again, which the MSC allows).
pub const MEMBERS_PER_ROOM: usize = 500;

/// How up to date the client is with a room (or with an extension's data for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Up to date as of the request's `pos`.
    Live,
    /// Sent once, up to date only as of this stream position: it then fell out of the lists
    /// while it may have changed.
    Previously(i64),
}

/// What the client has of one room.
#[derive(Debug, Clone)]
pub struct SentRoom {
    pub status: Status,
    /// The config it was last sent with (`timeline_limit` as effectively sent).
    pub config: RoomConfig,
    pub is_dm: bool,
    /// The unread counts it was last sent (joined rooms).
    pub counts: Counts,
    /// Member events it has, by user, for lazy loading.
    pub members: imbl::HashMap<String, OwnedEventId>,
}

/// Everything the client has on one connection.
#[derive(Debug, Clone, Default)]
pub struct ConnState {
    pub rooms: imbl::HashMap<OwnedRoomId, SentRoom>,
    pub account_data: imbl::HashMap<OwnedRoomId, Status>,
    pub receipts: imbl::HashMap<OwnedRoomId, Status>,
}

impl ConnState {
    /// Rooms up to date at the request that the response leaves out are from now on only up to
    /// date as of the request's stream position `since`.
    pub fn demote(
        map: &mut imbl::HashMap<OwnedRoomId, Status>,
        kept: &dyn Fn(&OwnedRoomId) -> bool,
        since: i64,
    ) {
        let stale: Vec<OwnedRoomId> = map
            .iter()
            .filter(|(room, status)| **status == Status::Live && !kept(room))
            .map(|(room, _)| room.clone())
            .collect();
        for room in stale {
            map.insert(room, Status::Previously(since));
        }
    }
}

type DeviceKey = (OwnedUserId, OwnedDeviceId);

#[derive(Default)]
struct Connection {
    states: BTreeMap<u64, Arc<ConnState>>,
    last_used: u64,
}

pub struct Connections {
    devices: Mutex<LruCache<DeviceKey, HashMap<String, Connection>>>,
    /// Connection positions: unique across connections and, as they start from the wall clock
    /// in milliseconds, across restarts (a `pos` from before one is never mistaken for a new).
    positions: EphemeralStream,
}

impl Default for Connections {
    fn default() -> Self {
        Connections {
            devices: Mutex::new(LruCache::new(NonZeroUsize::new(DEVICES).expect("non-zero"))),
            positions: EphemeralStream::default(),
        }
    }
}

impl Connections {
    /// A request without `pos`: the connection starts over, from nothing.
    pub fn reset(&self, user: &OwnedUserId, device: &OwnedDeviceId, conn_id: &str) {
        let mut devices = self.devices.lock();
        if let Some(conns) = devices.get_mut(&(user.clone(), device.clone())) {
            conns.remove(conn_id);
        }
    }

    /// The state recorded at `pos`, dropping the states before it (the client has moved on);
    /// `None` when it is not (or no longer) known.
    pub fn at(
        &self,
        user: &OwnedUserId,
        device: &OwnedDeviceId,
        conn_id: &str,
        pos: u64,
    ) -> Option<Arc<ConnState>> {
        let mut devices = self.devices.lock();
        let conn = devices.get_mut(&(user.clone(), device.clone()))?.get_mut(conn_id)?;
        let state = conn.states.get(&pos)?.clone();
        conn.states = conn.states.split_off(&pos);
        conn.last_used = self.tick();
        Some(state)
    }

    /// Record the state a response leaves the client in; returns its connection position.
    pub fn record(
        &self,
        user: &OwnedUserId,
        device: &OwnedDeviceId,
        conn_id: &str,
        state: ConnState,
    ) -> u64 {
        let pos = self.tick();
        let mut devices = self.devices.lock();
        let conns = devices.get_or_insert_mut((user.clone(), device.clone()), HashMap::new);
        if !conns.contains_key(conn_id) && conns.len() >= CONNECTIONS_PER_DEVICE {
            let oldest = conns.iter().min_by_key(|(_, c)| c.last_used).map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                conns.remove(&oldest);
            }
        }
        let conn = conns.entry(conn_id.to_owned()).or_default();
        conn.states.insert(pos, Arc::new(state));
        while conn.states.len() > STATES_PER_CONNECTION {
            conn.states.pop_first();
        }
        conn.last_used = pos;
        pos
    }

    /// Forget every connection of a device (logged out or deleted).
    pub fn forget_device(&self, user: &OwnedUserId, device: &OwnedDeviceId) {
        self.devices.lock().pop(&(user.clone(), device.clone()));
    }

    fn tick(&self) -> u64 {
        self.positions.advance()
    }
}

#[cfg(test)]
mod tests {
    use ruma::{owned_device_id, owned_user_id};

    use super::*;

    #[test]
    fn states_are_kept_until_the_client_moves_past_them() {
        let conns = Connections::default();
        let (user, device) = (owned_user_id!("@a:x"), owned_device_id!("D"));
        let first = conns.record(&user, &device, "main", ConnState::default());
        // A retry of the same request makes another state from the same `pos`.
        let second = conns.record(&user, &device, "main", ConnState::default());
        assert!(conns.at(&user, &device, "main", first).is_some());
        assert!(conns.at(&user, &device, "main", second).is_some());
        // The client used `second`: `first` is gone.
        assert!(conns.at(&user, &device, "main", first).is_none());
        assert!(conns.at(&user, &device, "other", second).is_none());
        conns.reset(&user, &device, "main");
        assert!(conns.at(&user, &device, "main", second).is_none());
    }

    #[test]
    fn a_device_keeps_a_bounded_number_of_connections() {
        let conns = Connections::default();
        let (user, device) = (owned_user_id!("@a:x"), owned_device_id!("D"));
        let first = conns.record(&user, &device, "c0", ConnState::default());
        for i in 1..=CONNECTIONS_PER_DEVICE {
            conns.record(&user, &device, &format!("c{i}"), ConnState::default());
        }
        assert!(conns.at(&user, &device, "c0", first).is_none(), "oldest evicted");
        let states = conns.devices.lock().get(&(user, device)).map(|c| c.len());
        assert_eq!(states, Some(CONNECTIONS_PER_DEVICE));
    }
}
