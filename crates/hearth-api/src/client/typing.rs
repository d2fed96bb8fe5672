//! `PUT /rooms/{roomId}/typing/{userId}` (spec: client-server-api "Typing Notifications").

use axum::{Router, extract::State};
use ruma::api::client::typing::create_typing_event::{self, v3::Typing};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().ruma::<create_typing_event::v3::Request, _, _>(typing)
}

async fn typing(
    State(services): State<AppState>,
    req: Ruma<create_typing_event::v3::Request>,
) -> Result<RumaResponse<create_typing_event::v3::Response>, ApiError> {
    let session = req.session();
    session.forbid_guest()?;
    let timeout = match req.state {
        Typing::Yes(info) => Some(info.timeout),
        Typing::No => None,
    };
    services.typing.set_typing(&session.user_id, &req.user_id, &req.room_id, timeout).await?;
    Ok(create_typing_event::v3::Response::new().into())
}
