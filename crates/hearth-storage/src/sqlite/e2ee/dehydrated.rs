//! Dehydrated devices (MSC3814) in SQLite. The device itself is a row of `devices` (accounts),
//! so that key queries and to-device messages treat it as any other device.

use async_trait::async_trait;
use hearth_core::{Error, Result, utils::now_millis};
use ruma::{OwnedDeviceId, UserId};
use rusqlite::{Connection, OptionalExtension, params};

use super::{device_lists, keys};
use crate::{
    DehydratedDevice, DehydratedDeviceStore, DeviceListChange, KeysUpload, sqlite::SqliteStore,
};

#[async_trait]
impl DehydratedDeviceStore for SqliteStore {
    async fn dehydrated_device(&self, user_id: &UserId) -> Result<Option<DehydratedDevice>> {
        let user_id = user_id.to_owned();
        self.db
            .read(move |c| {
                let row: Option<(String, String)> = c
                    .prepare_cached(
                        "SELECT device_id, device_data FROM e2e_dehydrated_devices
                         WHERE user_id = ?1",
                    )?
                    .query_row([user_id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                Ok(row.map(|(device_id, device_data)| DehydratedDevice {
                    device_id: device_id.into(),
                    device_data,
                }))
            })
            .await
    }

    async fn put_dehydrated_device(
        &self,
        device: DehydratedDevice,
        display_name: Option<String>,
        keys: KeysUpload,
    ) -> Result<()> {
        self.db
            .write(move |ctx| {
                let user = keys.user_id.as_str();
                remove_current(ctx, user)?;
                let created = ctx
                    .prepare_cached(
                        "INSERT INTO devices (user_id, device_id, display_name, created_ts)
                         VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                    )?
                    .execute(params![
                        user,
                        device.device_id.as_str(),
                        display_name,
                        now_millis() as i64
                    ])?;
                if created == 0 {
                    return Err(Error::invalid_param("The device ID is already in use"));
                }
                ctx.prepare_cached(
                    "INSERT INTO e2e_dehydrated_devices (user_id, device_id, device_data)
                     VALUES (?1, ?2, ?3)",
                )?
                .execute(params![
                    user,
                    device.device_id.as_str(),
                    device.device_data
                ])?;
                if !keys::store_upload(ctx, &keys)? {
                    device_lists::record(ctx, &[DeviceListChange::public(&keys.user_id)])?;
                }
                Ok(())
            })
            .await
    }

    async fn delete_dehydrated_device(&self, user_id: &UserId) -> Result<Option<OwnedDeviceId>> {
        let user_id = user_id.to_owned();
        self.db
            .write(move |ctx| {
                let removed = remove_current(ctx, user_id.as_str())?;
                if removed.is_some() {
                    device_lists::record(ctx, &[DeviceListChange::public(&user_id)])?;
                }
                Ok(removed)
            })
            .await
    }
}

/// Delete the user's dehydrated device, its device row, keys and messages.
fn remove_current(c: &Connection, user: &str) -> Result<Option<OwnedDeviceId>> {
    let old: Option<String> = c
        .prepare_cached(
            "DELETE FROM e2e_dehydrated_devices WHERE user_id = ?1 RETURNING device_id",
        )?
        .query_row([user], |r| r.get(0))
        .optional()?;
    let Some(old) = old else { return Ok(None) };
    keys::delete_device_rows(c, user, &old)?;
    c.prepare_cached("DELETE FROM devices WHERE user_id = ?1 AND device_id = ?2")?
        .execute([user, old.as_str()])?;
    Ok(Some(old.into()))
}
