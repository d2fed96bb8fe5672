//! Server-side key backups (spec: "Server-side key backups"): versions, and the encrypted
//! room keys in the current one.

use std::collections::BTreeMap;

use hearth_core::{Error, Result};
use hearth_storage::{BackupVersionRecord, RoomKeyRecord, RoomKeysScope};
use ruma::{
    OwnedRoomId, RoomId, UInt, UserId,
    api::client::backup::{BackupAlgorithm, KeyBackupData},
    serde::Raw,
};

use super::{Service, keys::raw_json};
use crate::accounts::Session;

/// A backup version as `GET /room_keys/version` shows it.
#[derive(Debug)]
pub struct BackupInfo {
    pub algorithm: Raw<BackupAlgorithm>,
    pub count: UInt,
    pub etag: String,
    pub version: String,
}

/// Session keys per room, as uploaded and downloaded.
pub type RoomKeys = BTreeMap<OwnedRoomId, BTreeMap<String, Raw<KeyBackupData>>>;

impl Service {
    pub async fn create_backup_version(
        &self,
        session: &Session,
        algorithm: &Raw<BackupAlgorithm>,
    ) -> Result<String> {
        session.forbid_guest()?;
        let user = &session.user_id;
        let (algorithm, auth_data) = parse_algorithm(algorithm)?;
        let version = self.ctx.storage.create_backup_version(user, algorithm, auth_data).await?;
        Ok(version.to_string())
    }

    /// The named version, or the current one for `None`; `M_NOT_FOUND` if there is none.
    pub async fn backup_info(
        &self,
        session: &Session,
        version: Option<&str>,
    ) -> Result<BackupInfo> {
        session.forbid_guest()?;
        let user = &session.user_id;
        let number = version.map(parse_version).transpose()?;
        let record = self.ctx.storage.backup_version(user, number).await?;
        let record = record.filter(|r| !r.deleted).ok_or_else(unknown_version)?;
        info(record)
    }

    /// Spec: only `auth_data` can change; the algorithm must stay, and a `version` in the body
    /// must be the one in the path.
    pub async fn update_backup_version(
        &self,
        session: &Session,
        version: &str,
        algorithm: &Raw<BackupAlgorithm>,
    ) -> Result<()> {
        session.forbid_guest()?;
        let user = &session.user_id;
        let number = parse_version(version)?;
        let body_version = algorithm.get_field::<String>("version").ok().flatten();
        if body_version.is_some_and(|v| v != version) {
            return Err(Error::invalid_param("The version in the body differs from the path"));
        }
        let (algorithm, auth_data) = parse_algorithm(algorithm)?;
        let storage = &self.ctx.storage;
        let current = storage.backup_version(user, Some(number)).await?;
        let current = current.filter(|r| !r.deleted).ok_or_else(unknown_version)?;
        if current.algorithm != algorithm {
            return Err(Error::invalid_param("The algorithm does not match the backup's"));
        }
        if !storage.update_backup_version(user, number, auth_data).await? {
            return Err(unknown_version());
        }
        Ok(())
    }

    /// Spec: deleting a version that was already deleted succeeds.
    pub async fn delete_backup_version(&self, session: &Session, version: &str) -> Result<()> {
        session.forbid_guest()?;
        let user = &session.user_id;
        let number = parse_version(version)?;
        if !self.ctx.storage.delete_backup_version(user, number).await? {
            return Err(unknown_version());
        }
        Ok(())
    }

    /// Store session keys in the current version, keeping the better of two keys for one
    /// session. Returns the new `(etag, count)`.
    pub async fn put_room_keys(
        &self,
        session: &Session,
        version: &str,
        rooms: &RoomKeys,
    ) -> Result<(String, UInt)> {
        session.forbid_guest()?;
        let user = &session.user_id;
        let mut keys = Vec::new();
        for (room_id, sessions) in rooms {
            for (session_id, data) in sessions {
                keys.push(room_key(room_id, session_id, data)?);
            }
        }
        let number = self.current_version(user, version).await?;
        let stored = self.ctx.storage.put_room_keys(user, number, keys, replaces).await?;
        etag_and_count(stored)
    }

    /// Keys of a version (current or not): all, a room's, or one session's.
    pub async fn room_keys(
        &self,
        session: &Session,
        version: &str,
        scope: RoomKeysScope<'_>,
    ) -> Result<RoomKeys> {
        session.forbid_guest()?;
        let user = &session.user_id;
        let number = self.live_version(user, version).await?;
        let mut rooms = RoomKeys::new();
        for key in self.ctx.storage.room_keys(user, number, scope).await? {
            let data = Raw::from_json(raw_json(key.json)?);
            rooms.entry(key.room_id).or_default().insert(key.session_id, data);
        }
        Ok(rooms)
    }

