//! Key backup versions and room keys in SQLite.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::UserId;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{
    BackupVersionRecord, KeyBackupStore, ReplaceRoomKey, RoomKeyRecord, RoomKeysScope,
    sqlite::SqliteStore,
};

const VERSION_COLUMNS: &str = "version, algorithm, auth_data, etag, deleted,
    (SELECT count(*) FROM e2e_room_keys k WHERE k.user_id = v.user_id AND k.version = v.version)";

#[async_trait]
impl KeyBackupStore for SqliteStore {
    async fn create_backup_version(
        &self,
        user_id: &UserId,
        algorithm: String,
        auth_data: String,
    ) -> Result<i64> {
        let user_id = user_id.to_owned();
        self.db
            .write(move |ctx| {
                Ok(ctx
                    .prepare_cached(
                        "INSERT INTO e2e_room_keys_versions (user_id, version, algorithm, auth_data)
                         VALUES (?1, (SELECT coalesce(max(version), 0) + 1
                                      FROM e2e_room_keys_versions WHERE user_id = ?1), ?2, ?3)
                         RETURNING version",
                    )?
                    .query_row(params![user_id.as_str(), algorithm, auth_data], |r| r.get(0))?)
            })
            .await
    }

    async fn backup_version(
        &self,
        user_id: &UserId,
        version: Option<i64>,
    ) -> Result<Option<BackupVersionRecord>> {
        let user_id = user_id.to_owned();
        self.db
            .read(move |c| {
                let sql = match version {
                    None => format!(
                        "SELECT {VERSION_COLUMNS} FROM e2e_room_keys_versions v
                         WHERE user_id = ?1 AND deleted = 0 AND ?2 IS NULL
                         ORDER BY version DESC LIMIT 1"
                    ),
                    Some(_) => format!(
                        "SELECT {VERSION_COLUMNS} FROM e2e_room_keys_versions v
                         WHERE user_id = ?1 AND version = ?2"
                    ),
                };
                Ok(c.prepare_cached(&sql)?
                    .query_row(params![user_id.as_str(), version], version_record)
                    .optional()?)
            })
            .await
    }

    async fn update_backup_version(
        &self,
        user_id: &UserId,
        version: i64,
        auth_data: String,
    ) -> Result<bool> {
        let user_id = user_id.to_owned();
        self.db
            .write(move |ctx| {
                let n = ctx
                    .prepare_cached(
                        "UPDATE e2e_room_keys_versions SET auth_data = ?3
                         WHERE user_id = ?1 AND version = ?2 AND deleted = 0",
                    )?
                    .execute(params![user_id.as_str(), version, auth_data])?;
                Ok(n > 0)
            })
            .await
    }

    async fn delete_backup_version(&self, user_id: &UserId, version: i64) -> Result<bool> {
        let user_id = user_id.to_owned();
        self.db
            .write(move |ctx| {
                let n = ctx
                    .prepare_cached(
                        "UPDATE e2e_room_keys_versions SET deleted = 1
                         WHERE user_id = ?1 AND version = ?2",
                    )?
                    .execute(params![user_id.as_str(), version])?;
                ctx.prepare_cached(
                    "DELETE FROM e2e_room_keys WHERE user_id = ?1 AND version = ?2",
                )?
                .execute(params![user_id.as_str(), version])?;
                Ok(n > 0)
            })
            .await
    }

    async fn put_room_keys(
        &self,
        user_id: &UserId,
        version: i64,
        keys: Vec<RoomKeyRecord>,
        replace: ReplaceRoomKey,
    ) -> Result<Option<(i64, i64)>> {
        let user_id = user_id.to_owned();
        self.db
            .write(move |ctx| {
                let user = user_id.as_str();
                if !live_version(ctx, user, version)? {
                    return Ok(None);
                }
                let mut changed = false;
                for key in &keys {
                    let existing = stored_key(ctx, user, version, key)?;
                    if existing.is_none_or(|existing| replace(&existing, key)) {
                        write_key(ctx, user, version, key)?;
                        changed = true;
                    }
                }
                finish_change(ctx, user, version, changed).map(Some)
            })
            .await
    }

