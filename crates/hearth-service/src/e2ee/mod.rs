//! End-to-end encryption (spec: client-server-api, "End-to-End Encryption" and
//! "Send-to-Device messaging"): device, one-time and fallback keys, cross-signing, device-list
//! tracking, to-device messages, key backup and dehydrated devices (MSC3814).
//!
//! The server never sees plaintext; it validates what clients upload (every signature with
//! ruma's signature functions), hands keys out exactly as the spec says and tells the right
//! users when something changed.
//!
//! Guests (spec: "Guest access") may upload, query and claim keys, send to-device messages
//! and (as in Synapse) ask for key changes; the rest answers `M_GUEST_ACCESS_FORBIDDEN`.
//!
//! What `/sync` and sliding sync call: [`Service::to_device_messages`],
//! [`Service::confirm_to_device`], [`Service::one_time_keys_status`],
//! [`Service::device_list_changes`]. What accounts calls (`accounts::hooks`):
//! [`Service::on_devices_deleted`], [`Service::on_user_deactivated`],
//! [`Service::on_device_changed`].

mod backup;
mod cross_signing;
mod dehydrated;
mod device_lists;
mod keys;
mod shared_rooms;
pub(crate) mod signing;
mod to_device;

use std::sync::{Arc, Weak};

use hearth_core::Result;
use hearth_storage::DeviceListChange;
use ruma::{OwnedDeviceId, OwnedUserId, UserId};

pub use backup::{BackupInfo, RoomKeys};
pub use cross_signing::SigningKeysUpload;
pub use dehydrated::NewDehydratedDevice;
pub use hearth_storage::RoomKeysScope;
pub use keys::{DeviceKeyCounts, KeysClaimResult, KeysQueryResult, UploadedKeys};
pub use to_device::{MAX_TO_DEVICE_EVENT_BYTES, ToDeviceBatch};

use crate::{Ctx, Services, ratelimit::RateLimiter};

pub struct Service {
    ctx: Arc<Ctx>,
    services: Weak<Services>,
    /// `rate_limits.key_requests_per_device`, per sending device.
    key_requests: RateLimiter<(OwnedUserId, OwnedDeviceId)>,
}

impl Service {
    pub(crate) fn new(ctx: Arc<Ctx>, services: Weak<Services>) -> Self {
        let limits = &ctx.config.rate_limits;
        let key_requests = RateLimiter::new(limits.key_requests_per_device, limits.enabled);
        Service { ctx, services, key_requests }
    }

    /// Devices were deleted (logout, device deletion): forget their keys and pending to-device
    /// messages and tell those who track the user's devices.
    pub async fn on_devices_deleted(
        &self,
        user_id: &UserId,
        device_ids: &[OwnedDeviceId],
    ) -> Result<()> {
        for device_id in device_ids {
            self.ctx.storage.delete_device_e2ee(user_id, device_id).await?;
        }
        self.notify_device_list(user_id).await
    }

    /// An account was deactivated: forget all its keys, signatures, messages and backups, and
    /// tell those who track its devices.
    pub async fn on_user_deactivated(&self, user_id: &UserId) -> Result<()> {
        self.ctx.storage.delete_user_e2ee(user_id).await?;
        self.notify_device_list(user_id).await
    }

    /// A device was created or renamed (its display name is part of `/keys/query`): tell those
    /// who track the user's devices.
    pub async fn on_device_changed(&self, user_id: &UserId) -> Result<()> {
        self.ctx
            .storage
            .record_device_list_changes(vec![DeviceListChange::public(user_id)])
            .await?;
        self.notify_device_list(user_id).await
    }
}
