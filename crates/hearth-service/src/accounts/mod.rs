//! Accounts: registration, login, sessions (spec: client-server-api, "Client Authentication"
//! and "Account registration and management").

mod session;

use std::sync::{Arc, Weak};

use hearth_core::{
    Error, Result,
    utils::{hash_token, now_millis, random_string, secret_token},
};
use hearth_storage::{NewSession, NewUser};
use ruma::{OwnedDeviceId, OwnedUserId, UserId};

pub use session::Session;

use crate::{Ctx, Services, password};

pub struct Service {
    ctx: Arc<Ctx>,
    #[allow(dead_code)]
    services: Weak<Services>,
}

/// Tokens handed to a client after registration or login.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    pub user_id: OwnedUserId,
    pub device_id: OwnedDeviceId,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in_ms: Option<u64>,
}

/// What a client asks for when it logs in or registers.
#[derive(Debug, Clone, Default)]
pub struct DeviceRequest {
    pub device_id: Option<OwnedDeviceId>,
    pub display_name: Option<String>,
    pub refresh_token: bool,
    pub ip: Option<String>,
}

impl Service {
    pub(crate) fn new(ctx: Arc<Ctx>, services: Weak<Services>) -> Self {
        Service { ctx, services }
    }

    /// The full user ID for a localpart on this server.
    pub fn user_id(&self, localpart: &str) -> Result<OwnedUserId> {
        UserId::parse_with_server_name(localpart.to_lowercase(), &self.ctx.config.server_name)
            .map_err(|e| Error::invalid_username(format!("invalid username: {e}")))
    }

    /// Create a local account. Fails with `M_USER_IN_USE` if the ID is taken.
    pub async fn create_user(
        &self,
        user_id: &UserId,
        password: Option<String>,
        is_admin: bool,
        is_guest: bool,
    ) -> Result<()> {
        let password_hash = match password {
            Some(p) => Some(password::hash(p).await?),
            None => None,
        };
        let user = NewUser { user_id: user_id.to_owned(), password_hash, is_admin, is_guest };
        if !self.ctx.storage.create_user(user).await? {
            return Err(Error::user_in_use());
        }
        Ok(())
    }

    /// Check a password login; the same error for an unknown user and a wrong password.
    pub async fn check_password(&self, user_id: &UserId, password: &str) -> Result<()> {
        let forbidden = || Error::forbidden("Invalid username or password");
        let user = self.ctx.storage.get_user(user_id).await?.ok_or_else(forbidden)?;
        if user.deactivated {
            return Err(forbidden());
        }
        let phc = user.password_hash.ok_or_else(forbidden)?;
        if !password::verify(password.to_owned(), phc).await? {
            return Err(forbidden());
        }
        Ok(())
    }

    /// Create (or reuse) a device for the user and issue its tokens.
    pub async fn issue_session(
        &self,
        user_id: &UserId,
        req: DeviceRequest,
    ) -> Result<IssuedTokens> {
        let device_id = req.device_id.unwrap_or_else(|| random_string(10).into());
        let access_token = secret_token();
        let (refresh_token, expires_in_ms) = if req.refresh_token {
            let lifetime = self.ctx.config.login.access_token_lifetime_secs * 1000;
            (Some(secret_token()), Some(lifetime))
        } else {
            (None, None)
        };
        self.ctx
            .storage
            .create_session(NewSession {
                user_id: user_id.to_owned(),
                device_id: device_id.clone(),
                display_name: req.display_name,
                access_token_hash: hash_token(&access_token),
                expires_ts: expires_in_ms.map(|ms| now_millis() + ms),
                refresh_token_hash: refresh_token.as_deref().map(hash_token),
                ip: req.ip,
            })
            .await?;
        Ok(IssuedTokens {
            user_id: user_id.to_owned(),
            device_id,
            access_token,
            refresh_token,
            expires_in_ms,
        })
    }

    /// Resolve an access token to its session: `M_UNKNOWN_TOKEN` if unknown, and with
    /// `soft_logout` if it expired (the client can refresh it).
    pub async fn authenticate(&self, token: &str) -> Result<Session> {
        let owner = self
            .ctx
            .storage
            .find_access_token(hash_token(token))
            .await?
            .ok_or_else(|| Error::unknown_token(false, "Unknown access token"))?;
        if owner.expires_ts.is_some_and(|t| t <= now_millis()) {
            return Err(Error::unknown_token(true, "Access token has expired"));
        }
        Ok(Session { user_id: owner.user_id, device_id: owner.device_id, is_guest: owner.is_guest })
    }
}
