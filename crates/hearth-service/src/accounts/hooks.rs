//! Where account changes reach the areas that keep data about users and devices. Each hook is
//! called after the change is committed; an area that needs to react adds its call here.

use hearth_core::Result;
use ruma::{DeviceId, OwnedDeviceId, UserId};

use crate::Services;

/// Devices were deleted, with their tokens (logout, device deletion, password change with
/// `logout_devices`, deactivation).
pub(super) async fn devices_deleted(
    _services: &Services,
    _user_id: &UserId,
    _device_ids: &[OwnedDeviceId],
) -> Result<()> {
    // TODO(e2ee, issue 6): delete the devices' keys and pending to-device messages, and
    // announce the device-list change to users who share rooms with `user_id`.
    Ok(())
}

/// A device's display name changed.
pub(super) async fn device_updated(
    _services: &Services,
    _user_id: &UserId,
    _device_id: &DeviceId,
) -> Result<()> {
    // TODO(e2ee, issue 6): the display name is part of the device list others see: announce
    // the device-list change.
    Ok(())
}

/// An account was deactivated: its devices are already gone (see `devices_deleted`).
pub(super) async fn user_deactivated(services: &Services, user_id: &UserId) -> Result<()> {
    services.profile.clear(user_id).await?;
    // TODO(rooms, issue 3): leave every joined room and reject pending invites, as the spec's
    // deactivation requires; then the user directory forgets the user.
    Ok(())
}
