//! The Client-Server API, one file per module of the spec.

mod account;
mod device;
mod discovery;
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
}
