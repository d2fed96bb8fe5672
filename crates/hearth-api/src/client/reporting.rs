//! Reporting content (spec: client-server-api "Reporting content").

use axum::{Router, extract::State};
use ruma::api::client::{
    reporting::report_user,
    room::{report_content, report_room},
};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<report_content::v3::Request, _, _>(report_event)
        .ruma::<report_room::v3::Request, _, _>(report_room)
        .ruma::<report_user::v3::Request, _, _>(report_user)
}

/// ruma's request type dropped `score` (removed in spec v1.18); it is read from the body so a
/// malformed one gets a clear error, as Synapse gives.
async fn report_event(
    State(services): State<AppState>,
    req: Ruma<report_content::v3::Request>,
) -> Result<RumaResponse<report_content::v3::Response>, ApiError> {
    let body: serde_json::Value = serde_json::from_slice(&req.raw_body).unwrap_or_default();
    let (room_id, event_id, reason) = (&req.room_id, &req.event_id, req.reason.clone());
    let score = body.get("score");
    services.reporting.report_event(req.session(), room_id, event_id, reason, score).await?;
    Ok(report_content::v3::Response::new().into())
}

async fn report_room(
    State(services): State<AppState>,
    req: Ruma<report_room::v3::Request>,
) -> Result<RumaResponse<report_room::v3::Response>, ApiError> {
    let reason = req.reason.clone();
    services.reporting.report_room(req.session(), &req.room_id, reason).await?;
    Ok(report_room::v3::Response::new().into())
}

async fn report_user(
    State(services): State<AppState>,
    req: Ruma<report_user::v3::Request>,
) -> Result<RumaResponse<report_user::v3::Response>, ApiError> {
    let reason = req.reason.clone();
    services.reporting.report_user(req.session(), &req.user_id, reason).await?;
    Ok(report_user::v3::Response::new().into())
}
