//! The authenticated caller of a request.

use ruma::{OwnedDeviceId, OwnedUserId};

#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: OwnedUserId,
    pub device_id: OwnedDeviceId,
    pub is_guest: bool,
}
