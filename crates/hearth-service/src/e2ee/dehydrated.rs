//! Dehydrated devices (MSC3814, the `org.matrix.msc3814.v1` endpoints Element uses): a device
//! whose encrypted state the server keeps so that it receives room keys while the user has no
//! device online; a new login rehydrates it and reads its to-device messages.

use hearth_core::{Error, Result};
use hearth_storage::DehydratedDevice;
use ruma::{
    DeviceId, OwnedDeviceId, api::client::dehydrated_device::DehydratedDeviceData,
    events::AnyToDeviceEvent, serde::Raw,
};

use super::{
    Service,
    keys::{UploadedKeys, raw_json, validate_upload},
};
use crate::{accounts::Session, stream_token};

/// Messages handed out per `events` request.
const EVENTS_PER_BATCH: usize = 100;

pub struct NewDehydratedDevice<'a> {
    pub device_id: &'a DeviceId,
    pub display_name: Option<String>,
    pub device_data: &'a Raw<DehydratedDeviceData>,
    pub keys: UploadedKeys<'a>,
}

impl Service {
    /// Replace the user's dehydrated device (its keys and messages go with it).
    pub async fn put_dehydrated_device(
        &self,
        session: &Session,
        device: NewDehydratedDevice<'_>,
    ) -> Result<()> {
        session.forbid_guest()?;
        let user = &session.user_id;
        device
            .device_data
            .deserialize()
            .map_err(|e| Error::bad_json(format!("Invalid device_data: {e}")))?;
        if device.keys.device_keys.is_none() {
            return Err(Error::missing_param("device_keys are required"));
        }
        self.check_device_id_free(user, device.device_id).await?;
        let keys = validate_upload(user, device.device_id, None, device.keys)?;
        let stored = DehydratedDevice {
            device_id: device.device_id.to_owned(),
            device_data: device.device_data.json().get().to_owned(),
        };
        self.ctx.storage.put_dehydrated_device(stored, device.display_name, keys).await?;
        self.notify_device_list(user).await
    }

    pub async fn dehydrated_device(
        &self,
        session: &Session,
    ) -> Result<(OwnedDeviceId, Raw<DehydratedDeviceData>)> {
        session.forbid_guest()?;
        let user = &session.user_id;
        let device = self.ctx.storage.dehydrated_device(user).await?.ok_or_else(no_device)?;
        Ok((device.device_id, Raw::from_json(raw_json(device.device_data)?)))
    }

    pub async fn delete_dehydrated_device(&self, session: &Session) -> Result<OwnedDeviceId> {
        session.forbid_guest()?;
        let user = &session.user_id;
        let deleted = self.ctx.storage.delete_dehydrated_device(user).await?;
        let device_id = deleted.ok_or_else(no_device)?;
        self.notify_device_list(user).await?;
        Ok(device_id)
    }

    /// The dehydrated device's to-device messages after `next_batch`. Unlike a sync token, a
    /// `next_batch` deletes nothing (MSC3814: if the rehydrating device goes away, another
    /// can start over); the messages go with the dehydrated device.
    pub async fn dehydrated_device_events(
        &self,
        session: &Session,
        device_id: &DeviceId,
        next_batch: Option<&str>,
    ) -> Result<(Vec<Raw<AnyToDeviceEvent>>, String)> {
        session.forbid_guest()?;
        let user = &session.user_id;
        let current = self.ctx.storage.dehydrated_device(user).await?;
        if current.is_none_or(|d| d.device_id != device_id) {
            return Err(Error::forbidden("This is not your dehydrated device"));
        }
        let after = next_batch.map(stream_token::stream_position).transpose()?.unwrap_or(0);
        let up_to = self.ctx.storage.current_stream_pos();
        let batch =
            self.to_device_messages(user, device_id, after, up_to, EVENTS_PER_BATCH).await?;
        let next = batch.last_pos.unwrap_or(after);
        Ok((batch.events, next.to_string()))
    }
}

fn no_device() -> Error {
    Error::not_found("No dehydrated device")
}
