//! Pushers (spec: client-server-api "Push Notifications", "Client behaviour").

use axum::{Router, extract::State};
use ruma::api::client::push::{get_pushers, set_pusher};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<get_pushers::v3::Request, _, _>(get_pushers)
        .ruma::<set_pusher::v3::Request, _, _>(set_pusher)
}

async fn get_pushers(
    State(services): State<AppState>,
    req: Ruma<get_pushers::v3::Request>,
) -> Result<RumaResponse<get_pushers::v3::Response>, ApiError> {
    let pushers = services.push.pushers(req.session()).await?;
    Ok(get_pushers::v3::Response::new(pushers).into())
}

async fn set_pusher(
    State(services): State<AppState>,
    req: Ruma<set_pusher::v3::Request>,
) -> Result<RumaResponse<set_pusher::v3::Response>, ApiError> {
    services.push.set_pusher(req.session(), req.body.action.clone()).await?;
    Ok(set_pusher::v3::Response::new().into())
}
