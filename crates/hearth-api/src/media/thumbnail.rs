//! Thumbnails: `/_matrix/client/v1/media/thumbnail/...` and the deprecated
//! `/_matrix/media/v3/thumbnail/...`.

#![allow(deprecated)] // The legacy endpoint is deprecated in the spec, and still served.

use std::time::Duration;

use axum::{Router, extract::State, response::Response};
use hearth_core::Error;
use hearth_service::media::{DownloadRequest, Method, ThumbnailRequest};
use http::HeaderMap;
use ruma::{
    UInt,
    api::client::{
        authenticated_media::get_content_thumbnail as authed,
        media::get_content_thumbnail as legacy,
    },
    media::Method as RumaMethod,
};

use super::response::serve;
use crate::{ApiError, AppState, RouterExt, Ruma};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<authed::v1::Request, _, _>(thumbnail)
        .ruma::<legacy::v3::Request, _, _>(legacy_thumbnail)
}

async fn thumbnail(
    State(services): State<AppState>,
    headers: HeaderMap,
    req: Ruma<authed::v1::Request>,
) -> Result<Response, ApiError> {
    let thumb =
        request(req.width, req.height, req.method.as_ref(), req.animated, req.timeout_ms, false)?;
    let download = services.media.thumbnail(&req.server_name, &req.media_id, &thumb).await?;
    serve(download, None, &headers).await
}

async fn legacy_thumbnail(
    State(services): State<AppState>,
    headers: HeaderMap,
    req: Ruma<legacy::v3::Request>,
) -> Result<Response, ApiError> {
    let thumb =
        request(req.width, req.height, req.method.as_ref(), req.animated, req.timeout_ms, true)?;
    let download = services.media.thumbnail(&req.server_name, &req.media_id, &thumb).await?;
    serve(download, None, &headers).await
}

fn request(
    width: UInt,
    height: UInt,
    method: Option<&RumaMethod>,
    animated: Option<bool>,
    timeout: Duration,
    legacy: bool,
) -> Result<ThumbnailRequest, Error> {
    let side = |v: UInt, name: &str| {
        u32::try_from(u64::from(v))
            .map_err(|_| Error::invalid_param(format!("{name} is too large")))
    };
    // Synapse's default method is scale.
    let method = match method {
        None | Some(RumaMethod::Scale) => Method::Scale,
        Some(RumaMethod::Crop) => Method::Crop,
        Some(other) => {
            return Err(Error::invalid_param(format!("Unknown method {:?}", other.as_str())));
        }
    };
    Ok(ThumbnailRequest {
        width: side(width, "width")?,
        height: side(height, "height")?,
        method,
        animated: animated.unwrap_or(false),
        download: DownloadRequest { timeout, legacy },
    })
}
