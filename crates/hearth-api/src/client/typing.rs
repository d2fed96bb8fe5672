//! `PUT /rooms/{roomId}/typing/{userId}` (spec: client-server-api "Typing Notifications").
//!
//! Not ruma's request type: it requires `timeout` when `typing` is true, which clients (and
//! SyTest) leave out; Synapse then uses 30 seconds.

use std::time::Duration;

use axum::{Router, extract::State, routing::put};
use ruma::{OwnedRoomId, OwnedUserId};
use serde::Deserialize;

use crate::{
    ApiError, AppState,
    error::json_response,
    extract::{Auth, JsonBody, PathArgs, client_paths},
};

/// The timeout when a client starts typing without one (Synapse's).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) fn routes() -> Router<AppState> {
    client_paths("/rooms/{room_id}/typing/{user_id}")
        .iter()
        .fold(Router::new(), |router, path| router.route(path, put(typing)))
}

#[derive(Deserialize)]
struct Typing {
    typing: bool,
    /// Milliseconds.
    timeout: Option<u64>,
}

async fn typing(
    State(services): State<AppState>,
    Auth(session): Auth,
    PathArgs((room_id, user_id)): PathArgs<(OwnedRoomId, OwnedUserId)>,
    JsonBody(body): JsonBody<Typing>,
) -> Result<axum::response::Response, ApiError> {
    session.forbid_guest()?;
    let timeout =
        body.typing.then(|| body.timeout.map(Duration::from_millis).unwrap_or(DEFAULT_TIMEOUT));
    services.typing.set_typing(&session.user_id, &user_id, &room_id, timeout).await?;
    Ok(json_response(http::StatusCode::OK, b"{}".to_vec()))
}
