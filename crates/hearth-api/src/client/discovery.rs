//! `/versions` (spec: client-server-api "API Standards").

use axum::Router;
use ruma::api::client::discovery::get_supported_versions;

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().ruma::<get_supported_versions::Request, _, _>(versions)
}

async fn versions(
    _req: Ruma<get_supported_versions::Request>,
) -> Result<RumaResponse<get_supported_versions::Response>, ApiError> {
    let versions = hearth_service::discovery::SPEC_VERSIONS.iter().map(|v| v.to_string()).collect();
    let mut response = get_supported_versions::Response::new(versions);
    response.unstable_features = hearth_service::discovery::unstable_features();
    Ok(response.into())
}
