//! Send-to-device messaging (spec: "Send-to-Device messaging").

use std::collections::BTreeMap;

use hearth_core::{Error, Result};
use hearth_storage::ToDeviceMessage;
use ruma::{
    DeviceId, TransactionId, UserId,
    api::client::to_device::send_event_to_device::v3::Messages,
    events::{AnyToDeviceEvent, ToDeviceEventType},
    serde::Raw,
    to_device::DeviceIdOrAllDevices,
};
use serde_json::value::RawValue;

use super::{Service, keys::raw_json};

/// Largest to-device event accepted, as Synapse: what fits in one federation EDU, the same
/// bound the spec puts on room events.
pub const MAX_TO_DEVICE_EVENT_BYTES: usize = 65_536;

/// To-device messages for one device, in the order they were sent.
#[derive(Debug, Default)]
pub struct ToDeviceBatch {
    pub events: Vec<Raw<AnyToDeviceEvent>>,
    /// Stream position of the last event returned. When `limited`, the next sync must go on
    /// from here rather than from its own position.
    pub last_pos: Option<i64>,
    /// More messages wait than `limit` allowed.
    pub limited: bool,
}

impl Service {
    /// `PUT /sendToDevice/{eventType}/{txnId}`: queue `messages` from the caller's device.
    /// Idempotent per (device, transaction ID); `*` means every device of the user; messages
    /// for devices that do not exist are dropped, and so are room key requests to other users
    /// beyond `rate_limits.key_requests_per_device` (as Synapse: the client is not told).
    pub async fn send_to_device(
        &self,
        sender: &UserId,
        sender_device: &DeviceId,
        event_type: &ToDeviceEventType,
        txn_id: &TransactionId,
        messages: &Messages,
    ) -> Result<()> {
        let mut queued = Vec::new();
        let key_request = event_type == &ToDeviceEventType::RoomKeyRequest;
        for (user_id, by_device) in messages {
            if key_request
                && user_id != sender
                && !self.key_requests_allowed((sender, sender_device), by_device)
            {
                continue;
            }
            for (target, content) in by_device {
                let event_json = event_json(sender, event_type, content.json())?;
                if !self.is_local(user_id) {
                    // TODO(federation): send on to the user's server as `m.direct_to_device`.
                    continue;
                }
                let device_id = match target {
                    DeviceIdOrAllDevices::DeviceId(d) => Some(d.clone()),
                    DeviceIdOrAllDevices::AllDevices => None,
                };
                queued.push(ToDeviceMessage { user_id: user_id.clone(), device_id, event_json });
            }
        }
        let storage = &self.ctx.storage;
        let recipients =
            storage.queue_to_device(sender, sender_device, txn_id.as_str(), queued).await?;
        for user in recipients.unwrap_or_default() {
            self.ctx.notifier.notify_user(&user);
        }
        Ok(())
    }

    /// Whether `sender`'s key requests to one user's devices stay within the limit: one token
    /// per addressed device, all or none sent, as Synapse counts them.
    fn key_requests_allowed<T>(
        &self,
        sender: (&UserId, &DeviceId),
        by_device: &BTreeMap<DeviceIdOrAllDevices, T>,
    ) -> bool {
        let key = (sender.0.to_owned(), sender.1.to_owned());
        by_device.keys().fold(true, |allowed, _| self.key_requests.check(&key).is_ok() && allowed)
    }

    /// Messages for a device with stream positions in `(after, up_to]`, oldest first, at most
    /// `limit` (the spec recommends 100 per sync). They stay queued until
    /// [`Service::confirm_to_device`].
    pub async fn to_device_messages(
        &self,
        user: &UserId,
        device: &DeviceId,
        after: i64,
        up_to: i64,
        limit: usize,
    ) -> Result<ToDeviceBatch> {
        let storage = &self.ctx.storage;
        let mut queued = storage.to_device_messages(user, device, after, up_to, limit + 1).await?;
        let limited = queued.len() > limit;
        queued.truncate(limit);
        let last_pos = queued.last().map(|m| m.stream_pos);
        let events = queued
            .into_iter()
            .map(|m| raw_json(m.event_json).map(Raw::from_json))
            .collect::<Result<_>>()?;
        Ok(ToDeviceBatch { events, last_pos, limited })
    }

    /// The device has received every message up to `up_to` (it synced with a token past
    /// them): delete them. Spec: "the server should infer that any send-to-device messages in
    /// that response have been delivered successfully, and delete them".
    pub async fn confirm_to_device(
        &self,
        user: &UserId,
        device: &DeviceId,
        up_to: i64,
    ) -> Result<()> {
        self.ctx.storage.delete_to_device_messages(user, device, up_to).await
    }
}

/// The event a device receives; `M_TOO_LARGE` beyond [`MAX_TO_DEVICE_EVENT_BYTES`].
fn event_json(
    sender: &UserId,
    event_type: &ToDeviceEventType,
    content: &RawValue,
) -> Result<String> {
    if !content.get().trim_start().starts_with('{') {
        return Err(Error::bad_json("Each to-device message must be a JSON object"));
    }
    #[derive(serde::Serialize)]
    struct Event<'a> {
        content: &'a RawValue,
        sender: &'a UserId,
        #[serde(rename = "type")]
        event_type: &'a ToDeviceEventType,
    }
    let json =
        serde_json::to_string(&Event { content, sender, event_type }).map_err(Error::internal)?;
    if json.len() > MAX_TO_DEVICE_EVENT_BYTES {
        return Err(Error::too_large(format!(
            "A to-device message is larger than {MAX_TO_DEVICE_EVENT_BYTES} bytes"
        )));
    }
    Ok(json)
}
