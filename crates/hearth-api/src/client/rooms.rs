//! Rooms and their events (spec: client-server-api "Creation", "Sending events to a room",
//! "Getting events for a room", "Redactions").

use axum::{
    Router,
    extract::State,
    routing::{post, put},
};
use ruma::{
    OwnedRoomId,
    api::client::{
        message::send_message_event,
        redact::redact_event,
        room::{create_room, get_room_event},
        state::{get_state_event_for_key, get_state_events, send_state_event},
    },
    serde::Raw,
};

use crate::{
    ApiError, AppState, RouterExt, Ruma, RumaResponse,
    extract::{Auth, JsonBody, PathArgs, client_paths},
};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<create_room::v3::Request, _, _>(create_room)
        .ruma::<send_message_event::v3::Request, _, _>(send_message)
        .ruma::<send_state_event::v3::Request, _, _>(send_state)
        .ruma::<get_state_events::v3::Request, _, _>(get_state)
        .ruma::<get_state_event_for_key::v3::Request, _, _>(get_state_event)
        .ruma::<get_room_event::v3::Request, _, _>(get_event)
        .ruma::<redact_event::v3::Request, _, _>(redact)
        .merge(empty_state_key_routes())
        .merge(send_without_txn_routes())
}

/// `POST /rooms/{roomId}/send/{eventType}`: sending without a transaction ID, from before
/// the spec had them; ruma lacks it, Synapse still serves it (and SyTest uses it).
fn send_without_txn_routes() -> Router<AppState> {
    client_paths("/rooms/{room_id}/send/{event_type}")
        .iter()
        .fold(Router::new(), |router, path| router.route(path, post(send_without_txn)))
}

async fn send_without_txn(
    State(services): State<AppState>,
    Auth(session): Auth,
    PathArgs((room_id, event_type)): PathArgs<(OwnedRoomId, String)>,
    JsonBody(content): JsonBody<serde_json::Value>,
) -> Result<RumaResponse<send_message_event::v3::Response>, ApiError> {
    let event_id = services
        .rooms
        .send_message(&session.user_id, &session.device_id, &room_id, &event_type, None, content)
        .await?;
    Ok(send_message_event::v3::Response::new(event_id).into())
}

/// `/state/{eventType}` and `/state/{eventType}/` mean an empty state key (spec); ruma's paths
/// need a non-empty `{stateKey}` segment, so these are routed here.
fn empty_state_key_routes() -> Router<AppState> {
    let mut router = Router::new();
    for version in ["r0", "v3"] {
        for suffix in ["", "/"] {
            let path =
                format!("/_matrix/client/{version}/rooms/{{room_id}}/state/{{event_type}}{suffix}");
            router = router.route(&path, put(send_state).get(get_state_event));
        }
    }
    router
}

async fn create_room(
    State(services): State<AppState>,
    req: Ruma<create_room::v3::Request>,
) -> Result<RumaResponse<create_room::v3::Response>, ApiError> {
    let room_id = services.rooms.create_room(&req.session().user_id, &req.body).await?;
    Ok(create_room::v3::Response::new(room_id).into())
}

async fn send_message(
    State(services): State<AppState>,
    req: Ruma<send_message_event::v3::Request>,
) -> Result<RumaResponse<send_message_event::v3::Response>, ApiError> {
    let session = req.session();
    let content =
        serde_json::from_str(req.body.body.json().get()).map_err(hearth_core::Error::from)?;
    let event_id = services
        .rooms
        .send_message(
            &session.user_id,
            &session.device_id,
            &req.room_id,
            &req.event_type.to_string(),
            Some(&req.txn_id),
            content,
        )
        .await?;
    Ok(send_message_event::v3::Response::new(event_id).into())
}

async fn send_state(
    State(services): State<AppState>,
    req: Ruma<send_state_event::v3::Request>,
) -> Result<RumaResponse<send_state_event::v3::Response>, ApiError> {
    let content =
        serde_json::from_str(req.body.body.json().get()).map_err(hearth_core::Error::from)?;
    let event_id = services
        .rooms
        .send_state(
            &req.session().user_id,
            &req.room_id,
            &req.event_type.to_string(),
            &req.state_key,
            content,
        )
        .await?;
    Ok(send_state_event::v3::Response::new(event_id).into())
}

async fn get_state(
    State(services): State<AppState>,
    req: Ruma<get_state_events::v3::Request>,
) -> Result<RumaResponse<get_state_events::v3::Response>, ApiError> {
    let events = services.rooms.get_state(&req.session().user_id, &req.room_id).await?;
    Ok(get_state_events::v3::Response::new(events.into_iter().map(Raw::from_json).collect()).into())
}

async fn get_state_event(
    State(services): State<AppState>,
    req: Ruma<get_state_event_for_key::v3::Request>,
) -> Result<RumaResponse<get_state_event_for_key::v3::Response>, ApiError> {
    let whole = req.format == get_state_event_for_key::v3::StateEventFormat::Event;
    let json = services
        .rooms
        .get_state_event(
            &req.session().user_id,
            &req.room_id,
            &req.event_type.to_string(),
            &req.state_key,
            whole,
        )
        .await?;
    Ok(get_state_event_for_key::v3::Response::from(Raw::<ruma::events::AnyStateEvent>::from_json(
        json,
    ))
    .into())
}

async fn get_event(
    State(services): State<AppState>,
    req: Ruma<get_room_event::v3::Request>,
) -> Result<RumaResponse<get_room_event::v3::Response>, ApiError> {
    let session = req.session();
    let event = services
        .rooms
        .get_event(&session.user_id, Some(&session.device_id), &req.room_id, &req.event_id)
        .await?;
    Ok(get_room_event::v3::Response::new(Raw::from_json(event)).into())
}

async fn redact(
    State(services): State<AppState>,
    req: Ruma<redact_event::v3::Request>,
) -> Result<RumaResponse<redact_event::v3::Response>, ApiError> {
    let session = req.session();
    let event_id = services
        .rooms
        .redact(
            &session.user_id,
            &session.device_id,
            &req.room_id,
            &req.event_id,
            &req.txn_id,
            req.reason.clone(),
        )
        .await?;
    Ok(redact_event::v3::Response::new(event_id).into())
}
