//! `/sync` (spec: client-server-api "Syncing", `GET /sync`): initial and incremental syncs,
//! long-polling on the notifier, filters, and every section of the response.
//!
//! A request registers its interest with the notifier (its user and joined rooms), then
//! computes a response at the current point of the streams ([`Pass`]); when that is empty and
//! the client allows a wait, it waits on the notifier and computes again. Nothing polls the
//! database: a commit that concerns the user wakes them, and only them.
//!
//! What sliding sync can reuse: [`Service::timeline_slice`], [`Service::unread_counts`],
//! `SyncStore` (latest positions per room as bump stamps, room summaries), the receipts,
//! typing and presence services, and the e2ee service's per-device data.

mod counts;
mod ephemeral;
mod events;
mod filter;
mod joined;
mod lazy;
mod left;
mod pass;
mod render;
mod response;
mod state;
mod stripped;
mod summary;
mod timeline;

use std::{
    collections::HashSet,
    num::NonZeroUsize,
    sync::{Arc, Weak},
    time::Duration,
};

use lru::LruCache;
use parking_lot::Mutex;

use hearth_core::Result;
use ruma::{
    DeviceId, OwnedUserId, UserId, api::client::filter::FilterDefinition,
    events::room::member::MembershipState, presence::PresenceState,
};
use serde_json::Value;
use tokio::time::Instant;

pub use counts::RoomCounts;
pub use filter::DEFAULT_TIMELINE_LIMIT;
pub use response::*;
pub use timeline::{SliceRequest, TimelineSlice};

use crate::{Ctx, Services, ephemeral::EphemeralStream, stream_token::SyncToken};
use pass::Pass;

/// Stored filters kept parsed.
const FILTER_CACHE: usize = 10_000;

type FilterCache = Mutex<LruCache<(OwnedUserId, String), Arc<FilterDefinition>>>;

pub struct Service {
    ctx: Arc<Ctx>,
    services: Weak<Services>,
    stream: Arc<EphemeralStream>,
    lazy: lazy::LazyCache,
    filters: FilterCache,
    rendered: render::RenderCache,
}

/// One `GET /sync`.
pub struct SyncRequest<'a> {
    pub user: &'a UserId,
    pub device: &'a DeviceId,
    pub since: Option<&'a str>,
    /// A filter ID, or a filter as JSON.
    pub filter: Option<&'a str>,
    pub full_state: bool,
    pub set_presence: &'a PresenceState,
    pub timeout: Duration,
    pub use_state_after: bool,
}

impl Service {
    pub(crate) fn new(
        ctx: Arc<Ctx>,
        services: Weak<Services>,
        stream: Arc<EphemeralStream>,
    ) -> Self {
        let filters = Mutex::new(LruCache::new(NonZeroUsize::new(FILTER_CACHE).expect("non-zero")));
        let lazy = lazy::LazyCache::default();
        Service { ctx, services, stream, lazy, filters, rendered: Default::default() }
    }

    fn services(&self) -> Result<Arc<Services>> {
        crate::upgrade(&self.services)
    }

