//! Simplified sliding sync (MSC4186, `POST /_matrix/client/unstable/org.matrix.simplified_msc3575/sync`):
//! what Element X syncs with.
//!
//! A request names lists (sliding windows over the user's rooms, most recently active first,
//! with filters) and room subscriptions; each with a room config (`timeline_limit`,
//! `required_state`). A response holds each list's count and the rooms in the windows or
//! subscribed that the client does not have yet or that changed since its `pos`, plus the
//! extensions (to-device, e2ee, account data, receipts, typing). What the client has is kept
//! per connection ([`connection`]), so incremental responses carry only the changes.
//!
//! It reuses `/sync`'s building blocks: timeline slices, unread counts, room summaries,
//! stripped state, the receipts, typing and e2ee sources, and the notifier for long-polls.

mod config;
mod connection;
mod extensions;
mod filters;
mod lists;
mod pass;
mod plan;
mod request;
mod room;
mod state;
mod token;

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use hearth_core::{Error, Result};
use ruma::{
    DeviceId, OwnedDeviceId, OwnedUserId, UserId, api::client::sync::sync_events::v5,
    events::room::member::MembershipState,
};
use tokio::time::Instant;

pub use filters::ExtraFilters;

use crate::{Ctx, Services, ephemeral::EphemeralStream, stream_token::SyncToken};
use connection::Connections;
use pass::Pass;
use token::Pos;

pub struct Service {
    ctx: Arc<Ctx>,
    services: Weak<Services>,
    stream: Arc<EphemeralStream>,
    connections: Connections,
}

/// One sliding sync request.
pub struct SlidingSyncRequest<'a> {
    pub user: &'a UserId,
    pub device: &'a DeviceId,
    pub body: &'a v5::Request,
    /// List filters of the MSC that ruma's request type lacks, by list key.
    pub extra_filters: &'a std::collections::BTreeMap<String, ExtraFilters>,
}

impl Service {
    pub(crate) fn new(
        ctx: Arc<Ctx>,
        services: Weak<Services>,
        stream: Arc<EphemeralStream>,
    ) -> Self {
        Service { ctx, services, stream, connections: Connections::default() }
    }

    fn services(&self) -> Result<Arc<Services>> {
        crate::upgrade(&self.services)
    }

    /// Compute a response at once; when it is empty and the client gave a `pos` and a
    /// `timeout`, wait on the notifier for something new (MSC4186: "the server will block
    /// waiting for a change").
    pub async fn sync(&self, req: SlidingSyncRequest<'_>) -> Result<v5::Response> {
        let services = self.services()?;
        let request = request::Request::new(req.body, req.extra_filters, req.user)?;
        let (user, device) = (req.user.to_owned(), req.device.to_owned());
        let conn_id = req.body.conn_id.clone().unwrap_or_default();
        let pos = req.body.pos.as_deref().map(Pos::parse).transpose()?;
        let prev = match pos {
            Some(pos) => {
                self.connections.at(&user, &device, &conn_id, pos.conn).ok_or_else(unknown_pos)?
            }
            None => {
                self.connections.reset(&user, &device, &conn_id);
                Default::default()
            }
        };
        let _syncing = services.presence.syncing(req.user, &req.body.set_presence).await?;
        let to_device_since =
            extensions::to_device_since(&request.extensions, req.user, req.device, &services)
                .await?;
        let ignored = services.sync.ignored_users(req.user).await?;
        let wait = match pos {
            Some(_) => req.body.timeout.unwrap_or_default(),
            None => Duration::ZERO,
        };
        let deadline = Instant::now() + wait;
        loop {
            let joined =
                self.ctx.storage.rooms_for_user(req.user, &[MembershipState::Join]).await?;
            let watch = self.ctx.notifier.watch(req.user, joined.into_iter().map(|m| m.room_id));
            let pass = Pass {
                services: services.clone(),
                user: req.user,
                device: req.device,
                req: &request,
                since: self.since(pos),
                prev: &prev,
                to_pos: self.ctx.storage.current_stream_pos(),
                to_eph: self.stream.current(),
                ignored: &ignored,
                to_device_since,
            };
            let outcome = pass.run().await?;
            let now = Instant::now();
            let done = outcome.has_data || now >= deadline || self.ctx.notifier.is_shutting_down();
            if done || !watch.wait(deadline - now).await {
                return Ok(self.finish(&user, &device, &conn_id, req.body, pass.to(), outcome));
            }
        }
    }

    /// The stream point of the client's `pos`; one from the future (another database, a clock
    /// gone back) counts as now.
    fn since(&self, pos: Option<Pos>) -> Option<SyncToken> {
        let (to_pos, to_eph) = (self.ctx.storage.current_stream_pos(), self.stream.current());
        pos.map(|p| {
            let pos = p.stream.pos.min(to_pos);
            SyncToken { pos, eph: p.stream.eph.min(to_eph), to_device: pos }
        })
    }

    /// Record the state the response leaves the client in, and give the response its `pos`.
    fn finish(
        &self,
        user: &OwnedUserId,
        device: &OwnedDeviceId,
        conn_id: &str,
        body: &v5::Request,
        to: SyncToken,
        outcome: pass::Outcome,
    ) -> v5::Response {
        let conn = self.connections.record(user, device, conn_id, outcome.state);
        let mut response = outcome.response;
        response.pos = Pos { conn, stream: to }.to_string();
        response.txn_id = body.txn_id.clone();
        response
    }

    /// A deleted or logged-out device's connections are of no more use.
    pub fn forget_device(&self, user: &UserId, device: &DeviceId) {
        self.connections.forget_device(&user.to_owned(), &device.to_owned());
    }
}

/// MSC4186: an expired or unknown `pos` is answered 400 `M_UNKNOWN_POS`, and the client
/// starts a new connection.
fn unknown_pos() -> Error {
    Error::new(
        http::StatusCode::BAD_REQUEST,
        ruma::api::error::ErrorKind::UnknownPos,
        "Unknown or expired pos: start the connection again",
    )
}
