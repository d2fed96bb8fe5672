//! Downloads: authenticated (`/_matrix/client/v1/media/download/...`) and the deprecated
//! unauthenticated ones (`/_matrix/media/v3/download/...`), each with an optional file name.

#![allow(deprecated)] // The legacy endpoints are deprecated in the spec, and still served.

use axum::{Router, extract::State, response::Response};
use hearth_service::media::DownloadRequest;
use http::HeaderMap;
use ruma::api::client::{authenticated_media, media};

use super::response::serve;
use crate::{ApiError, AppState, RouterExt, Ruma};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<authenticated_media::get_content::v1::Request, _, _>(download)
        .ruma::<authenticated_media::get_content_as_filename::v1::Request, _, _>(download_named)
        .ruma::<media::get_content::v3::Request, _, _>(legacy_download)
        .ruma::<media::get_content_as_filename::v3::Request, _, _>(legacy_download_named)
}

async fn download(
    State(services): State<AppState>,
    headers: HeaderMap,
    req: Ruma<authenticated_media::get_content::v1::Request>,
) -> Result<Response, ApiError> {
    let opts = DownloadRequest { timeout: req.timeout_ms, legacy: false };
    let download = services.media.download(&req.server_name, &req.media_id, &opts).await?;
    serve(download, None, &headers).await
}

async fn download_named(
    State(services): State<AppState>,
    headers: HeaderMap,
    req: Ruma<authenticated_media::get_content_as_filename::v1::Request>,
) -> Result<Response, ApiError> {
    let opts = DownloadRequest { timeout: req.timeout_ms, legacy: false };
    let download = services.media.download(&req.server_name, &req.media_id, &opts).await?;
    serve(download, Some(req.filename.clone()), &headers).await
}

async fn legacy_download(
    State(services): State<AppState>,
    headers: HeaderMap,
    req: Ruma<media::get_content::v3::Request>,
) -> Result<Response, ApiError> {
    let opts = DownloadRequest { timeout: req.timeout_ms, legacy: true };
    let download = services.media.download(&req.server_name, &req.media_id, &opts).await?;
    serve(download, None, &headers).await
}

async fn legacy_download_named(
    State(services): State<AppState>,
    headers: HeaderMap,
    req: Ruma<media::get_content_as_filename::v3::Request>,
) -> Result<Response, ApiError> {
    let opts = DownloadRequest { timeout: req.timeout_ms, legacy: true };
    let download = services.media.download(&req.server_name, &req.media_id, &opts).await?;
    serve(download, Some(req.filename.clone()), &headers).await
}
