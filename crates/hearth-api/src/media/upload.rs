//! Uploads: `POST /_matrix/media/v3/upload`, `POST /_matrix/media/v1/create` and
//! `PUT /_matrix/media/v3/upload/{serverName}/{mediaId}`.
//!
//! `Ruma<T>` buffers the whole body, so uploads use [`MediaUpload`]: ruma parses everything
//! but the body (path, `filename`, `Content-Type`), and the body streams to the blob store,
//! cut off with `M_TOO_LARGE` past the limit.

use axum::{
    Router,
    body::Body,
    extract::{FromRequest, FromRequestParts, RawPathParams, Request, State},
    routing::{MethodFilter, on},
};
use bytes::Bytes;
use futures_util::StreamExt;
use hearth_core::Error;
use hearth_service::{
    accounts::Session,
    media::{ByteStream, Upload},
};
use http::StatusCode;
use ruma::{
    MilliSecondsSinceUnixEpoch, UInt,
    api::{
        IncomingRequest,
        client::media::{create_content, create_content_async, create_mxc_uri},
        path_builder::PathBuilder,
    },
};

use crate::{
    ApiError, AppState, RouterExt, Ruma, RumaResponse,
    error::json_response,
    middleware::ClientIp,
    ruma_wrapper::{extract_access_token, request_error},
};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<create_mxc_uri::v1::Request, _, _>(create)
        .merge(upload_routes::<create_content::v3::Request, _, _>(upload))
        .merge(upload_routes::<create_content_async::v3::Request, _, _>(upload_to))
}

/// Like `RouterExt::ruma`, for handlers taking a [`MediaUpload`].
fn upload_routes<T, H, M>(handler: H) -> Router<AppState>
where
    T: IncomingRequest,
    H: axum::handler::Handler<M, AppState>,
    M: 'static,
{
    let filter = MethodFilter::try_from(T::METHOD).expect("standard method");
    let mut router = Router::new();
    for path in T::PATH_BUILDER.all_paths() {
        router = router.route(path, on(filter, handler.clone()));
    }
    router
}

/// An authenticated upload request: ruma's `T` without its body, and the body as a stream.
pub(super) struct MediaUpload<T> {
    pub request: T,
    pub session: Session,
    pub body: ByteStream,
}

impl<T> FromRequest<AppState> for MediaUpload<T>
where
    T: IncomingRequest + Send + 'static,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, services: &AppState) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let path_args: Vec<String> =
            match RawPathParams::from_request_parts(&mut parts, services).await {
                Ok(params) => params.iter().map(|(_, v)| v.to_owned()).collect(),
                Err(_) => Vec::new(),
            };
        let token = extract_access_token(&parts).ok_or_else(Error::missing_token)?;
        let client_ip = parts.extensions.get::<ClientIp>().map(|c| c.0).unwrap_or([0; 4].into());
        let user_agent = crate::ruma_wrapper::user_agent(&parts);
        let session = services.accounts.authenticate_client(&token, client_ip, user_agent).await?;
        let limit = services.media.max_upload_bytes();
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(too_large(limit).into());
        }
        let request =
            T::try_from_http_request(http::Request::from_parts(parts, Bytes::new()), &path_args)
                .map_err(request_error)?;
        Ok(MediaUpload { request, session, body: limited_stream(body, limit) })
    }
}

fn too_large(limit: u64) -> Error {
    Error::too_large(format!("Cannot upload files larger than {limit} bytes"))
}

/// The body as chunks, failing with `M_TOO_LARGE` as soon as it passes `limit` bytes.
fn limited_stream(body: Body, limit: u64) -> ByteStream {
    let mut seen = 0u64;
    Box::pin(body.into_data_stream().map(move |chunk| {
        let chunk = chunk.map_err(|e| {
            Error::unknown(StatusCode::BAD_REQUEST, format!("Cannot read the upload: {e}"))
        })?;
        seen += chunk.len() as u64;
        if seen > limit {
            return Err(too_large(limit));
        }
        Ok(chunk)
    }))
}

async fn upload(
    State(services): State<AppState>,
    req: MediaUpload<create_content::v3::Request>,
) -> Result<RumaResponse<create_content::v3::Response>, ApiError> {
    let upload = Upload {
        content_type: req.request.content_type,
        filename: req.request.filename,
        body: req.body,
    };
    let uri = services.media.upload(&req.session, upload).await?;
    Ok(create_content::v3::Response::new(uri).into())
}

async fn upload_to(
    State(services): State<AppState>,
    req: MediaUpload<create_content_async::v3::Request>,
) -> Result<axum::response::Response, ApiError> {
    let r = req.request;
    let upload = Upload { content_type: r.content_type, filename: r.filename, body: req.body };
    services.media.upload_to(&req.session, &r.server_name, &r.media_id, upload).await?;
    // ruma's response type is empty and cannot be built outside ruma: answer its `{}`.
    Ok(json_response(StatusCode::OK, b"{}".to_vec()))
}

async fn create(
    State(services): State<AppState>,
    req: Ruma<create_mxc_uri::v1::Request>,
) -> Result<RumaResponse<create_mxc_uri::v1::Response>, ApiError> {
    let (uri, expires_ts) = services.media.create_mxc(req.session()).await?;
    let mut response = create_mxc_uri::v1::Response::new(uri);
    response.unused_expires_at = UInt::new(expires_ts).map(MilliSecondsSinceUnixEpoch);
    Ok(response.into())
}
