//! Extractors for the few handlers that take no ruma request type (endpoints ruma lacks, or
//! reads more strictly than Synapse): the same rules as [`crate::Ruma`] for authentication,
//! body size, JSON well-formedness (`M_NOT_JSON`) and shape (`M_BAD_JSON`), query and path
//! parameters (`M_INVALID_PARAM`).

use std::net::IpAddr;

use axum::{
    extract::{FromRequest, FromRequestParts, Path, Query, Request},
    http::request::Parts,
};
use hearth_core::Error;
use hearth_service::accounts::Session;
use serde::de::DeserializeOwned;

use crate::{
    ApiError, AppState,
    middleware::ClientIp,
    ruma_wrapper::{check_json, extract_access_token, read_body, user_agent},
};

/// The caller, from a required access token.
pub struct Auth(pub Session);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, services: &AppState) -> Result<Self, ApiError> {
        let token = extract_access_token(parts).ok_or_else(Error::missing_token)?;
        let ip = client_ip(parts);
        let user_agent = user_agent(parts);
        Ok(Auth(services.accounts.authenticate_client(&token, ip, user_agent).await?))
    }
}

fn client_ip(parts: &Parts) -> IpAddr {
    parts.extensions.get::<ClientIp>().map(|c| c.0).unwrap_or([0; 4].into())
}

/// Query parameters; a malformed one is `M_INVALID_PARAM`.
pub struct QueryArgs<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for QueryArgs<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Query(args) = Query::<T>::from_request_parts(parts, state)
            .await
            .map_err(|e| Error::invalid_param(format!("Invalid query parameters: {e}")))?;
        Ok(QueryArgs(args))
    }
}

/// Path parameters (percent-decoded); a malformed one is `M_INVALID_PARAM`.
pub struct PathArgs<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for PathArgs<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Path(args) = Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(|e| Error::invalid_param(format!("Invalid path parameter: {e}")))?;
        Ok(PathArgs(args))
    }
}

/// A JSON body of type `T` (an empty body reads as `{}`).
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, services: &AppState) -> Result<Self, ApiError> {
        let limit = services.config().http.max_request_bytes;
        let bytes = read_body(req.into_body(), limit).await?;
        let bytes: &[u8] = if bytes.is_empty() { b"{}" } else { &bytes };
        check_json(bytes)?;
        let value = serde_json::from_slice(bytes)
            .map_err(|e| Error::bad_json(format!("Invalid request body: {e}")))?;
        Ok(JsonBody(value))
    }
}

/// `path` under the client API's `r0` and `v3` prefixes, for deprecated endpoints.
pub fn client_paths(path: &str) -> [String; 2] {
    ["r0", "v3"].map(|version| format!("/_matrix/client/{version}{path}"))
}
