//! `POST /rooms/{roomId}/upgrade` (spec: client-server-api "Room Upgrades").

use axum::{Router, extract::State};
use ruma::api::client::room::upgrade_room;

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().ruma::<upgrade_room::v3::Request, _, _>(upgrade)
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
