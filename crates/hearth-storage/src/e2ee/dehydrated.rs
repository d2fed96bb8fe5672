//! Dehydrated devices (MSC3814): a device kept on the server, encrypted, to receive keys while
//! the user has no other device online.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{OwnedDeviceId, UserId};

use crate::KeysUpload;

#[derive(Debug, Clone)]
pub struct DehydratedDevice {
    pub device_id: OwnedDeviceId,
    /// The `device_data` JSON object, opaque to the server.
    pub device_data: String,
}

#[async_trait]
pub trait DehydratedDeviceStore {
    async fn dehydrated_device(&self, user_id: &UserId) -> Result<Option<DehydratedDevice>>;

    /// Make `device` the user's dehydrated device in one transaction: the previous one is
    /// deleted with its keys and messages, the device is created with `display_name`, `keys`
    /// stored and a device-list change recorded. Fails with `M_INVALID_PARAM` if the device
    /// ID belongs to another device of the user.
    async fn put_dehydrated_device(
        &self,
        device: DehydratedDevice,
        display_name: Option<String>,
        keys: KeysUpload,
    ) -> Result<()>;

    /// Delete the dehydrated device with its keys and messages; returns its ID.
    async fn delete_dehydrated_device(&self, user_id: &UserId) -> Result<Option<OwnedDeviceId>>;
}
