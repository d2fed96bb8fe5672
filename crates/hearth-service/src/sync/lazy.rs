//! Lazy-loading members (spec: "Lazy-loading room members"): which member events each device
//! was already sent, so they are not sent again unless they change or the filter asks for
//! redundant members. Kept per device in memory, like Synapse; after a restart members are
//! simply sent once more (redundancy is allowed).

use std::{collections::HashMap, num::NonZeroUsize};

use lru::LruCache;
use parking_lot::Mutex;
use ruma::{OwnedDeviceId, OwnedEventId, OwnedRoomId, OwnedUserId, RoomId, UserId};

/// Devices remembered; the least recently synced are forgotten first.
const DEVICES: usize = 10_000;

type Device = HashMap<OwnedRoomId, HashMap<String, OwnedEventId>>;

pub struct LazyCache {
    devices: Mutex<LruCache<(OwnedUserId, OwnedDeviceId), Device>>,
}

impl Default for LazyCache {
    fn default() -> Self {
        LazyCache {
            devices: Mutex::new(LruCache::new(NonZeroUsize::new(DEVICES).expect("non-zero"))),
        }
    }
}

impl LazyCache {
    /// An initial sync: the device starts from nothing.
    pub fn reset(&self, user: &UserId, device: &ruma::DeviceId) {
        self.devices.lock().pop(&(user.to_owned(), device.to_owned()));
    }

    /// Whether the device already has exactly this member event of `member` in `room`.
    pub fn has(
        &self,
        user: &UserId,
        device: &ruma::DeviceId,
        room: &RoomId,
        member: &str,
        event: &OwnedEventId,
    ) -> bool {
        let mut devices = self.devices.lock();
        let Some(rooms) = devices.get(&(user.to_owned(), device.to_owned())) else { return false };
        rooms.get(room).and_then(|m| m.get(member)) == Some(event)
    }

    /// Remember what the device was sent.
    pub fn record<'a>(
        &self,
        user: &UserId,
        device: &ruma::DeviceId,
        room: &RoomId,
        sent: impl IntoIterator<Item = (&'a str, &'a OwnedEventId)>,
    ) {
        let mut devices = self.devices.lock();
        let key = (user.to_owned(), device.to_owned());
        let rooms = devices.get_or_insert_mut(key, Device::default);
        let members = rooms.entry(room.to_owned()).or_default();
        for (member, event) in sent {
            members.insert(member.to_owned(), event.clone());
        }
    }
}
