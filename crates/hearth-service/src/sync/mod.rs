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
mod response;
mod state;
mod stripped;
mod summary;
mod timeline;

use std::{
    collections::HashSet,
    sync::{Arc, Weak},
    time::Duration,
};

use hearth_core::{Error, Result};
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

pub struct Service {
    ctx: Arc<Ctx>,
    services: Weak<Services>,
    stream: Arc<EphemeralStream>,
    lazy: lazy::LazyCache,
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
        Service { ctx, services, stream, lazy: lazy::LazyCache::default() }
    }

    fn services(&self) -> Result<Arc<Services>> {
        self.services.upgrade().ok_or_else(|| Error::internal("server is shutting down"))
    }

    pub async fn sync(&self, req: SyncRequest<'_>) -> Result<SyncResponse> {
        let services = self.services()?;
        let since = req.since.map(SyncToken::parse).transpose()?;
        let filter = match req.filter {
            Some(filter) => services.filters.load(req.user, filter).await?,
            None => FilterDefinition::default(),
        };
        let _syncing = services.presence.syncing(req.user, req.set_presence).await?;
        match since {
            // Messages before the token reached the device: delete them (spec: "Server
            // behaviour" of send-to-device).
            Some(since) => {
                services.e2ee.confirm_to_device(req.user, req.device, since.to_device).await?
            }
            None => self.lazy.reset(req.user, req.device),
        }
        let ignored = self.ignored_users(req.user).await?;
        // `full_state` and initial syncs return at once (spec: `full_state`).
        let wait = if since.is_none() || req.full_state { Duration::ZERO } else { req.timeout };
        let deadline = Instant::now() + wait;
        loop {
            let joined =
                self.ctx.storage.rooms_for_user(req.user, &[MembershipState::Join]).await?;
            let watch = self.ctx.notifier.watch(req.user, joined.into_iter().map(|m| m.room_id));
            let pass = self.pass(&services, &req, since, &filter, ignored.clone());
            let response = pass.run().await?;
            let now = Instant::now();
            if !response.is_empty() || now >= deadline || self.ctx.notifier.is_shutting_down() {
                return Ok(response);
            }
            if !watch.wait(deadline - now).await {
                return Ok(response);
            }
        }
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
        }
    }

    /// The users in the user's `m.ignored_user_list` (spec: "Ignoring Users").
    async fn ignored_users(&self, user: &UserId) -> Result<HashSet<OwnedUserId>> {
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
