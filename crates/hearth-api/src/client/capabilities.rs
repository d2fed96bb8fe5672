//! `/capabilities` (spec: client-server-api "Capabilities negotiation").

use axum::{Router, extract::State};
use ruma::api::client::discovery::get_capabilities;

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().ruma::<get_capabilities::v3::Request, _, _>(capabilities)
}

async fn capabilities(
    State(services): State<AppState>,
    _req: Ruma<get_capabilities::v3::Request>,
) -> Result<RumaResponse<get_capabilities::v3::Response>, ApiError> {
    let capabilities = hearth_service::discovery::capabilities(services.config());
    Ok(get_capabilities::v3::Response::new(capabilities).into())
}
