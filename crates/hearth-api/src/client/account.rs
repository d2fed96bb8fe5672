//! Account management (spec: client-server-api "Account management"): whoami.

use axum::Router;
use ruma::api::client::account::whoami;

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().ruma::<whoami::v3::Request, _, _>(whoami)
}

async fn whoami(
    req: Ruma<whoami::v3::Request>,
) -> Result<RumaResponse<whoami::v3::Response>, ApiError> {
    let session = req.session();
    let mut response = whoami::v3::Response::new(session.user_id.clone(), session.is_guest);
    response.device_id = Some(session.device_id.clone());
    Ok(response.into())
}
