//! The deprecated v1 sync endpoints ruma does not have: `GET /events` (the event stream),
//! `GET /events/{eventId}`, `GET /initialSync` and `GET /rooms/{roomId}/initialSync`
//! (spec r0.6.1 "Syncing", "Peeking"). Synapse still serves them and SyTest uses them.

use std::time::Duration;

use axum::{Router, extract::State, response::Response, routing::get};
use hearth_core::Error;
use hearth_service::legacy::EventStreamRequest;
use http::StatusCode;
use ruma::{OwnedEventId, OwnedRoomId};
use serde::{Deserialize, Serialize};

use crate::{
    ApiError, AppState,
    error::json_response,
    extract::{Auth, PathArgs, QueryArgs, client_paths},
};

/// The longest a client may wait (Synapse's default, also when none is given).
const DEFAULT_TIMEOUT_MS: u64 = 30_000;

pub(crate) fn routes() -> Router<AppState> {
    let routes: [(&str, axum::routing::MethodRouter<AppState>); 4] = [
        ("/events", get(event_stream)),
        ("/events/{event_id}", get(event)),
        ("/initialSync", get(initial_sync)),
        ("/rooms/{room_id}/initialSync", get(room_initial_sync)),
    ];
    let mut router = Router::new();
    for (path, handler) in routes {
        for full in client_paths(path) {
            router = router.route(&full, handler.clone());
        }
    }
    router
}

#[derive(Deserialize)]
struct EventStreamQuery {
    from: Option<String>,
    /// Milliseconds.
    timeout: Option<u64>,
    limit: Option<usize>,
    room_id: Option<OwnedRoomId>,
}

async fn event_stream(
    State(services): State<AppState>,
    Auth(session): Auth,
    QueryArgs(q): QueryArgs<EventStreamQuery>,
) -> Result<Response, ApiError> {
    let timeout = q.timeout.unwrap_or(DEFAULT_TIMEOUT_MS).min(DEFAULT_TIMEOUT_MS);
    let page = services
        .legacy
        .event_stream(EventStreamRequest {
            user: &session.user_id,
            is_guest: session.is_guest,
            from: q.from.as_deref(),
            timeout: Duration::from_millis(timeout),
            limit: q.limit,
            room_id: q.room_id.as_deref(),
        })
        .await?;
    json(&page)
}

async fn event(
    State(services): State<AppState>,
    Auth(session): Auth,
    PathArgs(event_id): PathArgs<OwnedEventId>,
) -> Result<Response, ApiError> {
    json(&services.legacy.event(&session.user_id, &event_id).await?)
}

#[derive(Deserialize)]
struct InitialSyncQuery {
    limit: Option<usize>,
    #[serde(default)]
    archived: bool,
}

async fn initial_sync(
    State(services): State<AppState>,
    Auth(session): Auth,
    QueryArgs(q): QueryArgs<InitialSyncQuery>,
) -> Result<Response, ApiError> {
    session.forbid_guest()?;
    json(&services.legacy.initial_sync(&session.user_id, q.limit, q.archived).await?)
}

#[derive(Deserialize)]
struct RoomInitialSyncQuery {
    limit: Option<usize>,
}

async fn room_initial_sync(
    State(services): State<AppState>,
    Auth(session): Auth,
    PathArgs(room_id): PathArgs<OwnedRoomId>,
    QueryArgs(q): QueryArgs<RoomInitialSyncQuery>,
) -> Result<Response, ApiError> {
    json(&services.legacy.room_initial_sync(&session.user_id, &room_id, q.limit).await?)
}

fn json(value: &impl Serialize) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(value).map_err(Error::internal)?;
    Ok(json_response(StatusCode::OK, body))
}
