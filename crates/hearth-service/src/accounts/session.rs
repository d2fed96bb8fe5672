//! The authenticated caller of a request.

use hearth_core::{Error, Result};
use http::StatusCode;
use ruma::{OwnedDeviceId, OwnedUserId, api::error::ErrorKind};

#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: OwnedUserId,
    pub device_id: OwnedDeviceId,
    pub is_guest: bool,
}

impl Session {
    /// `M_GUEST_ACCESS_FORBIDDEN` for guests, on endpoints the spec's "Guest access" module
    /// does not open to them.
    pub fn forbid_guest(&self) -> Result<()> {
        if self.is_guest {
            return Err(Error::new(
                StatusCode::FORBIDDEN,
                ErrorKind::GuestAccessForbidden,
                "Guest accounts cannot do this",
            ));
        }
        Ok(())
    }
}