    pub async fn sync(&self, req: SyncRequest<'_>) -> Result<SyncResponse> {
        let services = self.services()?;
        let mut since = req.since.map(SyncToken::parse).transpose()?;
        let filter = match req.filter {
            Some(filter) => self.filter(&services, req.user, filter).await?,
            None => Arc::new(FilterDefinition::default()),
        };
        let _syncing = services.presence.syncing(req.user, req.set_presence).await?;
        match since {
            Some(since) => self.confirm_to_device(&services, &req, since.to_device).await?,
            None => self.lazy.reset(req.user, req.device),
        }
        let ignored = self.ignored_users(req.user).await?;
        // `full_state` and initial syncs return at once (spec: `full_state`).
        let wait = if since.is_none() || req.full_state { Duration::ZERO } else { req.timeout };
        let deadline = Instant::now() + wait;
        let mut focus = None;
        loop {
            // Watch before looking, so nothing committed in between is missed; the
            // memberships read for the watch serve the pass unless the stream moved.
            let before = self.ctx.storage.current_stream_pos();
            let memberships = self.ctx.storage.rooms_for_user(req.user, &[]).await?;
            let joined = memberships.iter().filter(|m| m.membership == MembershipState::Join);
            let watch = self.ctx.notifier.watch(req.user, joined.map(|m| m.room_id.clone()));
            let mut pass = self.pass(&services, &req, since, &filter, ignored.clone());
            if pass.to_pos == before {
                pass.memberships = Some(memberships);
            }
            pass.focus = focus.take();
            let response = pass.run().await?;
            let now = Instant::now();
            if !response.is_empty() || now >= deadline || self.ctx.notifier.is_shutting_down() {
                return Ok(response);
            }
            if !watch.wait(deadline - now).await {
                return Ok(response);
            }
            // Nothing up to this pass's end concerned the client: look only past it, and
            // only at the rooms that woke it when nothing woke it for the user itself.
            since = Some(SyncToken::parse(&response.next_batch)?);
            let woken = watch.woken_by();
            focus = (!woken.user).then_some(woken.rooms);
        }
    }

    /// Messages before the token reached the device: delete them (spec: send-to-device
    /// "Server behaviour"). Looked for first, so an ordinary sync writes nothing.
    async fn confirm_to_device(
        &self,
        services: &Services,
        req: &SyncRequest<'_>,
        up_to: i64,
    ) -> Result<()> {
        let e2ee = &services.e2ee;
        let pending = e2ee.to_device_messages(req.user, req.device, 0, up_to, 1).await?;
        if !pending.events.is_empty() {
            e2ee.confirm_to_device(req.user, req.device, up_to).await?;
        }
        Ok(())
    }

    /// A filter by ID or inline; stored filters never change, so they are kept parsed.
    async fn filter(
        &self,
        services: &Services,
        user: &UserId,
        filter: &str,
    ) -> Result<Arc<FilterDefinition>> {
        if filter.trim_start().starts_with('{') {
            return Ok(Arc::new(services.filters.load(user, filter).await?));
        }
        let key = (user.to_owned(), filter.to_owned());
        if let Some(cached) = self.filters.lock().get(&key) {
            return Ok(cached.clone());
        }
        let loaded = Arc::new(services.filters.load(user, filter).await?);
        self.filters.lock().put(key, loaded.clone());
        Ok(loaded)
    }

    /// A pass at the current point of the streams; a token from the future (another
    /// database, a clock gone back) counts as now.
    fn pass<'a>(
        &'a self,
        services: &Arc<Services>,
        req: &'a SyncRequest<'a>,
        since: Option<SyncToken>,
        filter: &'a FilterDefinition,
        ignored: HashSet<OwnedUserId>,
    ) -> Pass<'a> {
        let to_eph = self.stream.current();
        let to_pos = self.ctx.storage.current_stream_pos();
        let since = since.map(|s| SyncToken {
            pos: s.pos.min(to_pos),
            eph: s.eph.min(to_eph),
            to_device: s.to_device.min(to_pos),
        });
        Pass {
            svc: self,
            services: services.clone(),
            user: req.user,
            device: req.device,
            filter,
            since,
            full_state: req.full_state,
            use_state_after: req.use_state_after,
            to_pos,
            to_eph,
            ignored,
            memberships: None,
            focus: None,
            memberships_at: Default::default(),
            unread: Default::default(),
        }
    }

    /// The users in the user's `m.ignored_user_list` (spec: "Ignoring Users").
    pub(crate) async fn ignored_users(&self, user: &UserId) -> Result<HashSet<OwnedUserId>> {
        let data = self.ctx.storage.get_account_data(user, None, "m.ignored_user_list").await?;
        let Some(data) = data else { return Ok(HashSet::new()) };
        let value: Value = serde_json::from_str(data.get()).unwrap_or_default();
        Ok(value["ignored_users"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.keys())
            .filter_map(|u| OwnedUserId::try_from(u.as_str()).ok())
            .collect())
    }
}
