//! User-interactive authentication before cross-signing keys are replaced (spec:
//! `POST /keys/device_signing/upload`).
//!
//! TODO(accounts, issue 2): the UIA service (sessions, flows, stages) is being built by the
//! accounts engineer; call it here once it lands on main. Until then this offers a single
//! stage, `m.login.password` for the caller, checked by the accounts service.

use hearth_core::{Error, Result, utils::random_string};
use ruma::{
    UserId,
    api::{
        client::uiaa::{AuthData, AuthFlow, AuthType, UiaaInfo, UserIdentifier},
        error::{ErrorKind, StandardErrorBody},
    },
};

use super::Service;

impl Service {
    /// `Ok` when `auth` proves the caller is `user`; otherwise the 401 that asks for it.
    pub(super) async fn require_uia(&self, user: &UserId, auth: Option<&AuthData>) -> Result<()> {
        let mut info = UiaaInfo::new(vec![AuthFlow::new(vec![AuthType::Password])]);
        info.session = Some(random_string(24));
        if let Some(AuthData::Password(password)) = auth {
            info.session = password.session.clone().or(info.session);
            let services = self.services.upgrade().ok_or_else(|| Error::internal("shut down"))?;
            let named = match &password.identifier {
                UserIdentifier::Matrix(id) if id.user.starts_with('@') => {
                    UserId::parse(id.user.to_lowercase()).ok()
                }
                UserIdentifier::Matrix(id) => services.accounts.user_id(&id.user).ok(),
                _ => None,
            };
            let checked = match named {
                Some(named) if named == user => {
                    services.accounts.check_password(user, &password.password).await
                }
                _ => Err(Error::forbidden("Invalid username or password")),
            };
            match checked {
                Ok(()) => return Ok(()),
                Err(Error::Matrix { kind: ErrorKind::Forbidden, message, .. }) => {
                    info.auth_error = Some(StandardErrorBody::new(ErrorKind::Forbidden, message));
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::Uiaa(Box::new(info)))
    }
}
