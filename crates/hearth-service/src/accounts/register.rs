//! Registration (spec: client-server-api `POST /register`, `/register/available`,
//! "Token-authenticated registration").

use std::{net::IpAddr, time::Duration};

use hearth_core::{
    Error, Result,
    utils::{now_millis, random_string},
};
use hearth_storage::RegistrationTokenRecord;
use ruma::{
    OwnedDeviceId, OwnedUserId, UserId,
    api::client::{
        account::register::{self, RegistrationKind},
        uiaa::{AuthData, AuthFlow, AuthType},
    },
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{DeviceRequest, Service, user_id_for_username};
use crate::uiaa::UiaaRequest;

/// Attempts at a free random guest ID before giving up.
const GUEST_ID_ATTEMPTS: usize = 5;
/// The UIA operation of registration.
const REGISTER: &str = "register";

/// What a registration request asks for, kept with its UIA session.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Params {
    username: Option<String>,
    password: Option<String>,
    device_id: Option<OwnedDeviceId>,
    initial_device_display_name: Option<String>,
    inhibit_login: bool,
    refresh_token: bool,
}

impl Params {
    fn of(req: &register::v3::Request) -> Params {
        Params {
            username: req.username.clone(),
            password: req.password.clone(),
            device_id: req.device_id.clone(),
            initial_device_display_name: req.initial_device_display_name.clone(),
            inhibit_login: req.inhibit_login,
            refresh_token: req.refresh_token,
        }
    }

    fn is_empty(&self) -> bool {
        self.username.is_none()
            && self.password.is_none()
            && self.device_id.is_none()
            && self.initial_device_display_name.is_none()
            && !self.inhibit_login
            && !self.refresh_token
    }
}

impl Service {
    /// The UIA flows registration offers: a token when token-gated, a dummy stage when open;
    /// `M_FORBIDDEN` when registration is closed.
    fn registration_flows(&self) -> Result<Vec<AuthFlow>> {
        let config = &self.ctx.config;
        if config.registration.require_token {
            Ok(vec![AuthFlow::new(vec![AuthType::RegistrationToken])])
        } else if config.registration_open() {
            Ok(vec![AuthFlow::new(vec![AuthType::Dummy])])
        } else {
            Err(Error::forbidden("Registration is disabled"))
        }
    }

    pub async fn register(
        &self,
        req: register::v3::Request,
        ip: IpAddr,
    ) -> Result<register::v3::Response> {
        self.registration_per_ip.peek(&ip)?;
        if req.kind == RegistrationKind::Guest {
            return self.register_guest(req.initial_device_display_name, ip).await;
        }
        let flows = self.registration_flows()?;
        let uiaa = &self.services()?.uiaa;
        let session = req.auth.as_ref().and_then(AuthData::session);
        if let Some(done) = session.and_then(|s| uiaa.outcome(s, REGISTER)) {
            return self.repeat_registration(&req, done, ip).await;
        }
        let guest = match &req.guest_access_token {
            Some(token) => Some(self.upgradable_guest(token, req.username.as_deref()).await?),
            None => None,
        };
        // Check what can be checked before UIA, so the user is not sent through it in vain.
        if let (Some(username), None) = (&req.username, &guest) {
            self.check_available(username).await?;
        }
        if let Some(password) = &req.password {
            self.check_password_strength(password)?;
        }
        let completed = uiaa
            .check(UiaaRequest {
                user: None,
                action: REGISTER,
                flows,
                auth: req.auth.as_ref(),
                params: serde_json::to_value(Params::of(&req))?,
            })
            .await?;
        // Later UIA rounds may send only `auth`: then the first request's parameters count
        // (spec: "User-interactive API"; Synapse keeps them with the session).
        let params = match Params::of(&req) {
            p if p.is_empty() => serde_json::from_value(completed.params).unwrap_or(p),
            p => p,
        };
        let password = params
            .password
            .clone()
            .ok_or_else(|| Error::missing_param("A password is required"))?;
        self.check_password_strength(&password)?;
        let user_id = match (&guest, &params.username) {
            (Some(guest), _) => guest.clone(),
            (None, Some(name)) => self.new_user_id(name)?,
            (None, None) => self.new_user_id(&format!("u{}", random_string(11).to_lowercase()))?,
        };
        self.registration_per_ip.check(&ip)?;
        if guest.is_some() {
            self.upgrade_guest(&user_id, password).await?;
        } else {
            self.create_user(&user_id, Some(password), false, false, completed.registration_token)
                .await?;
            super::hooks::user_registered(&*self.services()?, &user_id).await?;
        }
        tracing::info!(%user_id, upgraded_guest = guest.is_some(), "registered");
        uiaa.set_outcome(&completed.session, REGISTER, json!({ "user_id": user_id }));
        self.registration_login(user_id, params, ip).await
    }

    /// A retry of a registration its session already completed: the same account, logged
    /// in again (Synapse), so a client that lost the answer can carry on.
    async fn repeat_registration(
        &self,
        req: &register::v3::Request,
        done: serde_json::Value,
        ip: IpAddr,
    ) -> Result<register::v3::Response> {
        let user_id: OwnedUserId = serde_json::from_value(done["user_id"].clone())
            .map_err(|e| Error::internal(format!("registration outcome: {e}")))?;
        if let Some(name) = &req.username
            && user_id_for_username(name, &self.ctx.config.server_name)? != user_id
        {
            return Err(Error::forbidden("This session registered another user"));
        }
        self.registration_login(user_id, Params::of(req), ip).await
    }

