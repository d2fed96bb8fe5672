//! The one error type. Every failure a client can see is a Matrix error: an `errcode`, a
//! message a person can read, and an HTTP status (spec: client-server-api, "Standard error
//! response"). Anything else is a bug or an infrastructure failure and becomes
//! 500 `M_UNKNOWN`, logged with its cause but never shown to the client.

use std::{fmt, time::Duration};

use http::StatusCode;
use ruma::api::{
    client::uiaa::UiaaInfo,
    error::{
        ErrorKind, LimitExceededErrorData, UnknownTokenErrorData, WrongRoomKeysVersionErrorData,
    },
};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug)]
pub enum Error {
    /// A Matrix error: `{"errcode": .., "error": ..}` with the given status.
    Matrix { status: StatusCode, kind: ErrorKind, message: String },
    /// User-interactive authentication is needed or has failed: 401 with the UIA state.
    Uiaa(Box<UiaaInfo>),
    /// A bug or an infrastructure failure. Logged, answered as 500 `M_UNKNOWN`.
    Internal(String),
}

impl Error {
    pub fn new(status: StatusCode, kind: ErrorKind, message: impl Into<String>) -> Self {
        Error::Matrix { status, kind, message: message.into() }
    }

    pub fn internal(cause: impl fmt::Display) -> Self {
        Error::Internal(cause.to_string())
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorKind::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorKind::NotFound, message)
    }

    pub fn bad_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorKind::BadJson, message)
    }

    pub fn not_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorKind::NotJson, message)
    }

    pub fn invalid_param(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorKind::InvalidParam, message)
    }

    pub fn missing_param(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorKind::MissingParam, message)
    }

    pub fn missing_token() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorKind::MissingToken, "Missing access token")
    }

    /// `soft_logout` tells the client it may refresh or log in again without losing its
    /// encryption state (spec: "Soft logout").
    pub fn unknown_token(soft_logout: bool, message: impl Into<String>) -> Self {
        let mut data = UnknownTokenErrorData::new();
        data.soft_logout = soft_logout;
        Self::new(StatusCode::UNAUTHORIZED, ErrorKind::UnknownToken(data), message)
    }

    pub fn limit_exceeded(retry_after: Duration) -> Self {
        let mut data = LimitExceededErrorData::new();
        data.retry_after = Some(ruma::api::error::RetryAfter::Delay(retry_after));
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::LimitExceeded(data),
            "Too many requests",
        )
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorKind::TooLarge, message)
    }

    pub fn unrecognized(status: StatusCode, message: impl Into<String>) -> Self {
        Self::new(status, ErrorKind::Unrecognized, message)
    }

    pub fn user_in_use() -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorKind::UserInUse, "User ID already taken")
    }

    pub fn invalid_username(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorKind::InvalidUsername, message)
    }

    pub fn exclusive(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorKind::Exclusive, message)
    }

    pub fn weak_password(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorKind::WeakPassword, message)
    }

    pub fn user_deactivated() -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorKind::UserDeactivated, "This account is deactivated")
    }

    /// An error code ruma does not know (newer spec versions), e.g. `M_PROFILE_TOO_LARGE`.
    pub fn custom(status: StatusCode, errcode: &str, message: impl Into<String>) -> Self {
        // ruma builds its catch-all kind only by deserializing.
        let kind = serde_json::from_value(serde_json::json!({ "errcode": errcode }))
            .unwrap_or(ErrorKind::Unknown);
        Self::new(status, kind, message)
    }

    pub fn unknown(status: StatusCode, message: impl Into<String>) -> Self {
        Self::new(status, ErrorKind::Unknown, message)
    }

    /// `M_INVALID_SIGNATURE` (spec: cross-signing uploads). ruma has no variant for it, so it is
    /// built as a custom errcode.
    pub fn invalid_signature(message: impl Into<String>) -> Self {
        let kind = serde_json::from_value(serde_json::json!({"errcode": "M_INVALID_SIGNATURE"}))
            .expect("a custom errcode deserializes");
        Self::new(StatusCode::BAD_REQUEST, kind, message)
    }

    /// 403 `M_WRONG_ROOM_KEYS_VERSION` naming the current backup version (spec: key backup).
    pub fn wrong_room_keys_version(current_version: impl Into<String>) -> Self {
        let data = WrongRoomKeysVersionErrorData::new(current_version.into());
        Self::new(
            StatusCode::FORBIDDEN,
            ErrorKind::WrongRoomKeysVersion(data),
            "Wrong backup version",
        )
    }

    /// The errcode string, for logs and tests.
    pub fn errcode(&self) -> String {
        match self {
            Error::Matrix { kind, .. } => kind.errcode().to_string(),
            Error::Uiaa(_) => "M_FORBIDDEN".to_owned(),
            Error::Internal(_) => "M_UNKNOWN".to_owned(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::Matrix { status, .. } => *status,
            Error::Uiaa(_) => StatusCode::UNAUTHORIZED,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Matrix { status, kind, message } => {
                write!(f, "[{} {}] {message}", status.as_u16(), kind.errcode())
            }
            Error::Uiaa(_) => write!(f, "user-interactive authentication required"),
            Error::Internal(cause) => write!(f, "internal error: {cause}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::internal(format!("json: {e}"))
    }
}

impl From<ruma::IdParseError> for Error {
    fn from(e: ruma::IdParseError) -> Self {
        Error::invalid_param(format!("invalid identifier: {e}"))
    }
}

#[cfg(feature = "sqlite")]
impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::internal(format!("sqlite: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_and_data_carrying_errcodes() {
        assert_eq!(Error::invalid_signature("bad").errcode(), "M_INVALID_SIGNATURE");
        let err = Error::wrong_room_keys_version("3");
        assert_eq!(err.errcode(), "M_WRONG_ROOM_KEYS_VERSION");
        assert_eq!(err.status(), StatusCode::FORBIDDEN);
    }
}
