//! `/_matrix/client/v1/media/preview_url` and the deprecated `/_matrix/media/v3/preview_url`.

#![allow(deprecated)] // The legacy endpoint is deprecated in the spec, and still served.

use axum::{Router, extract::State};
use ruma::api::client::{
    authenticated_media::get_media_preview as authed, media::get_media_preview as legacy,
};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<authed::v1::Request, _, _>(preview)
        .ruma::<legacy::v3::Request, _, _>(legacy_preview)
}

async fn preview(
    State(services): State<AppState>,
    req: Ruma<authed::v1::Request>,
) -> Result<RumaResponse<authed::v1::Response>, ApiError> {
    let og = services.media.preview_url(req.session(), &req.url).await?;
    Ok(authed::v1::Response::from_raw_value(og).into())
}

async fn legacy_preview(
    State(services): State<AppState>,
    req: Ruma<legacy::v3::Request>,
) -> Result<RumaResponse<legacy::v3::Response>, ApiError> {
    let og = services.media.preview_url(req.session(), &req.url).await?;
    Ok(legacy::v3::Response::from_raw_value(og).into())
}