    /// One session's key; `M_NOT_FOUND` if the backup holds none.
    pub async fn room_key(
        &self,
        session: &Session,
        version: &str,
        room_id: &RoomId,
        session_id: &str,
    ) -> Result<Raw<KeyBackupData>> {
        let scope = RoomKeysScope { room_id: Some(room_id), session_id: Some(session_id) };
        let mut rooms = self.room_keys(session, version, scope).await?;
        let key = rooms.remove(room_id).and_then(|mut sessions| sessions.remove(session_id));
        key.ok_or_else(|| Error::not_found("No key for this session in the backup"))
    }

    pub async fn delete_room_keys(
        &self,
        session: &Session,
        version: &str,
        scope: RoomKeysScope<'_>,
    ) -> Result<(String, UInt)> {
        session.forbid_guest()?;
        let user = &session.user_id;
        let number = self.live_version(user, version).await?;
        etag_and_count(self.ctx.storage.delete_room_keys(user, number, scope).await?)
    }

    /// Keys are only written to the current version: `M_WRONG_ROOM_KEYS_VERSION` naming it
    /// otherwise, `M_NOT_FOUND` when the user has no backup at all.
    async fn current_version(&self, user: &UserId, version: &str) -> Result<i64> {
        let current = self.ctx.storage.backup_version(user, None).await?;
        let current = current.ok_or_else(unknown_version)?;
        if version.parse::<i64>().ok() != Some(current.version) {
            return Err(Error::wrong_room_keys_version(current.version.to_string()));
        }
        Ok(current.version)
    }

    async fn live_version(&self, user: &UserId, version: &str) -> Result<i64> {
        let number = parse_version(version)?;
        let record = self.ctx.storage.backup_version(user, Some(number)).await?;
        record.filter(|r| !r.deleted).map(|r| r.version).ok_or_else(unknown_version)
    }
}

/// Spec: keep the key with `is_verified`, then the lower `first_message_index`, then the lower
/// `forwarded_count`; on a tie the stored key stays.
fn replaces(existing: &RoomKeyRecord, new: &RoomKeyRecord) -> bool {
    if existing.is_verified != new.is_verified {
        return new.is_verified;
    }
    if existing.first_message_index != new.first_message_index {
        return new.first_message_index < existing.first_message_index;
    }
    new.forwarded_count < existing.forwarded_count
}

fn room_key(
    room_id: &RoomId,
    session_id: &str,
    data: &Raw<KeyBackupData>,
) -> Result<RoomKeyRecord> {
    let parsed: KeyBackupData = data.deserialize().map_err(|e| {
        Error::bad_json(format!("Invalid key data for session {session_id} in {room_id}: {e}"))
    })?;
    Ok(RoomKeyRecord {
        room_id: room_id.to_owned(),
        session_id: session_id.to_owned(),
        first_message_index: parsed.first_message_index.into(),
        forwarded_count: parsed.forwarded_count.into(),
        is_verified: parsed.is_verified,
        json: data.json().get().to_owned(),
    })
}

/// The algorithm name and `auth_data` object of a backup version request.
fn parse_algorithm(raw: &Raw<BackupAlgorithm>) -> Result<(String, String)> {
    let algorithm: BackupAlgorithm =
        raw.deserialize().map_err(|e| Error::bad_json(format!("Invalid backup algorithm: {e}")))?;
    let auth_data = serde_json::to_string(&*algorithm.auth_data()).map_err(Error::internal)?;
    Ok((algorithm.algorithm().to_owned(), auth_data))
}

fn info(record: BackupVersionRecord) -> Result<BackupInfo> {
    let auth_data: serde_json::Value =
        serde_json::from_str(&record.auth_data).map_err(Error::internal)?;
    let algorithm = serde_json::json!({ "algorithm": record.algorithm, "auth_data": auth_data });
    let algorithm = serde_json::value::to_raw_value(&algorithm).map_err(Error::internal)?;
    Ok(BackupInfo {
        algorithm: Raw::from_json(algorithm),
        count: UInt::new_saturating(record.count as u64),
        etag: record.etag.to_string(),
        version: record.version.to_string(),
    })
}

fn etag_and_count(stored: Option<(i64, i64)>) -> Result<(String, UInt)> {
    let (etag, count) = stored.ok_or_else(unknown_version)?;
    Ok((etag.to_string(), UInt::new_saturating(count as u64)))
}

/// Versions are numbers; anything else names no backup.
fn parse_version(version: &str) -> Result<i64> {
    version.parse().map_err(|_| unknown_version())
}

fn unknown_version() -> Error {
    Error::not_found("Unknown backup version")
}
