//! To-device messages: queued per recipient device until the device confirms receipt.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{DeviceId, OwnedDeviceId, OwnedUserId, UserId};

#[derive(Debug, Clone)]
pub struct ToDeviceMessage {
    pub user_id: OwnedUserId,
    /// `None`: every device of the user.
    pub device_id: Option<OwnedDeviceId>,
    /// The whole event as delivered: `{"content", "sender", "type"}`.
    pub event_json: String,
}

/// A queued message, as a device receives it.
#[derive(Debug, Clone)]
pub struct QueuedToDevice {
    pub stream_pos: i64,
    pub event_json: String,
}

#[async_trait]
pub trait ToDeviceStore {
    /// Queue messages under one stream position, dropping those for devices that do not exist,
    /// unless `(sender, sender_device, txn_id)` was seen before. Returns the users who got a
    /// message, or `None` for a repeated transaction.
    async fn queue_to_device(
        &self,
        sender: &UserId,
        sender_device: &DeviceId,
        txn_id: &str,
        messages: Vec<ToDeviceMessage>,
    ) -> Result<Option<Vec<OwnedUserId>>>;

    /// Messages for a device with positions in `(after, up_to]`, oldest first, at most `limit`.
    async fn to_device_messages(
        &self,
        user_id: &UserId,
        device_id: &DeviceId,
        after: i64,
        up_to: i64,
        limit: usize,
    ) -> Result<Vec<QueuedToDevice>>;

    /// Delete a device's messages up to and including `up_to`: it has received them.
    async fn delete_to_device_messages(
        &self,
        user_id: &UserId,
        device_id: &DeviceId,
        up_to: i64,
    ) -> Result<()>;
}
