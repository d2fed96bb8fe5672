//! `POST /rooms/{roomId}/upgrade` (spec: client-server-api "Room Upgrades").

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    middleware::{Next, from_fn},
    response::{IntoResponse, Response},
};
use hearth_core::Error;
use http::StatusCode;
use ruma::{RoomVersionId, api::client::room::upgrade_room, api::error::ErrorKind};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse, ruma_wrapper::read_body};

/// An upgrade request is a few bytes; larger bodies are refused before parsing.
const MAX_BODY: usize = 64 * 1024;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<upgrade_room::v3::Request, _, _>(upgrade)
        .route_layer(from_fn(unknown_versions))
}

async fn upgrade(
    State(services): State<AppState>,
    req: Ruma<upgrade_room::v3::Request>,
) -> Result<RumaResponse<upgrade_room::v3::Response>, ApiError> {
    let new = services
        .rooms
        .upgrade_room(req.session(), &req.room_id, &req.new_version, &req.additional_creators)
        .await?;
    Ok(upgrade_room::v3::Response::new(new).into())
}

/// ruma refuses a `new_version` that is not a well-formed room version identifier as
/// `M_BAD_JSON`; to the client it is a version this server does not support (Synapse).
async fn unknown_versions(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match read_body(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(e) => return e.into_response(),
    };
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    if let Some(version) = value.get("new_version").and_then(|v| v.as_str())
        && RoomVersionId::try_from(version).is_err()
    {
        let message = format!("Room version {version:?} is not supported");
        let error = Error::new(StatusCode::BAD_REQUEST, ErrorKind::UnsupportedRoomVersion, message);
        return ApiError(error).into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}
