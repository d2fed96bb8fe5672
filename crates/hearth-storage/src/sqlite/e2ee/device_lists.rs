//! The device-list change stream in SQLite.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::UserId;
use rusqlite::params;

use crate::{
    ChangedDeviceList, DeviceListChange, DeviceListStore,
    sqlite::{SqliteStore, WriteCtx},
};

/// Append `changes` under one new stream position, inside the caller's write.
pub(super) fn record(ctx: &mut WriteCtx<'_>, changes: &[DeviceListChange]) -> Result<i64> {
    let pos = ctx.next_pos();
    let mut stmt = ctx.prepare_cached(
        "INSERT INTO e2e_device_list_stream (stream_pos, user_id, only_for) VALUES (?1, ?2, ?3)",
    )?;
    for change in changes {
        stmt.execute(params![
            pos,
            change.user_id.as_str(),
            change.only_for.as_ref().map(|u| u.as_str())
        ])?;
    }
    Ok(pos)
}

#[async_trait]
impl DeviceListStore for SqliteStore {
    async fn record_device_list_changes(&self, changes: Vec<DeviceListChange>) -> Result<i64> {
        self.db.write(move |ctx| record(ctx, &changes)).await
    }

    async fn device_list_changes(
        &self,
        viewer: &UserId,
        from: i64,
        to: i64,
    ) -> Result<Vec<ChangedDeviceList>> {
        let viewer = viewer.to_owned();
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT user_id, min(only_for IS NOT NULL) FROM e2e_device_list_stream
                     WHERE stream_pos > ?1 AND stream_pos <= ?2
                       AND (only_for IS NULL OR only_for = ?3)
                     GROUP BY user_id",
                )?;
                let rows = stmt.query_map(params![from, to, viewer.as_str()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))
                })?;
                let mut changes = Vec::new();
                for row in rows {
                    let (user_id, private) = row?;
                    changes.push(ChangedDeviceList { user_id: user_id.try_into()?, private });
                }
                Ok(changes)
            })
            .await
    }
}
