//! Login, logout and token refresh (spec: client-server-api "Login", "Refreshing access
//! tokens", `POST /login/get_token`).

use std::{net::IpAddr, time::Duration};

use hearth_core::{
    Error, Result,
    utils::{hash_token, now_millis, secret_token},
};
use hearth_storage::Refresh;
use ruma::{
    OwnedUserId,
    api::client::{
        session::{
            get_login_token,
            get_login_types::v3::{LoginType, PasswordLoginType, TokenLoginType},
            login::{
                self,
                v3::{LoginInfo, Password},
            },
            refresh_token,
        },
        uiaa::AuthData,
    },
};

use super::{DeviceRequest, Service, Session};

/// How long a token from `/login/get_token` stays usable (Synapse uses the same).
const LOGIN_TOKEN_LIFETIME: Duration = Duration::from_secs(120);

impl Service {
    /// `GET /login`: password login, and token login with `/login/get_token`.
    pub fn login_types(&self) -> Vec<LoginType> {
        let mut token = TokenLoginType::new();
        token.get_login_token = true;
        vec![LoginType::Password(PasswordLoginType::new()), LoginType::Token(token)]
    }

    pub async fn login(&self, req: login::v3::Request, ip: IpAddr) -> Result<login::v3::Response> {
        self.login_per_ip.check(&ip)?;
        let user_id = match &req.login_info {
            LoginInfo::Password(p) => self.password_login(p).await?,
            LoginInfo::Token(t) => self.token_login(&t.token).await?,
            other => {
                return Err(Error::unknown(
                    http::StatusCode::BAD_REQUEST,
                    format!("Unsupported login type {}", other.login_type()),
                ));
            }
        };
        let device = DeviceRequest {
            device_id: req.device_id,
            display_name: req.initial_device_display_name,
            refresh_token: req.refresh_token,
            ip: Some(ip),
        };
        let tokens = self.issue_session(&user_id, device).await?;
        tracing::debug!(%user_id, device_id = %tokens.device_id, "logged in");
        let mut response =
            login::v3::Response::new(tokens.user_id, tokens.access_token, tokens.device_id);
        response.refresh_token = tokens.refresh_token;
        response.expires_in = tokens.expires_in_ms.map(Duration::from_millis);
        Ok(response)
    }

    async fn password_login(&self, p: &Password) -> Result<OwnedUserId> {
        #[allow(deprecated)] // `user` is the pre-r0.4 way to name the user; clients still send it.
        let user_id = match (&p.identifier, &p.user) {
            (Some(identifier), _) => self.user_id_from_identifier(identifier)?,
            (None, Some(user)) => self.user_id_from_login_name(user)?,
            (None, None) => return Err(Error::missing_param("Missing identifier")),
        };
        self.login_per_account.check(&user_id)?;
        self.check_password(&user_id, &p.password).await?;
        Ok(user_id)
    }

    async fn token_login(&self, token: &str) -> Result<OwnedUserId> {
        let user_id = self.ctx.storage.take_login_token(hash_token(token), now_millis()).await?;
        let user_id = user_id.ok_or_else(|| Error::forbidden("Invalid or expired login token"))?;
        let user = self.ctx.storage.get_user(&user_id).await?;
        if user.is_none_or(|u| u.deactivated) {
            return Err(Error::user_deactivated());
        }
        Ok(user_id)
    }

    /// `POST /login/get_token` (spec v1.7): a short-lived token to log in another client,
    /// after user-interactive auth.
    pub async fn get_login_token(
        &self,
        session: &Session,
        auth: Option<&AuthData>,
    ) -> Result<get_login_token::v1::Response> {
        session.forbid_guest()?;
        let services = self.services()?;
        services.uiaa.check_user(&session.user_id, auth, "login/get_token").await?;
        let token = secret_token();
        let expires_ts = now_millis() + LOGIN_TOKEN_LIFETIME.as_millis() as u64;
        self.ctx
            .storage
            .create_login_token(hash_token(&token), &session.user_id, expires_ts)
            .await?;
        Ok(get_login_token::v1::Response::new(LOGIN_TOKEN_LIFETIME, token))
    }

    /// `POST /logout`: the token goes, and its device with it (spec).
    pub async fn logout(&self, session: &Session) -> Result<()> {
        self.remove_devices(&session.user_id, vec![session.device_id.clone()]).await
    }

    /// `POST /logout/all`: every token and device of the user.
    pub async fn logout_all(&self, session: &Session) -> Result<()> {
        let deleted = self.ctx.storage.delete_all_devices(&session.user_id).await?;
        self.devices_removed(&session.user_id, &deleted).await
    }

    /// `POST /refresh`: new tokens for the refresh token's device. The old refresh token stays
    /// valid until the new tokens are used (spec: "Refreshing access tokens").
    pub async fn refresh(&self, refresh_token: &str) -> Result<refresh_token::v3::Response> {
        let access_token = secret_token();
        let new_refresh = secret_token();
        let lifetime = self.ctx.config.login.access_token_lifetime_secs * 1000;
        let refreshed = self
            .ctx
            .storage
            .refresh_session(Refresh {
                old_refresh_hash: hash_token(refresh_token),
                access_token_hash: hash_token(&access_token),
                refresh_token_hash: hash_token(&new_refresh),
                expires_ts: Some(now_millis() + lifetime),
            })
            .await?;
        if refreshed.is_none() {
            return Err(Error::unknown_token(false, "Unknown or already used refresh token"));
        }
        let mut response = refresh_token::v3::Response::new(access_token);
        response.refresh_token = Some(new_refresh);
        response.expires_in_ms = Some(Duration::from_millis(lifetime));
        Ok(response)
    }
}
