//! Device management (spec: client-server-api "Device management"), and the last-seen IP and
//! time of each device, kept without a database write per request.

use std::{collections::HashMap, net::IpAddr, sync::Arc};

use hearth_core::{Error, Result, utils::now_millis};
use hearth_storage::{DeviceRecord, LastSeen};
use parking_lot::Mutex;
use ruma::{
    DeviceId, MilliSecondsSinceUnixEpoch, OwnedDeviceId, OwnedUserId, UInt, UserId,
    api::client::{device::Device, uiaa::AuthData},
};

use super::{Service, Session};
use crate::Ctx;

/// A device's last-seen time is written at most this often (unless its IP changes).
const WRITE_INTERVAL_MS: u64 = 5 * 60 * 1000;
/// Synapse's limit on device display names.
const MAX_DISPLAY_NAME_CHARS: usize = 100;

impl Service {
    pub async fn devices(&self, user_id: &UserId) -> Result<Vec<Device>> {
        let records = self.ctx.storage.get_devices(user_id).await?;
        Ok(records.into_iter().map(|r| self.to_device(user_id, r)).collect())
    }

    /// The stored devices with their freshest last-seen IP, time and user agent.
    pub(super) async fn device_records(&self, user_id: &UserId) -> Result<Vec<DeviceRecord>> {
        let mut records = self.ctx.storage.get_devices(user_id).await?;
        for record in &mut records {
            self.last_seen.overlay(user_id, record);
        }
        Ok(records)
    }

    /// `M_NOT_FOUND` if the user has no such device.
    pub async fn device(&self, user_id: &UserId, device_id: &DeviceId) -> Result<Device> {
        let record = self.ctx.storage.get_device(user_id, device_id).await?;
        let record = record.ok_or_else(|| Error::not_found("No such device"))?;
        Ok(self.to_device(user_id, record))
    }

    /// Rename a device. A missing `display_name` leaves it unchanged. Creating devices this
    /// way is for application services only (spec v1.17), which Hearth does not support yet.
    pub async fn update_device(
        &self,
        user_id: &UserId,
        device_id: &DeviceId,
        display_name: Option<String>,
    ) -> Result<()> {
        if display_name.as_ref().is_some_and(|n| n.chars().count() > MAX_DISPLAY_NAME_CHARS) {
            return Err(Error::too_large(format!(
                "Device display names are limited to {MAX_DISPLAY_NAME_CHARS} characters"
            )));
        }
        let device = self.ctx.storage.get_device(user_id, device_id).await?;
        let device = device.ok_or_else(|| Error::not_found("No such device"))?;
        let Some(name) = display_name else { return Ok(()) };
        if device.display_name.as_deref() == Some(&name) {
            return Ok(());
        }
        if !self.ctx.storage.set_device_display_name(user_id, device_id, Some(name)).await? {
            return Err(Error::not_found("No such device"));
        }
        super::hooks::device_updated(&*self.services()?, user_id, device_id).await
    }

    /// Delete devices after user-interactive auth; devices already gone are fine.
    pub async fn delete_devices(
        &self,
        session: &Session,
        device_ids: Vec<OwnedDeviceId>,
        auth: Option<&AuthData>,
    ) -> Result<()> {
        session.forbid_guest()?;
        let uiaa = &self.services()?.uiaa;
        // The session is bound to these devices: the operation may not change midway
        // (Synapse: 403).
        let mut sorted: Vec<&str> = device_ids.iter().map(|d| d.as_str()).collect();
        sorted.sort_unstable();
        let action = format!("delete_devices {}", sorted.join(" "));
        uiaa.check_user(&session.user_id, auth, &action).await?;
        self.remove_devices(&session.user_id, device_ids).await
    }

    /// Delete devices and their tokens, and tell the areas that keep per-device data.
    pub(super) async fn remove_devices(
        &self,
        user_id: &UserId,
        device_ids: Vec<OwnedDeviceId>,
    ) -> Result<()> {
        if device_ids.is_empty() {
            return Ok(());
        }
        self.ctx.storage.delete_devices(user_id, device_ids.clone()).await?;
        self.devices_removed(user_id, &device_ids).await
    }

    /// After devices were deleted (with their tokens) by any path.
    pub(super) async fn devices_removed(
        &self,
        user_id: &UserId,
        device_ids: &[OwnedDeviceId],
    ) -> Result<()> {
        self.last_seen.forget(user_id, device_ids);
        super::hooks::devices_deleted(&*self.services()?, user_id, device_ids).await
    }

    fn to_device(&self, user_id: &UserId, mut record: DeviceRecord) -> Device {
        self.last_seen.overlay(user_id, &mut record);
        let mut device = Device::new(record.device_id);
        device.display_name = record.display_name;
        device.last_seen_ip = record.last_seen_ip;
        device.last_seen_ts =
            record.last_seen_ts.and_then(|t| UInt::new(t).map(MilliSecondsSinceUnixEpoch));
        device
    }
}

/// Remembers when each device was last seen; writes to the database only when the IP or user
/// agent changes
/// or the stored time is older than [`WRITE_INTERVAL_MS`]. Readers see the fresh value.
#[derive(Default)]
pub(super) struct LastSeenTracker {
    seen: Mutex<HashMap<(OwnedUserId, OwnedDeviceId), Seen>>,
}

struct Seen {
    ip: IpAddr,
    user_agent: Option<String>,
    ts: u64,
    written_ts: u64,
}

impl LastSeenTracker {
    pub(super) fn seen(
        &self,
        ctx: &Arc<Ctx>,
        user: &UserId,
        device: &DeviceId,
        ip: IpAddr,
        user_agent: Option<&str>,
    ) {
        let now = now_millis();
        let written = {
            let mut seen = self.seen.lock();
            let key = (user.to_owned(), device.to_owned());
            let previous = seen.get(&key);
            // A request without a user agent (or through a path that does not pass it on)
            // keeps the one seen before.
            let user_agent = user_agent
                .map(str::to_owned)
                .or_else(|| previous.and_then(|s| s.user_agent.clone()));
            match seen.get_mut(&key) {
                Some(s)
                    if s.ip == ip
                        && s.user_agent == user_agent
                        && now.saturating_sub(s.written_ts) < WRITE_INTERVAL_MS =>
                {
                    s.ts = now;
                    None
                }
                _ => {
                    let fresh =
                        Seen { ip, user_agent: user_agent.clone(), ts: now, written_ts: now };
                    seen.insert(key, fresh);
                    Some(user_agent)
                }
            }
        };
        if let Some(user_agent) = written {
            let record = LastSeen {
                user_id: user.to_owned(),
                device_id: device.to_owned(),
                ip: ip.to_string(),
                ts: now,
                user_agent,
            };
            let storage = ctx.storage.clone();
            tokio::spawn(async move {
                if let Err(e) = storage.record_last_seen(vec![record]).await {
                    tracing::warn!("cannot record device last seen: {e}");
                }
            });
        }
    }

    fn overlay(&self, user: &UserId, record: &mut DeviceRecord) {
        let seen = self.seen.lock();
        if let Some(s) = seen.get(&(user.to_owned(), record.device_id.clone()))
            && record.last_seen_ts.is_none_or(|t| t < s.ts)
        {
            record.last_seen_ts = Some(s.ts);
            record.last_seen_ip = Some(s.ip.to_string());
            record.last_seen_user_agent = s.user_agent.clone();
        }
    }

    fn forget(&self, user: &UserId, devices: &[OwnedDeviceId]) {
        let mut seen = self.seen.lock();
        for device in devices {
            seen.remove(&(user.to_owned(), device.clone()));
        }
    }
}
