//! Hearth's HTTP layer: axum routers whose handlers turn a ruma request into a service call and
//! its result into a ruma response. No SQL and no business rules live here.

mod client;
mod error;
mod extract;
mod media;
mod middleware;
mod router_ext;
mod ruma_wrapper;
mod well_known;

use std::sync::Arc;

use axum::Router;
use hearth_service::Services;

pub use error::ApiError;
pub use middleware::ClientIp;
pub use router_ext::RouterExt;
pub use ruma_wrapper::{Ruma, RumaResponse};

/// Shared state of every handler.
pub type AppState = Arc<Services>;

/// The whole HTTP surface of the server, with its middleware.
pub fn router(services: Arc<Services>) -> Router {
    let routes =
        Router::new().merge(client::routes()).merge(media::routes()).merge(well_known::routes());
    middleware::wrap(routes, services.clone()).with_state(services)
}
