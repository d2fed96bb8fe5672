//! The Client-Server API, one file per module of the spec.

mod account;
mod account_data;
mod admin;
mod backup;
mod capabilities;
mod dehydrated_device;
mod device;
mod directory;
mod discovery;
mod filter;
mod keys;
mod legacy;
mod membership;
mod notifications;
mod openid;
mod presence;
mod profile;
mod push_rules;
mod pushers;
mod receipts;
mod register;
mod relations;
mod reporting;
mod rooms;
mod search;
mod session;
mod sliding_sync;
mod spaces;
mod sync;
mod tags;
mod timeline;
mod timestamp;
mod to_device;
mod typing;
mod upgrade;
mod user_directory;

use axum::Router;

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .merge(discovery::routes())
        .merge(register::routes())
        .merge(session::routes())
        .merge(account::routes())
        .merge(device::routes())
        .merge(capabilities::routes())
        .merge(profile::routes())
        .merge(account_data::routes())
        .merge(filter::routes())
        .merge(user_directory::routes())
        .merge(keys::routes())
        .merge(to_device::routes())
        .merge(backup::routes())
        .merge(dehydrated_device::routes())
        .merge(rooms::routes())
        .merge(timeline::routes())
        .merge(membership::routes())
        .merge(directory::routes())
        .merge(sync::routes())
        .merge(sliding_sync::routes())
        .merge(typing::routes())
        .merge(receipts::routes())
        .merge(presence::routes())
        .merge(relations::routes())
        .merge(push_rules::routes())
        .merge(pushers::routes())
        .merge(notifications::routes())
        .merge(tags::routes())
        .merge(reporting::routes())
        .merge(timestamp::routes())
        .merge(upgrade::routes())
        .merge(legacy::routes())
        .merge(openid::routes())
        .merge(spaces::routes())
        .merge(search::routes())
        .merge(admin::routes())
}