    async fn room_keys(
        &self,
        user_id: &UserId,
        version: i64,
        scope: RoomKeysScope<'_>,
    ) -> Result<Vec<RoomKeyRecord>> {
        let user_id = user_id.to_owned();
        let room = scope.room_id.map(|r| r.as_str().to_owned());
        let session = scope.session_id.map(str::to_owned);
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT room_id, session_id, first_message_index, forwarded_count,
                        is_verified, key_json
                     FROM e2e_room_keys
                     WHERE user_id = ?1 AND version = ?2
                       AND (?3 IS NULL OR room_id = ?3) AND (?4 IS NULL OR session_id = ?4)
                     ORDER BY room_id, session_id",
                )?;
                let rows =
                    stmt.query_map(params![user_id.as_str(), version, room, session], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get(1)?,
                            r.get::<_, i64>(2)? as u64,
                            r.get::<_, i64>(3)? as u64,
                            r.get(4)?,
                            r.get(5)?,
                        ))
                    })?;
                let mut keys = Vec::new();
                for row in rows {
                    let (room_id, session_id, first, forwarded, is_verified, json) = row?;
                    keys.push(RoomKeyRecord {
                        room_id: room_id.try_into()?,
                        session_id,
                        first_message_index: first,
                        forwarded_count: forwarded,
                        is_verified,
                        json,
                    });
                }
                Ok(keys)
            })
            .await
    }

    async fn delete_room_keys(
        &self,
        user_id: &UserId,
        version: i64,
        scope: RoomKeysScope<'_>,
    ) -> Result<Option<(i64, i64)>> {
        let user_id = user_id.to_owned();
        let room = scope.room_id.map(|r| r.as_str().to_owned());
        let session = scope.session_id.map(str::to_owned);
        self.db
            .write(move |ctx| {
                let user = user_id.as_str();
                if !live_version(ctx, user, version)? {
                    return Ok(None);
                }
                let deleted = ctx
                    .prepare_cached(
                        "DELETE FROM e2e_room_keys WHERE user_id = ?1 AND version = ?2
                           AND (?3 IS NULL OR room_id = ?3) AND (?4 IS NULL OR session_id = ?4)",
                    )?
                    .execute(params![user, version, room, session])?;
                finish_change(ctx, user, version, deleted > 0).map(Some)
            })
            .await
    }
}

fn version_record(r: &Row<'_>) -> rusqlite::Result<BackupVersionRecord> {
    Ok(BackupVersionRecord {
        version: r.get(0)?,
        algorithm: r.get(1)?,
        auth_data: r.get(2)?,
        etag: r.get(3)?,
        deleted: r.get(4)?,
        count: r.get(5)?,
    })
}

fn live_version(c: &Connection, user: &str, version: i64) -> Result<bool> {
    Ok(c.prepare_cached(
        "SELECT 1 FROM e2e_room_keys_versions WHERE user_id = ?1 AND version = ?2 AND deleted = 0",
    )?
    .exists(params![user, version])?)
}

fn stored_key(
    c: &Connection,
    user: &str,
    version: i64,
    key: &RoomKeyRecord,
) -> Result<Option<RoomKeyRecord>> {
    Ok(c.prepare_cached(
        "SELECT first_message_index, forwarded_count, is_verified, key_json FROM e2e_room_keys
         WHERE user_id = ?1 AND version = ?2 AND room_id = ?3 AND session_id = ?4",
    )?
    .query_row(params![user, version, key.room_id.as_str(), key.session_id], |r| {
        Ok(RoomKeyRecord {
            room_id: key.room_id.clone(),
            session_id: key.session_id.clone(),
            first_message_index: r.get::<_, i64>(0)? as u64,
            forwarded_count: r.get::<_, i64>(1)? as u64,
            is_verified: r.get(2)?,
            json: r.get(3)?,
        })
    })
    .optional()?)
}

fn write_key(c: &Connection, user: &str, version: i64, key: &RoomKeyRecord) -> Result<()> {
    c.prepare_cached(
        "INSERT OR REPLACE INTO e2e_room_keys (user_id, version, room_id, session_id,
            first_message_index, forwarded_count, is_verified, key_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        user,
        version,
        key.room_id.as_str(),
        key.session_id,
        key.first_message_index as i64,
        key.forwarded_count as i64,
        key.is_verified,
        key.json
    ])?;
    Ok(())
}

/// Bump the etag if the keys changed; return `(etag, count)`.
fn finish_change(c: &Connection, user: &str, version: i64, changed: bool) -> Result<(i64, i64)> {
    if changed {
        c.prepare_cached(
            "UPDATE e2e_room_keys_versions SET etag = etag + 1 WHERE user_id = ?1 AND version = ?2",
        )?
        .execute(params![user, version])?;
    }
    Ok(c.prepare_cached(
        "SELECT etag, (SELECT count(*) FROM e2e_room_keys WHERE user_id = ?1 AND version = ?2)
         FROM e2e_room_keys_versions WHERE user_id = ?1 AND version = ?2",
    )?
    .query_row(params![user, version], |r| Ok((r.get(0)?, r.get(1)?)))?)
}
