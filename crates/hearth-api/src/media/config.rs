//! `/_matrix/client/v1/media/config` and the deprecated `/_matrix/media/v3/config`.

#![allow(deprecated)] // The legacy endpoint is deprecated in the spec, and still served.

use axum::{Router, extract::State};
use ruma::{
    UInt,
    api::client::{
        authenticated_media::get_media_config as authed, media::get_media_config as legacy,
    },
};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<authed::v1::Request, _, _>(config)
        .ruma::<legacy::v3::Request, _, _>(legacy_config)
}

fn upload_size(services: &AppState) -> UInt {
    UInt::new_saturating(services.media.max_upload_bytes())
}

async fn config(
    State(services): State<AppState>,
    _req: Ruma<authed::v1::Request>,
) -> Result<RumaResponse<authed::v1::Response>, ApiError> {
    Ok(authed::v1::Response::new(upload_size(&services)).into())
}

async fn legacy_config(
    State(services): State<AppState>,
    _req: Ruma<legacy::v3::Request>,
) -> Result<RumaResponse<legacy::v3::Response>, ApiError> {
    Ok(legacy::v3::Response::new(upload_size(&services)).into())
}
