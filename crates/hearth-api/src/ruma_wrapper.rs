//! `Ruma<T>`: the extractor that turns an HTTP request into ruma request type `T`, enforcing
//! the body limit, JSON well-formedness and authentication on the way; and `RumaResponse<T>`,
//! which renders a ruma response type.

use std::{any::TypeId, net::IpAddr};

use axum::{
    body::Body,
    extract::{FromRequest, FromRequestParts, RawPathParams, Request},
    response::{IntoResponse, Response},
};
use bytes::{Bytes, BytesMut};
use hearth_core::Error;
use hearth_service::accounts::Session;
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Limited};
use ruma::api::{
    IncomingRequest, OutgoingResponse,
    auth_scheme::{AccessToken, AccessTokenOptional, AppserviceToken, AppserviceTokenOptional},
    error::{DeserializationError, FromHttpRequestError},
};

use crate::{ApiError, AppState, middleware::ClientIp};

/// A parsed, authenticated request of ruma type `T`.
pub struct Ruma<T> {
    pub body: T,
    /// The caller, for endpoints that take an access token (always set when it is required).
    pub session: Option<Session>,
    pub client_ip: IpAddr,
    /// The access token as sent, for endpoints that act on the token itself (logout).
    pub access_token: Option<String>,
    /// The request body as sent, for fields ruma's type does not keep.
    pub raw_body: Bytes,
}

impl<T> Ruma<T> {
    /// The caller of an endpoint that requires authentication.
    pub fn session(&self) -> &Session {
        self.session.as_ref().expect("Ruma<T> sets the session on authenticated endpoints")
    }
}

impl<T> std::ops::Deref for Ruma<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.body
    }
}

enum AuthNeed {
    None,
    Optional,
    Required,
}

fn auth_need<T: IncomingRequest>() -> AuthNeed
where
    T::Authentication: 'static,
{
    let id = TypeId::of::<T::Authentication>();
    if id == TypeId::of::<AccessToken>() || id == TypeId::of::<AppserviceToken>() {
        AuthNeed::Required
    } else if id == TypeId::of::<AccessTokenOptional>()
        || id == TypeId::of::<AppserviceTokenOptional>()
    {
        AuthNeed::Optional
    } else {
        AuthNeed::None
    }
}

impl<T> FromRequest<AppState> for Ruma<T>
where
    T: IncomingRequest + Send + 'static,
    T::Authentication: 'static,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, services: &AppState) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let path_args: Vec<String> =
            match RawPathParams::from_request_parts(&mut parts, services).await {
                Ok(params) => params.iter().map(|(_, v)| v.to_owned()).collect(),
                Err(_) => Vec::new(),
            };
        let client_ip = parts.extensions.get::<ClientIp>().map(|c| c.0).unwrap_or([0; 4].into());
        let access_token = extract_access_token(&parts);

        let bytes = read_body(body, services.config().http.max_request_bytes).await?;
        if parts.method != Method::GET && !bytes.is_empty() {
            check_json(&bytes)?;
        }

        let session = match (auth_need::<T>(), &access_token) {
            (AuthNeed::None, _) | (AuthNeed::Optional, None) => None,
            (AuthNeed::Required, None) => return Err(Error::missing_token().into()),
            (_, Some(token)) => Some(
                services.accounts.authenticate_client(token, client_ip, user_agent(&parts)).await?,
            ),
        };

        let http_req = http::Request::from_parts(parts, bytes.clone());
        let body = T::try_from_http_request(http_req, &path_args).map_err(request_error)?;
        Ok(Ruma { body, session, client_ip, access_token, raw_body: bytes })
    }
}

/// The `User-Agent` header, if readable (devices remember it for `/admin/whois`).
pub(crate) fn user_agent(parts: &http::request::Parts) -> Option<&str> {
    parts.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok())
}

/// `Authorization: Bearer <token>`, or the deprecated `access_token` query parameter.
pub(crate) fn extract_access_token(parts: &http::request::Parts) -> Option<String> {
    if let Some(value) = parts.headers.get(http::header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        return value.strip_prefix("Bearer ").map(|t| t.trim().to_owned());
    }
    let query = parts.uri.query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.into_owned())
}

/// Read the whole body, refusing more than `limit` bytes with `M_TOO_LARGE`.
pub(crate) async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(Error::too_large(format!("Request body is larger than {limit} bytes")).into())
        }
        Err(e) => {
            Err(Error::unknown(StatusCode::BAD_REQUEST, format!("Cannot read body: {e}")).into())
        }
    }
}

pub(crate) fn check_json(bytes: &[u8]) -> Result<(), ApiError> {
    // JSON is UTF-8 (RFC 8259); skipping a string does not check its bytes, so check first.
    std::str::from_utf8(bytes).map_err(|e| Error::not_json(format!("Content not UTF-8: {e}")))?;
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map(|_| ())
        .map_err(|e| Error::not_json(format!("Content not JSON: {e}")).into())
}

pub(crate) fn request_error(e: FromHttpRequestError) -> ApiError {
    let err = match e {
        FromHttpRequestError::Deserialization(DeserializationError::Json(e)) => {
            Error::bad_json(format!("Invalid request body: {e}"))
        }
        FromHttpRequestError::Deserialization(DeserializationError::Query(e)) => {
            Error::invalid_param(format!("Invalid query parameters: {e}"))
        }
        FromHttpRequestError::Deserialization(DeserializationError::Ident(e)) => {
            Error::invalid_param(format!("Invalid identifier: {e}"))
        }
        FromHttpRequestError::Deserialization(e) => {
            Error::bad_json(format!("Invalid request: {e}"))
        }
        FromHttpRequestError::MethodMismatch { .. } => {
            Error::unrecognized(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
        }
        _ => Error::bad_json("Invalid request"),
    };
    ApiError(err)
}

/// A ruma response, rendered as the spec's HTTP response.
pub struct RumaResponse<T>(pub T);

impl<T: OutgoingResponse> IntoResponse for RumaResponse<T> {
    fn into_response(self) -> Response {
        match self.0.try_into_http_response::<BytesMut>() {
            Ok(res) => res.map(|b| Body::from(b.freeze())).into_response(),
            Err(e) => {
                ApiError(Error::internal(format!("cannot render response: {e}"))).into_response()
            }
        }
    }
}

impl<T> From<T> for RumaResponse<T> {
    fn from(t: T) -> Self {
        RumaResponse(t)
    }
}
