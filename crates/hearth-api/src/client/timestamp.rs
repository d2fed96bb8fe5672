//! `GET /rooms/{roomId}/timestamp_to_event` (spec: client-server-api "Events").

use axum::{Router, extract::State};
use hearth_service::rooms::TimelineDirection;
use ruma::api::{Direction, client::room::get_event_by_timestamp};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().ruma::<get_event_by_timestamp::v1::Request, _, _>(timestamp_to_event)
}

async fn timestamp_to_event(
    State(services): State<AppState>,
    req: Ruma<get_event_by_timestamp::v1::Request>,
) -> Result<RumaResponse<get_event_by_timestamp::v1::Response>, ApiError> {
    let session = req.session();
    session.forbid_guest()?;
    let dir = match req.dir {
        Direction::Forward => TimelineDirection::Forward,
        _ => TimelineDirection::Backward,
    };
    let (event_id, ts) =
        services.rooms.event_near_timestamp(&session.user_id, &req.room_id, req.ts, dir).await?;
    Ok(get_event_by_timestamp::v1::Response::new(event_id, ts).into())
}
