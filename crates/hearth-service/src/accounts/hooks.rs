//! Where account changes reach the areas that keep data about users and devices. Each hook is
//! called after the change is committed; an area that needs to react adds its call here.

use hearth_core::Result;
use ruma::{DeviceId, OwnedDeviceId, UserId};

use crate::Services;

/// An account was registered over the Client-Server API (not by the CLI, which must not
/// take stream positions).
pub(super) async fn user_registered(services: &Services, user_id: &UserId) -> Result<()> {
    // Its first `/sync` carries the default `m.push_rules`.
    services.push.on_user_registered(user_id).await
}

/// Devices were deleted, with their tokens (logout, device deletion, password change with
/// `logout_devices`, deactivation).
pub(super) async fn devices_deleted(
    services: &Services,
    user_id: &UserId,
    device_ids: &[OwnedDeviceId],
) -> Result<()> {
    for device in device_ids {
        services.sliding_sync.forget_device(user_id, device);
    }
    services.e2ee.on_devices_deleted(user_id, device_ids).await?;
    services.push.on_devices_deleted(user_id, device_ids).await
}

/// A device was created, or logged in again with its device ID (login, registration).
pub(super) async fn device_created(
    services: &Services,
    user_id: &UserId,
    _device_id: &DeviceId,
) -> Result<()> {
    // Those who share a room with the user see it in `device_lists.changed` (spec: "Tracking
    // the device list for a user"), as the user's own devices do.
    services.e2ee.on_device_changed(user_id).await
}

/// A device's display name changed.
pub(super) async fn device_updated(
    services: &Services,
    user_id: &UserId,
    _device_id: &DeviceId,
) -> Result<()> {
    // The display name is part of the device list others see (`/keys/query`).
    services.e2ee.on_device_changed(user_id).await
}

/// An account was deactivated: its devices are already gone (see `devices_deleted`). It
/// leaves its rooms first (rejecting invites and knocks), so clearing the profile has no room
/// left to update; having no joined room, it drops out of the user directory.
pub(super) async fn user_deactivated(services: &Services, user_id: &UserId) -> Result<()> {
    // Their events are shown redacted to later joiners if they asked to be erased.
    services.rooms.forget_erasure(user_id);
    services.rooms.leave_all(user_id).await?;
    services.profile.clear(user_id).await?;
    services.account_data.on_user_deactivated(user_id).await?;
    services.e2ee.on_user_deactivated(user_id).await?;
    services.push.on_user_deactivated(user_id).await?;
    Ok(())
}
