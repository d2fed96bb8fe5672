//! Hearth's services: the homeserver's logic, one module per module of the spec.
//!
//! Handlers in the HTTP layer call into [`Services`]; services call each other through it and
//! reach the database only through `hearth_storage`'s traits.

pub mod account_data;
pub mod accounts;
pub mod directory;
pub mod discovery;
pub mod e2ee;
pub mod ephemeral;
pub mod filters;
pub mod legacy;
pub mod media;
pub mod notifier;
pub mod password;
pub mod presence;
pub mod profile;
pub mod push;
pub mod ratelimit;
pub mod receipts;
pub mod relations;
pub mod reporting;
pub mod rooms;
pub mod search;
pub mod server_keys;
pub mod sliding_sync;
pub mod spaces;
mod stream_follower;
pub mod stream_token;
pub mod sync;
pub mod tags;
pub mod tls;
pub mod typing;
pub mod uiaa;
pub mod user_directory;

use std::sync::{Arc, Weak};

use hearth_core::{Config, Result};
use hearth_storage::Storage;

/// What every service shares: configuration, storage and the notifier.
pub struct Ctx {
    pub config: Arc<Config>,
    pub storage: Arc<dyn Storage>,
    pub notifier: notifier::Notifier,
}

/// All services of one server. Services hold a `Weak` back-reference to reach each other, so
/// several servers can live in one process (tests) without globals.
pub struct Services {
    pub ctx: Arc<Ctx>,
    pub accounts: accounts::Service,
    pub uiaa: uiaa::Service,
    pub profile: profile::Service,
    pub account_data: account_data::Service,
    pub filters: filters::Service,
    pub media: media::Service,
    pub e2ee: e2ee::Service,
    pub user_directory: user_directory::Service,
    pub server_keys: Arc<server_keys::Service>,
    pub rooms: rooms::Service,
    pub directory: directory::Service,
    pub typing: typing::Service,
    pub receipts: receipts::Service,
    pub presence: presence::Service,
    pub sync: sync::Service,
    pub sliding_sync: sliding_sync::Service,
    pub relations: relations::Service,
    pub push: push::Service,
    pub reporting: reporting::Service,
    pub tags: tags::Service,
    pub legacy: legacy::Service,
    pub spaces: spaces::Service,
    pub search: search::Service,
}

/// A service's way back to its siblings; it fails only while the server shuts down.
pub(crate) fn upgrade(services: &Weak<Services>) -> Result<Arc<Services>> {
    services.upgrade().ok_or_else(|| hearth_core::Error::internal("server is shutting down"))
}

impl Services {
    pub fn new(config: Arc<Config>, storage: Arc<dyn Storage>) -> Result<Arc<Services>> {
        let server_keys = Arc::new(server_keys::Service::load(&config)?);
        let ctx = Arc::new(Ctx { config, storage, notifier: notifier::Notifier::default() });
        let ephemeral = Arc::new(ephemeral::EphemeralStream::default());
        Ok(Arc::new_cyclic(|weak: &Weak<Services>| Services {
            accounts: accounts::Service::new(ctx.clone(), weak.clone()),
            uiaa: uiaa::Service::new(ctx.clone(), weak.clone()),
            profile: profile::Service::new(ctx.clone(), weak.clone()),
            account_data: account_data::Service::new(ctx.clone(), weak.clone()),
            filters: filters::Service::new(ctx.clone()),
            media: media::Service::new(ctx.clone(), weak.clone()),
            e2ee: e2ee::Service::new(ctx.clone(), weak.clone()),
            user_directory: user_directory::Service::new(ctx.clone()),
            rooms: rooms::Service::new(ctx.clone(), weak.clone(), server_keys.clone()),
            directory: directory::Service::new(ctx.clone(), weak.clone()),
            typing: typing::Service::new(ctx.clone(), ephemeral.clone()),
            receipts: receipts::Service::new(ctx.clone(), weak.clone()),
            presence: presence::Service::new(ctx.clone(), ephemeral.clone()),
            sync: sync::Service::new(ctx.clone(), weak.clone(), ephemeral.clone()),
            sliding_sync: sliding_sync::Service::new(ctx.clone(), weak.clone(), ephemeral.clone()),
            relations: relations::Service::new(ctx.clone(), weak.clone()),
            push: push::Service::new(ctx.clone(), weak.clone()),
            reporting: reporting::Service::new(ctx.clone(), weak.clone()),
            tags: tags::Service::new(ctx.clone(), weak.clone()),
            legacy: legacy::Service::new(ctx.clone(), weak.clone(), ephemeral.clone()),
            spaces: spaces::Service::new(weak.clone()),
            search: search::Service::new(ctx.clone(), weak.clone()),
            server_keys,
            ctx,
        }))
    }

    pub fn config(&self) -> &Config {
        &self.ctx.config
    }
}
