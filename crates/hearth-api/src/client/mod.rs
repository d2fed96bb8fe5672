//! The Client-Server API, one file per module of the spec.

mod account;
mod account_data;
mod capabilities;
mod device;
mod discovery;
mod filter;
mod profile;
mod register;
mod session;

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
}
