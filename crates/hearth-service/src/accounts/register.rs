//! Registration (spec: client-server-api `POST /register`, `/register/available`,
//! "Token-authenticated registration").

use std::{net::IpAddr, time::Duration};

use hearth_core::{
    Error, Result,
    utils::{now_millis, random_string},
};
use hearth_storage::RegistrationTokenRecord;
use ruma::{
    OwnedUserId,
    api::client::{
        account::register::{self, RegistrationKind},
        uiaa::{AuthFlow, AuthType},
    },
};
use serde_json::json;

use super::{DeviceRequest, Service};
use crate::uiaa::UiaaRequest;

/// Attempts at a free random guest ID before giving up.
const GUEST_ID_ATTEMPTS: usize = 5;

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
        // Check what can be checked before UIA, so the user is not sent through it in vain.
        if let Some(username) = &req.username {
            self.check_available(username).await?;
        }
        if let Some(password) = &req.password {
            self.check_password_strength(password)?;
        }
        let params = json!({ "username": req.username, "password": req.password });
        let uiaa = &self.services()?.uiaa;
        let completed = uiaa
            .check(UiaaRequest {
                user: None,
                action: "register",
                flows,
                auth: req.auth.as_ref(),
                params,
            })
            .await?;
        // Later UIA rounds may leave out what the first request gave.
        let remembered = |key: &str| completed.params[key].as_str().map(str::to_owned);
        let username = req.username.clone().or_else(|| remembered("username"));
        let password = req.password.clone().or_else(|| remembered("password"));
        let password = password.ok_or_else(|| Error::missing_param("A password is required"))?;
        self.check_password_strength(&password)?;
        let user_id = match &username {
            Some(name) => self.new_user_id(name)?,
            None => self.new_user_id(&format!("u{}", random_string(11).to_lowercase()))?,
        };
        self.registration_per_ip.check(&ip)?;
        self.create_user(&user_id, Some(password), false, false, completed.registration_token)
            .await?;
        tracing::info!(%user_id, "registered");
        super::hooks::user_registered(&*self.services()?, &user_id).await?;
        if req.inhibit_login {
            return Ok(register::v3::Response::new(user_id));
        }
        let device = DeviceRequest {
            device_id: req.device_id,
            display_name: req.initial_device_display_name,
            refresh_token: req.refresh_token,
            ip: Some(ip),
        };
        self.registered_session(user_id, device).await
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
