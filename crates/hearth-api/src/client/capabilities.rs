//! `/capabilities` (spec: client-server-api "Capabilities negotiation").

use axum::{Router, extract::State, response::Response};
use hearth_core::Error;
use http::StatusCode;
use ruma::api::client::discovery::get_capabilities;
use serde_json::json;

use crate::{ApiError, AppState, RouterExt, Ruma, error::json_response};

/// Capabilities listed even at their default value: ruma leaves defaults out, but clients
/// (and SyTest) read these keys without falling back to the spec's defaults, as Synapse sends
/// them all.
const ALWAYS_LISTED: &[&str] = &[
    "m.change_password",
    "m.room_versions",
    "m.set_displayname",
    "m.set_avatar_url",
    "m.3pid_changes",
    "m.get_login_token",
];

pub(crate) fn routes() -> Router<AppState> {
    Router::new().ruma::<get_capabilities::v3::Request, _, _>(capabilities)
}

async fn capabilities(
    State(services): State<AppState>,
    _req: Ruma<get_capabilities::v3::Request>,
) -> Result<Response, ApiError> {
    let capabilities = hearth_service::discovery::capabilities(services.config());
    let mut listed = serde_json::to_value(&capabilities).map_err(Error::internal)?;
    for key in ALWAYS_LISTED {
        if let (Some(obj), Some(value)) = (listed.as_object_mut(), capabilities.get(key)) {
            obj.insert((*key).to_owned(), value.into_owned());
        }
    }
    let body = serde_json::to_vec(&json!({ "capabilities": listed })).map_err(Error::internal)?;
    Ok(json_response(StatusCode::OK, body))
}
