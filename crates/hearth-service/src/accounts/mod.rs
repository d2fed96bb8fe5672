//! Accounts: registration, login, sessions, devices and account management (spec:
//! client-server-api "Client Authentication", "Account registration and management", "Device
//! management").

mod account;
mod admin;
mod devices;
mod hooks;
mod login;
mod openid;
mod register;
mod session;
mod username;

use std::{
    net::IpAddr,
    sync::{Arc, Weak},
};

use hearth_core::{
    Error, Result,
    utils::{constant_time_eq, hash_token, now_millis, random_string, secret_token},
};
use hearth_storage::{NewSession, NewUser};
use ruma::{OwnedDeviceId, OwnedUserId, UserId, api::client::uiaa::UserIdentifier};

pub use self::{
    account::threepid,
    openid::OPENID_TOKEN_LIFETIME,
    session::Session,
    username::{ExclusiveNamespaces, user_id_for_username},
};
use crate::{Ctx, Services, password, ratelimit::RateLimiter};

pub struct Service {
    ctx: Arc<Ctx>,
    services: Weak<Services>,
    exclusive: ExclusiveNamespaces,
    login_per_ip: RateLimiter<IpAddr>,
    login_per_account: RateLimiter<OwnedUserId>,
    registration_per_ip: RateLimiter<IpAddr>,
    last_seen: devices::LastSeenTracker,
    openid: openid::OpenIdTokens,
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
    pub ip: Option<IpAddr>,
}

impl Service {
    pub(crate) fn new(ctx: Arc<Ctx>, services: Weak<Services>) -> Self {
        let limits = &ctx.config.rate_limits;
        Service {
            exclusive: ExclusiveNamespaces::default(),
            login_per_ip: RateLimiter::new(limits.login_per_ip, limits.enabled),
            login_per_account: RateLimiter::new(limits.login_per_account, limits.enabled),
            registration_per_ip: RateLimiter::new(limits.registration_per_ip, limits.enabled),
            last_seen: devices::LastSeenTracker::default(),
            openid: openid::OpenIdTokens::default(),
            ctx,
            services,
        }
    }

    fn services(&self) -> Result<Arc<Services>> {
        crate::upgrade(&self.services)
    }

    /// The user ID for a new local account named `username` (`M_INVALID_USERNAME`,
    /// `M_EXCLUSIVE`).
    pub fn new_user_id(&self, username: &str) -> Result<OwnedUserId> {
        let user_id = user_id_for_username(username, &self.ctx.config.server_name)?;
        self.exclusive.check(&user_id)?;
        Ok(user_id)
    }

    /// The user a login identifier names: a localpart or a full user ID, its localpart
    /// compared case-insensitively (all local accounts are lowercase). Third-party
    /// identifiers are not supported: the spec says an unknown 3PID is a 403.
    pub fn user_id_from_identifier(&self, identifier: &UserIdentifier) -> Result<OwnedUserId> {
        match identifier {
            UserIdentifier::Matrix(id) => self.user_id_from_login_name(&id.user),
            _ => Err(Error::forbidden("Third-party identifiers are not supported")),
        }
    }

    fn user_id_from_login_name(&self, name: &str) -> Result<OwnedUserId> {
        let invalid = || Error::forbidden("Invalid username or password");
        let (localpart, server) = match name.strip_prefix('@') {
            Some(rest) => rest.split_once(':').ok_or_else(invalid)?,
            None => (name, self.ctx.config.server_name.as_str()),
        };
        let id = format!("@{}:{server}", localpart.to_lowercase());
        UserId::parse(id).map_err(|_| invalid())
    }

    /// Create a local account, its display name its localpart (as Synapse does). Fails with
    /// `M_USER_IN_USE` if the ID is taken, `M_FORBIDDEN` if `registration_token` can no longer
    /// be spent.
    pub async fn create_user(
        &self,
        user_id: &UserId,
        password: Option<String>,
        is_admin: bool,
        is_guest: bool,
        registration_token: Option<String>,
    ) -> Result<()> {
        let password_hash = match password {
            Some(p) => Some(password::hash(p).await?),
            None => None,
        };
        let user = NewUser {
            user_id: user_id.to_owned(),
            password_hash,
            is_admin,
            is_guest,
            displayname: Some(user_id.localpart().to_owned()),
            registration_token,
        };
        if !self.ctx.storage.create_user(user).await? {
            return Err(Error::user_in_use());
        }
        Ok(())
    }

    /// Check a password login; the same error for an unknown user and a wrong password.
    /// A deactivated account answers `M_USER_DEACTIVATED`, as Synapse does.
    pub async fn check_password(&self, user_id: &UserId, password: &str) -> Result<()> {
        let forbidden = || Error::forbidden("Invalid username or password");
        let user = self.ctx.storage.get_user(user_id).await?.ok_or_else(forbidden)?;
        if user.deactivated {
            return Err(Error::user_deactivated());
        }
        let phc = user.password_hash.ok_or_else(forbidden)?;
        if !password::verify(password.to_owned(), phc).await? {
            return Err(forbidden());
        }
        Ok(())
    }

    /// `M_WEAK_PASSWORD` for a password shorter than `login.password_min_length`.
    pub fn check_password_strength(&self, password: &str) -> Result<()> {
        let min = self.ctx.config.login.password_min_length;
        if password.chars().count() < min {
            return Err(Error::weak_password(format!(
                "The password must be at least {min} characters long"
            )));
        }
        Ok(())
    }

    /// Create (or reuse) a device for the user and issue its tokens.
    pub async fn issue_session(
        &self,
        user_id: &UserId,
        req: DeviceRequest,
    ) -> Result<IssuedTokens> {
        if let Some(chosen) = &req.device_id {
            self.services()?.e2ee.check_device_id_free(user_id, chosen).await?;
        }
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
                ip: req.ip.map(|ip| ip.to_string()),
            })
            .await?;
        hooks::device_created(&*self.services()?, user_id, &device_id).await?;
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
    pub async fn authenticate(&self, token: &str, ip: IpAddr) -> Result<Session> {
        self.authenticate_client(token, ip, None).await
    }

    /// [`Self::authenticate`], remembering the client's `User-Agent` for the device
    /// (`/admin/whois`); `None` keeps the one seen before.
    pub async fn authenticate_client(
        &self,
        token: &str,
        ip: IpAddr,
        user_agent: Option<&str>,
    ) -> Result<Session> {
        let unknown = || Error::unknown_token(false, "Unknown access token");
        let hash = hash_token(token);
        let owner = self.ctx.storage.find_access_token(hash).await?.ok_or_else(unknown)?;
        if !constant_time_eq(&owner.token_hash, &hash) {
            return Err(unknown());
        }
        if owner.expires_ts.is_some_and(|t| t <= now_millis()) {
            return Err(Error::unknown_token(true, "Access token has expired"));
        }
        if owner.retires_refresh {
            // The client has its new tokens: the refresh token it spent can go.
            self.ctx.storage.retire_spent_refresh_token(hash).await?;
        }
        self.last_seen.seen(&self.ctx, &owner.user_id, &owner.device_id, ip, user_agent);
        Ok(Session { user_id: owner.user_id, device_id: owner.device_id, is_guest: owner.is_guest })
    }
}