    /// The registration's answer: a new session unless `inhibit_login`.
    async fn registration_login(
        &self,
        user_id: OwnedUserId,
        params: Params,
        ip: IpAddr,
    ) -> Result<register::v3::Response> {
        if params.inhibit_login {
            return Ok(register::v3::Response::new(user_id));
        }
        let device = DeviceRequest {
            device_id: params.device_id,
            display_name: params.initial_device_display_name,
            refresh_token: params.refresh_token,
            ip: Some(ip),
        };
        self.registered_session(user_id, device).await
    }

    /// The guest a `guest_access_token` upgrades (spec: "Guest access": a guest may register
    /// their own user ID): `M_USER_IN_USE` for a token that is not a guest's or a username
    /// that is not theirs.
    async fn upgradable_guest(&self, token: &str, username: Option<&str>) -> Result<OwnedUserId> {
        let not_theirs = || Error::user_in_use();
        let hash = hearth_core::utils::hash_token(token);
        let owner = self.ctx.storage.find_access_token(hash).await?.ok_or_else(not_theirs)?;
        if !owner.is_guest {
            return Err(not_theirs());
        }
        if let Some(name) = username
            && format!("@{}:{}", name.to_lowercase(), self.ctx.config.server_name)
                != owner.user_id.as_str()
        {
            return Err(not_theirs());
        }
        Ok(owner.user_id)
    }

    async fn upgrade_guest(&self, user_id: &UserId, password: String) -> Result<()> {
        let hash = crate::password::hash(password).await?;
        if !self.ctx.storage.upgrade_guest(user_id, hash).await? {
            return Err(Error::user_in_use());
        }
        Ok(())
    }

    /// Guests (spec: "Guest access"): every parameter but the device display name is ignored;
    /// the server picks an all-digit localpart and the device ID.
    async fn register_guest(
        &self,
        display_name: Option<String>,
        ip: IpAddr,
    ) -> Result<register::v3::Response> {
        if !self.ctx.config.registration.allow_guests {
            return Err(Error::forbidden("Guest access is disabled"));
        }
        self.registration_per_ip.check(&ip)?;
        let mut created = None;
        for _ in 0..GUEST_ID_ATTEMPTS {
            let localpart = rand::random_range(1_000_000_000u64..10_000_000_000).to_string();
            let user_id =
                OwnedUserId::try_from(format!("@{localpart}:{}", self.ctx.config.server_name))?;
            match self.create_user(&user_id, None, false, true, None).await {
                Ok(()) => {
                    created = Some(user_id);
                    break;
                }
                Err(e) if e.errcode() == "M_USER_IN_USE" => continue,
                Err(e) => return Err(e),
            }
        }
        let user_id = created.ok_or_else(|| Error::internal("no free guest user ID"))?;
        super::hooks::user_registered(&*self.services()?, &user_id).await?;
        let device = DeviceRequest { display_name, ip: Some(ip), ..Default::default() };
        self.registered_session(user_id, device).await
    }

    async fn registered_session(
        &self,
        user_id: OwnedUserId,
        device: DeviceRequest,
    ) -> Result<register::v3::Response> {
        let tokens = self.issue_session(&user_id, device).await?;
        let mut response = register::v3::Response::new(user_id);
        response.access_token = Some(tokens.access_token);
        response.device_id = Some(tokens.device_id);
        response.refresh_token = tokens.refresh_token;
        response.expires_in = tokens.expires_in_ms.map(Duration::from_millis);
        Ok(response)
    }

    /// `/register/available`: `M_INVALID_USERNAME`, `M_EXCLUSIVE` or `M_USER_IN_USE` when the
    /// name cannot be registered.
    pub async fn username_available(&self, username: &str, ip: IpAddr) -> Result<()> {
        // Clients ask as the user types: a full bucket answers, without draining it.
        self.registration_per_ip.peek(&ip)?;
        self.check_available(username).await
    }

    async fn check_available(&self, username: &str) -> Result<()> {
        let user_id = self.new_user_id(username)?;
        if self.ctx.storage.get_user(&user_id).await?.is_some() {
            return Err(Error::user_in_use());
        }
        Ok(())
    }

    /// `/register/m.login.registration_token/validity`: `M_FORBIDDEN` unless registration is
    /// token-gated (spec: then every token is invalid).
    pub async fn registration_token_valid(&self, token: &str, ip: IpAddr) -> Result<bool> {
        self.registration_per_ip.check(&ip)?;
        if !self.ctx.config.registration.require_token {
            return Err(Error::forbidden("Registration does not use tokens on this server"));
        }
        self.ctx.storage.registration_token_valid(token, now_millis()).await
    }
}

impl Service {
    /// Create a registration token (admin tooling: `hearth token create`): `uses` accounts at
    /// most (unlimited when `None`), valid until `expiry_ts` (ms since epoch; forever when
    /// `None`).
    pub async fn create_registration_token(
        &self,
        uses: Option<u32>,
        expiry_ts: Option<u64>,
    ) -> Result<String> {
        // The spec's grammar for these tokens is [A-Za-z0-9._~-], at most 64 characters.
        let token = random_string(24);
        let record = RegistrationTokenRecord {
            token: token.clone(),
            uses_allowed: uses,
            completed: 0,
            expiry_ts,
        };
        if !self.ctx.storage.create_registration_token(record).await? {
            return Err(Error::internal("registration token collision"));
        }
        Ok(token)
    }
}
