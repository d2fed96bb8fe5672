//! Server administration (spec: client-server-api "Server Administration").

use axum::{Router, extract::State};
use ruma::api::client::admin::get_user_info;

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().ruma::<get_user_info::v3::Request, _, _>(whois)
}

async fn whois(
    State(services): State<AppState>,
    req: Ruma<get_user_info::v3::Request>,
) -> Result<RumaResponse<get_user_info::v3::Response>, ApiError> {
    let devices = services.accounts.whois(req.session(), &req.user_id).await?;
    let mut response = get_user_info::v3::Response::new();
    response.user_id = Some(req.user_id.clone());
    response.devices = devices;
    Ok(response.into())
}
