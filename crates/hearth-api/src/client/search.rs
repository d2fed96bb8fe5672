//! `POST /search` (spec: client-server-api "Server Side Search").

use axum::{Router, extract::State};
use hearth_service::rooms::Viewer;
use ruma::api::client::search::search_events::{
    self,
    v3::{ResultCategories, ResultRoomEvents},
};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().ruma::<search_events::v3::Request, _, _>(search)
}

async fn search(
    State(services): State<AppState>,
    req: Ruma<search_events::v3::Request>,
) -> Result<RumaResponse<search_events::v3::Response>, ApiError> {
    let session = req.session();
    session.forbid_guest()?;
    let mut categories = ResultCategories::new();
    let Some(criteria) = &req.search_categories.room_events else {
        return Ok(search_events::v3::Response::new(categories).into());
    };
    // ruma fills in `event_context` when absent; the body says whether it was asked for.
    let body: serde_json::Value = serde_json::from_slice(&req.raw_body).unwrap_or_default();
    let asked = body["search_categories"]["room_events"].get("event_context").is_some();
    let context = asked.then_some(&criteria.event_context);
    let viewer = Viewer { user: &session.user_id, device: Some(&session.device_id) };
    let page: ResultRoomEvents =
        services.search.search(viewer, criteria, context, req.next_batch.as_deref()).await?;
    categories.room_events = page;
    Ok(search_events::v3::Response::new(categories).into())
}
