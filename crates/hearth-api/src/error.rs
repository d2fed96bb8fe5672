//! Rendering of [`hearth_core::Error`] as the spec's JSON error response.

use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use hearth_core::Error;
use http::StatusCode;
use ruma::api::{
    OutgoingResponse,
    error::{ErrorBody, ErrorKind, StandardErrorBody},
};

/// The error every handler returns; wraps the one error type so it can be an axum response.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self.0 {
            Error::Matrix { status, kind, message } => matrix_error(status, kind, message),
            Error::Uiaa(info) => {
                // `completed` is always listed, empty or not (Synapse; ruma leaves it out
                // when empty and SyTest expects it).
                let mut body = serde_json::to_value(&*info).unwrap_or_default();
                if let Some(obj) = body.as_object_mut() {
                    obj.entry("completed").or_insert_with(|| serde_json::json!([]));
                }
                let body = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
                json_response(StatusCode::UNAUTHORIZED, body)
            }
            Error::Internal(cause) => {
                tracing::error!("internal error: {cause}");
                matrix_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorKind::Unknown,
                    "Internal server error".to_owned(),
                )
            }
        }
    }
}

fn matrix_error(status: StatusCode, kind: ErrorKind, message: String) -> Response {
    let error = ruma::api::error::Error::new(
        status,
        ErrorBody::Standard(StandardErrorBody::new(kind, message)),
    );
    // ruma renders `retry_after_ms`, `soft_logout` and the `Retry-After` header for us.
    match error.try_into_http_response::<BytesMut>() {
        Ok(response) => response.map(|b| axum::body::Body::from(b.freeze())).into_response(),
        Err(e) => {
            tracing::error!("cannot render error response: {e}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(http::header::CONTENT_TYPE, "application/json")], body).into_response()
}
