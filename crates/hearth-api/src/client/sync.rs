//! `GET /sync` (spec: client-server-api "Syncing").

use axum::{Router, extract::State, response::Response};
use hearth_core::Error;
use hearth_service::sync::SyncRequest;
use http::StatusCode;
use ruma::api::client::sync::sync_events::{self, v3::Filter};

use crate::{ApiError, AppState, RouterExt, Ruma, error::json_response};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().ruma::<sync_events::v3::Request, _, _>(sync)
}

/// The response is the service's own serialization (every room section present, as
/// Synapse and SyTest expect), not ruma's.
async fn sync(
    State(services): State<AppState>,
    req: Ruma<sync_events::v3::Request>,
) -> Result<Response, ApiError> {
    let session = req.session();
    let filter = match &req.filter {
        Some(Filter::FilterId(id)) => Some(id.clone()),
        Some(Filter::FilterDefinition(def)) => {
            Some(serde_json::to_string(def).map_err(Error::internal)?)
        }
        Some(_) => return Err(Error::invalid_param("Unsupported filter").into()),
        None => None,
    };
    let response = services
        .sync
        .sync(SyncRequest {
            user: &session.user_id,
            device: &session.device_id,
            since: req.since.as_deref(),
            filter: filter.as_deref(),
            full_state: req.full_state,
            set_presence: &req.set_presence,
            timeout: req.timeout.unwrap_or_default(),
            use_state_after: req.use_state_after,
        })
        .await?;
    let body = serde_json::to_vec(&response).map_err(Error::internal)?;
    Ok(json_response(StatusCode::OK, body))
}
