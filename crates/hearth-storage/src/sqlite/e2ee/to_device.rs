//! To-device messages in SQLite.

use std::collections::BTreeSet;

use async_trait::async_trait;
use hearth_core::{Result, utils::now_millis};
use ruma::{DeviceId, OwnedUserId, UserId};
use rusqlite::params;

use crate::{QueuedToDevice, ToDeviceMessage, ToDeviceStore, sqlite::SqliteStore};

/// How long a transaction ID is remembered for idempotency.
const TXN_RETENTION_MS: u64 = 24 * 3600 * 1000;

#[async_trait]
impl ToDeviceStore for SqliteStore {
    async fn queue_to_device(
        &self,
        sender: &UserId,
        sender_device: &DeviceId,
        txn_id: &str,
        mut messages: Vec<ToDeviceMessage>,
    ) -> Result<Option<Vec<OwnedUserId>>> {
        let (sender, sender_device, txn_id) =
            (sender.to_owned(), sender_device.to_owned(), txn_id.to_owned());
        // `*` first, so that a message naming a device explicitly wins over it.
        messages.sort_by_key(|m| m.device_id.is_some());
        self.db
            .write(move |ctx| {
                let now = now_millis() as i64;
                ctx.prepare_cached(
                    "DELETE FROM e2e_to_device_txns
                     WHERE user_id = ?1 AND device_id = ?2 AND created_ts < ?3",
                )?
                .execute(params![
                    sender.as_str(),
                    sender_device.as_str(),
                    now - TXN_RETENTION_MS as i64
                ])?;
                let fresh = ctx
                    .prepare_cached(
                        "INSERT INTO e2e_to_device_txns (user_id, device_id, txn_id, created_ts)
                         VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                    )?
                    .execute(params![sender.as_str(), sender_device.as_str(), txn_id, now])?;
                if fresh == 0 {
                    return Ok(None);
                }
                let pos = ctx.next_pos();
                let mut stmt = ctx.prepare_cached(
                    "INSERT INTO e2e_to_device (user_id, device_id, stream_pos, event_json)
                     SELECT user_id, device_id, ?2, ?3 FROM devices
                     WHERE user_id = ?1 AND (?4 IS NULL OR device_id = ?4)
                     ON CONFLICT DO UPDATE SET event_json = excluded.event_json",
                )?;
                let mut recipients = BTreeSet::new();
                for m in &messages {
                    let device = m.device_id.as_ref().map(|d| d.as_str());
                    if stmt.execute(params![m.user_id.as_str(), pos, m.event_json, device])? > 0 {
                        recipients.insert(m.user_id.clone());
                    }
                }
                Ok(Some(recipients.into_iter().collect()))
            })
            .await
    }

    async fn to_device_messages(
        &self,
        user_id: &UserId,
        device_id: &DeviceId,
        after: i64,
        up_to: i64,
        limit: usize,
    ) -> Result<Vec<QueuedToDevice>> {
        let (user_id, device_id) = (user_id.to_owned(), device_id.to_owned());
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT stream_pos, event_json FROM e2e_to_device
                     WHERE user_id = ?1 AND device_id = ?2 AND stream_pos > ?3 AND stream_pos <= ?4
                     ORDER BY stream_pos LIMIT ?5",
                )?;
                let rows = stmt.query_map(
                    params![user_id.as_str(), device_id.as_str(), after, up_to, limit as i64],
                    |r| Ok(QueuedToDevice { stream_pos: r.get(0)?, event_json: r.get(1)? }),
                )?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    async fn delete_to_device_messages(
        &self,
        user_id: &UserId,
        device_id: &DeviceId,
        up_to: i64,
    ) -> Result<()> {
        let (user_id, device_id) = (user_id.to_owned(), device_id.to_owned());
        // Every incremental /sync confirms; most have nothing to delete. A read finds out
        // without queueing a write (and its fsync) on the sync's path.
        let (user, device) = (user_id.clone(), device_id.clone());
        let any: bool = self
            .db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM e2e_to_device
                     WHERE user_id = ?1 AND device_id = ?2 AND stream_pos <= ?3)",
                )?;
                Ok(stmt.query_row(params![user.as_str(), device.as_str(), up_to], |r| r.get(0))?)
            })
            .await?;
        if !any {
            return Ok(());
        }
        self.db
            .write(move |ctx| {
                ctx.prepare_cached(
                    "DELETE FROM e2e_to_device
                     WHERE user_id = ?1 AND device_id = ?2 AND stream_pos <= ?3",
                )?
                .execute(params![user_id.as_str(), device_id.as_str(), up_to])?;
                Ok(())
            })
            .await
    }
}
