//! `/messages` and `/context` (spec: client-server-api "Getting events for a room").

use axum::{Router, extract::State};
use hearth_service::rooms::TimelineDirection;
use ruma::{
    api::{
        Direction,
        client::{context::get_context, message::get_message_events},
    },
    serde::Raw,
};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<get_message_events::v3::Request, _, _>(messages)
        .ruma::<get_context::v3::Request, _, _>(context)
}

async fn messages(
    State(services): State<AppState>,
    req: Ruma<get_message_events::v3::Request>,
) -> Result<RumaResponse<get_message_events::v3::Response>, ApiError> {
    let session = req.session();
    let dir = match req.dir {
        Direction::Forward => TimelineDirection::Forward,
        _ => TimelineDirection::Backward,
    };
    let page = services
        .rooms
        .messages(
            &session.user_id,
            Some(&session.device_id),
            &req.room_id,
            req.from.as_deref(),
            req.to.as_deref(),
            dir,
            u64::from(req.limit) as usize,
            &req.filter,
        )
        .await?;
    let mut response = get_message_events::v3::Response::new();
    response.start = page.start;
    response.end = page.end;
    response.chunk = page.chunk.into_iter().map(Raw::from_json).collect();
    response.state = page.state.into_iter().map(Raw::from_json).collect();
    Ok(response.into())
}

async fn context(
    State(services): State<AppState>,
    req: Ruma<get_context::v3::Request>,
) -> Result<RumaResponse<get_context::v3::Response>, ApiError> {
    let session = req.session();
    let context = services
        .rooms
        .context(
            &session.user_id,
            Some(&session.device_id),
            &req.room_id,
            &req.event_id,
            u64::from(req.limit) as usize,
            &req.filter,
        )
        .await?;
    let mut response = get_context::v3::Response::new();
    response.start = context.start;
    response.end = context.end;
    response.events_before = context.before.into_iter().map(Raw::from_json).collect();
    response.event = Some(Raw::from_json(context.event));
    response.events_after = context.after.into_iter().map(Raw::from_json).collect();
    response.state = context.state.into_iter().map(Raw::from_json).collect();
    Ok(response.into())
}
