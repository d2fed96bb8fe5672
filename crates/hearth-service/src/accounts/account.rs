//! Account management (spec: client-server-api "Password management", "Account
//! deactivation", "Adding Account Administrative Contact Information").

use hearth_core::{Error, Result};
use hearth_storage::SessionsOnPasswordChange;
use http::StatusCode;
use ruma::{UserId, api::client::uiaa::AuthData};

use super::{Service, Session};
use crate::password;

impl Service {
    /// `POST /account/password`. Without an access token the user would have to prove a 3PID,
    /// which Hearth does not support. With `logout_devices`, every other device and its tokens
    /// go (spec).
    pub async fn change_password(
        &self,
        session: Option<&Session>,
        new_password: String,
        logout_devices: bool,
        auth: Option<&AuthData>,
    ) -> Result<()> {
        let session = session.ok_or_else(Error::missing_token)?;
        session.forbid_guest()?;
        self.check_password_strength(&new_password)?;
        let services = self.services()?;
        services.uiaa.check_user(&session.user_id, auth, "account/password").await?;
        let hash = password::hash(new_password).await?;
        let sessions = if logout_devices {
            SessionsOnPasswordChange::DeleteDevices { keep: Some(session.device_id.clone()) }
        } else {
            SessionsOnPasswordChange::Keep
        };
        let deleted = self.ctx.storage.set_password(&session.user_id, Some(hash), sessions).await?;
        self.devices_removed(&session.user_id, &deleted).await
    }

    /// `POST /account/deactivate`: after user-interactive auth, the account can no longer log
    /// in; its devices, tokens and profile go. With `erase`, users who were not in a room when
    /// the account sent an event there see it redacted from now on (spec: "Account
    /// deactivation"; Synapse's rule).
    pub async fn deactivate(
        &self,
        session: Option<&Session>,
        auth: Option<&AuthData>,
        erase: bool,
    ) -> Result<()> {
        let session = session.ok_or_else(Error::missing_token)?;
        session.forbid_guest()?;
        let services = self.services()?;
        services.uiaa.check_user(&session.user_id, auth, "account/deactivate").await?;
        let deleted = self.ctx.storage.deactivate_user(&session.user_id, erase).await?;
        tracing::info!(user_id = %session.user_id, erase, "deactivated");
        self.devices_removed(&session.user_id, &deleted).await?;
        super::hooks::user_deactivated(&services, &session.user_id).await
    }

    /// Admin tooling (`hearth user reset-password`, which may run while the server does): set
    /// the password and revoke every token of the user. Devices stay, so no other area has to
    /// hear of it; their owners log in again with the new password.
    pub async fn reset_password(&self, user_id: &UserId, new_password: String) -> Result<()> {
        self.check_password_strength(&new_password)?;
        let hash = password::hash(new_password).await?;
        let sessions = SessionsOnPasswordChange::RevokeTokens;
        self.ctx.storage.set_password(user_id, Some(hash), sessions).await?;
        Ok(())
    }
}

/// Third-party identifiers (email, phone) are not supported: `GET /account/3pid` lists none
/// and the endpoints that would add one answer with the spec's errors. The capability
/// `m.3pid_changes` is false.
pub mod threepid {
    use super::*;

    /// `/account/3pid/{email,msisdn}/requestToken`.
    pub fn request_token_for_account() -> Error {
        Error::custom(
            StatusCode::BAD_REQUEST,
            "M_THREEPID_MEDIUM_NOT_SUPPORTED",
            "This server does not support third-party identifiers",
        )
    }

    /// `/register/.../requestToken` and `/account/password/.../requestToken`.
    pub fn request_token_denied() -> Error {
        Error::custom(
            StatusCode::FORBIDDEN,
            "M_THREEPID_DENIED",
            "This server does not support third-party identifiers",
        )
    }

    /// `/account/3pid/add` and the deprecated `POST /account/3pid`: no validation session can
    /// exist.
    pub fn add() -> Error {
        Error::custom(
            StatusCode::BAD_REQUEST,
            "M_THREEPID_AUTH_FAILED",
            "No such validation session: this server does not support third-party identifiers",
        )
    }

    /// `/account/3pid/bind`: Hearth trusts no identity server.
    pub fn bind() -> Error {
        Error::custom(
            StatusCode::BAD_REQUEST,
            "M_SERVER_NOT_TRUSTED",
            "This server does not use identity servers",
        )
    }

    /// `/account/3pid/delete`: no account has one.
    pub fn delete() -> Error {
        Error::custom(
            StatusCode::BAD_REQUEST,
            "M_THREEPID_NOT_FOUND",
            "This account has no third-party identifiers",
        )
    }
}
