//! Rooms (spec: client-server-api "Rooms", "Room membership", server-server-api "PDUs"): the
//! event core every room feature stands on, and the room endpoints' logic.
//!
//! Every event is a complete PDU of its room version, built locally ([`build`]) or received,
//! and goes through the same checks and persistence ([`persist`]). State is kept as state
//! groups; each room's head lives in memory ([`head`]).

mod build;
mod client;
mod content;
mod create;
mod dedup;
mod ephemeral;
mod erasure;
mod events;
mod head;
mod member_profile;
mod membership;
mod messages;
mod pdu;
mod persist;
mod power;
mod read;
mod receive;
mod send;
mod state;
mod state_res_v1;
mod timestamp;
mod token;
mod upgrade;
mod visibility;

use std::{
    collections::HashMap,
    num::NonZeroUsize,
    sync::{Arc, Weak},
};

use hearth_core::Result;
use lru::LruCache;
use parking_lot::Mutex;
use ruma::{
    EventId, OwnedEventId, OwnedRoomId, OwnedUserId, RoomId, RoomVersionId,
    room_version_rules::RoomVersionRules,
};
use tokio::sync::OnceCell;

pub use build::{EventTemplate, MAX_PDU_BYTES};
pub use client::Viewer;
pub use hearth_storage::TimelineDirection;
pub use messages::{Context, MessagesPage};
pub(crate) use messages::{glob, matches_filter};
pub use pdu::{Pdu, PduRef};
pub use read::JoinedMember;
pub use state::{StateAt, StateMap};
pub use token::PaginationToken;

use crate::{Ctx, Services, ratelimit::RateLimiter, server_keys};

/// Parsed events kept in memory (auth events, recent timeline).
const EVENT_CACHE: usize = 20_000;
/// Resolved state groups kept in memory; they share structure, so this is cheap. Enough for
/// an initial sync of a few thousand rooms to find each room's groups here.
const GROUP_CACHE: usize = 10_000;

pub struct Service {
    ctx: Arc<Ctx>,
    services: Weak<Services>,
    keys: Arc<server_keys::Service>,
    rooms: Mutex<HashMap<OwnedRoomId, head::Slot>>,
    events: Mutex<LruCache<OwnedEventId, PduRef>>,
    /// Events handed to the writer and not yet committed: later events may refer to them.
    pending: Mutex<HashMap<OwnedEventId, (PduRef, persist::GroupedState)>>,
    groups: Mutex<LruCache<i64, state::CachedGroup>>,
    next_group: OnceCell<std::sync::atomic::AtomicI64>,
    versions: Mutex<HashMap<OwnedRoomId, (RoomVersionId, RoomVersionRules)>>,
    txn_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Rooms being upgraded now (one upgrade per room at a time).
    upgrading: Mutex<std::collections::HashSet<OwnedRoomId>>,
    /// `rate_limits.messages_per_user`: events clients send (messages, state, redactions).
    send_limit: RateLimiter<OwnedUserId>,
    /// Whether senders asked to be erased (see `erasure`).
    erased: Mutex<LruCache<OwnedUserId, bool>>,
}

impl Service {
    pub(crate) fn new(
        ctx: Arc<Ctx>,
        services: Weak<Services>,
        keys: Arc<server_keys::Service>,
    ) -> Self {
        Service {
            services,
            keys,
            rooms: Mutex::default(),
            events: Mutex::new(LruCache::new(NonZeroUsize::new(EVENT_CACHE).expect("non-zero"))),
            pending: Mutex::default(),
            groups: Mutex::new(LruCache::new(NonZeroUsize::new(GROUP_CACHE).expect("non-zero"))),
            next_group: OnceCell::new(),
            versions: Mutex::default(),
            txn_locks: Mutex::default(),
            upgrading: Mutex::default(),
            erased: Mutex::new(LruCache::new(NonZeroUsize::new(EVENT_CACHE).expect("non-zero"))),
            send_limit: RateLimiter::new(
                ctx.config.rate_limits.messages_per_user,
                ctx.config.rate_limits.enabled,
            ),
            ctx,
        }
    }

    /// A parsed event by ID, from memory or the database.
    pub async fn pdu(&self, event_id: &EventId) -> Result<Option<PduRef>> {
        if let Some((pdu, _)) = self.pending.lock().get(event_id) {
            return Ok(Some(pdu.clone()));
        }
        if let Some(pdu) = self.events.lock().get(event_id) {
            return Ok(Some(pdu.clone()));
        }
        let Some(record) = self.ctx.storage.get_event(event_id).await? else { return Ok(None) };
        let Some((_, rules)) = self.room_version(&record.room_id).await? else { return Ok(None) };
        let mut pdu = Pdu::from_str(record.event_id.clone(), &record.json, &rules)?;
        pdu.rejected = record.rejected;
        let pdu = Arc::new(pdu);
        self.events.lock().put(record.event_id, pdu.clone());
        Ok(Some(pdu))
    }

    /// The room's version and its rules; `None` for a room this server does not know.
    pub async fn room_version(
        &self,
        room_id: &RoomId,
    ) -> Result<Option<(RoomVersionId, RoomVersionRules)>> {
        if let Some(v) = self.versions.lock().get(room_id) {
            return Ok(Some(v.clone()));
        }
        let Some(room) = self.ctx.storage.get_room(room_id).await? else { return Ok(None) };
        let parsed = head::parse_version(&room.version)?;
        self.versions.lock().insert(room_id.to_owned(), parsed.clone());
        Ok(Some(parsed))
    }

    /// The other services (room features built on the core: directory, relations, search).
    pub(crate) fn services(&self) -> Result<Arc<Services>> {
        crate::upgrade(&self.services)
    }

    async fn next_state_group(&self) -> Result<i64> {
        let counter = self
            .next_group
            .get_or_try_init(|| async {
                let max = self.ctx.storage.max_state_group().await?;
                Ok::<_, hearth_core::Error>(std::sync::atomic::AtomicI64::new(max))
            })
            .await?;
        Ok(counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1)
    }
}
