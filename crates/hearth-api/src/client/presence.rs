//! `GET`/`PUT /presence/{userId}/status` (spec: client-server-api "Presence").

use std::time::Duration;

use axum::{Router, extract::State};
use ruma::api::client::presence::{get_presence, set_presence};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<get_presence::v3::Request, _, _>(get)
        .ruma::<set_presence::v3::Request, _, _>(set)
}

async fn get(
    State(services): State<AppState>,
    req: Ruma<get_presence::v3::Request>,
) -> Result<RumaResponse<get_presence::v3::Response>, ApiError> {
    let session = req.session();
    session.forbid_guest()?;
    let view = services.presence.get_presence(&session.user_id, &req.user_id).await?;
    let mut response = get_presence::v3::Response::new(view.presence);
    response.status_msg = view.status_msg;
    response.currently_active = view.currently_active;
    response.last_active_ago = view.last_active_ago.map(Duration::from_millis);
    Ok(response.into())
}

async fn set(
    State(services): State<AppState>,
    req: Ruma<set_presence::v3::Request>,
) -> Result<RumaResponse<set_presence::v3::Response>, ApiError> {
    let session = req.session();
    session.forbid_guest()?;
    services
        .presence
        .set_presence(&session.user_id, &req.user_id, &req.presence, req.status_msg.clone())
        .await?;
    Ok(set_presence::v3::Response::new().into())
}
