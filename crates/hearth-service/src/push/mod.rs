//! Push notifications (spec: client-server-api "Push Notifications"): push rules stored as
//! `m.push_rules` account data, their evaluation for every new event, unread notification
//! counts reset by receipts, `/notifications`, pushers, and delivery to push gateways
//! (spec: push-gateway-api).
//!
//! Evaluation runs after commit, off the send's path: a background task follows the stream
//! in order ([`evaluate`], a [`Follower`]), woken after commits, and stores what it found with
//! the position it reached. Readers of counts wait for it to reach the position they report, so
//! a count always covers the events of the same `/sync` response. Deliveries are queued in the
//! database by the same write and sent by a second task ([`delivery`]).

mod context;
mod counts;
mod delivery;
mod evaluate;
mod event_eval;
mod gateway;
mod ignored;
mod notifications;
mod payload;
mod pushers;
mod room_upgrade;
mod rules;
mod thread;

use std::{
    collections::HashSet,
    sync::{Arc, Weak},
};

use parking_lot::Mutex;
use ruma::OwnedUserId;
use tokio::sync::{Notify, watch};

pub use counts::{Counts, RoomCounts};
pub use ignored::{IGNORED_USER_LIST, ignored_users};
pub use notifications::NotificationsPage;

use crate::{Ctx, Services, stream_follower::Follower};

pub struct Service {
    ctx: Arc<Ctx>,
    services: Weak<Services>,
    rulesets: Mutex<rules::RulesCache>,
    /// Users with an HTTP pusher (a superset: removing waits for the database to agree), so
    /// notifications of the others queue no delivery.
    with_pushers: Mutex<HashSet<OwnedUserId>>,
    /// Who ignores whom (their non-state events notify them of nothing).
    ignores: Mutex<ignored::IgnoreIndex>,
    /// Serializes changes to push rules (read, modify, write).
    rules_write: tokio::sync::Mutex<()>,
    /// Evaluation: the stream position notifications are stored up to.
    evaluation: Arc<Follower>,
    delivery_wake: Arc<Notify>,
    shutdown: watch::Sender<bool>,
}

impl Service {
    pub(crate) fn new(ctx: Arc<Ctx>, services: Weak<Services>) -> Self {
        Service {
            ctx,
            services,
            rulesets: Mutex::new(rules::RulesCache::new()),
            with_pushers: Mutex::default(),
            ignores: Mutex::default(),
            rules_write: tokio::sync::Mutex::new(()),
            evaluation: Arc::new(Follower::new("push evaluation")),
            delivery_wake: Arc::new(Notify::new()),
            shutdown: watch::channel(false).0,
        }
    }

    /// Start the evaluation and delivery tasks (the server does, once; CLI tools do not).
    pub async fn start(&self) -> hearth_core::Result<()> {
        let storage = &self.ctx.storage;
        self.evaluation.set_reached(storage.push_evaluated_pos().await?);
        storage.release_push_claims().await?;
        let with_pushers = storage.users_with_pushers().await?;
        self.with_pushers.lock().extend(with_pushers);
        self.load_ignore_lists().await?;
        let client = gateway::Gateway::new(&self.ctx.config.push)?;
        let (work, stop) = (evaluate::Evaluator::new(), self.shutdown.subscribe());
        tokio::spawn(self.evaluation.clone().run(self.services.clone(), work, stop));
        tokio::spawn(delivery::run(
            self.services.clone(),
            client,
            self.delivery_wake.clone(),
            self.shutdown.subscribe(),
        ));
        Ok(())
    }

    /// Stop the background tasks (server shutdown). Deliveries in flight stay queued.
    pub fn stop(&self) {
        self.shutdown.send_replace(true);
    }

    /// New events are committed: evaluate them. Called after every event commit.
    pub fn wake(&self) {
        self.evaluation.wake();
    }

    /// Wait (boundedly) until events up to `pos` are evaluated.
    async fn wait_evaluated(&self, pos: i64) {
        self.evaluation.wait_for(pos).await;
    }
}
