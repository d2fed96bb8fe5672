//! Server discovery: `/.well-known/matrix/client` and `/.well-known/matrix/server`
//! (spec: client-server-api "Server Discovery", server-server-api "Resolving server names").

use axum::{Router, extract::State, response::Response, routing::get};
use hearth_core::Error;
use http::StatusCode;
use serde_json::json;

use crate::{ApiError, AppState, error::json_response};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/matrix/client", get(client))
        .route("/.well-known/matrix/server", get(server))
}

async fn client(State(services): State<AppState>) -> Response {
    let config = services.config();
    let base_url = config.well_known.client.clone().unwrap_or_else(|| config.public_baseurl());
    let body = json!({ "m.homeserver": { "base_url": base_url } });
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

async fn server(State(services): State<AppState>) -> Result<Response, ApiError> {
    let Some(server) = services.config().well_known.server.clone() else {
        return Err(Error::not_found("No .well-known/matrix/server configured").into());
    };
    let body = json!({ "m.server": server });
    Ok(json_response(StatusCode::OK, body.to_string().into_bytes()))
}
