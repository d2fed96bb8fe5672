//! Server-side key backups: versions, and the encrypted room keys in each.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{OwnedRoomId, RoomId, UserId};

#[derive(Debug, Clone)]
pub struct BackupVersionRecord {
    pub version: i64,
    pub algorithm: String,
    /// JSON object.
    pub auth_data: String,
    /// Changes whenever the keys in the backup change.
    pub etag: i64,
    /// Keys in the backup.
    pub count: i64,
    pub deleted: bool,
}

#[derive(Debug, Clone)]
pub struct RoomKeyRecord {
    pub room_id: OwnedRoomId,
    pub session_id: String,
    pub first_message_index: u64,
    pub forwarded_count: u64,
    pub is_verified: bool,
    /// The whole `KeyBackupData` object.
    pub json: String,
}

/// Which keys of a backup: all, a room's, or one session's.
#[derive(Debug, Clone, Copy)]
pub struct RoomKeysScope<'a> {
    pub room_id: Option<&'a RoomId>,
    pub session_id: Option<&'a str>,
}

/// Whether `new` should replace `existing`: the spec's rule, supplied by the service and applied
/// inside the write so that concurrent uploads cannot break it.
pub type ReplaceRoomKey = fn(existing: &RoomKeyRecord, new: &RoomKeyRecord) -> bool;

#[async_trait]
pub trait KeyBackupStore {
    /// Create a backup version, numbered after every earlier one (deleted ones included).
    async fn create_backup_version(
        &self,
        user_id: &UserId,
        algorithm: String,
        auth_data: String,
    ) -> Result<i64>;

    /// `None`: the current version (the newest not deleted). `Some(v)`: version `v`, even
    /// deleted.
    async fn backup_version(
        &self,
        user_id: &UserId,
        version: Option<i64>,
    ) -> Result<Option<BackupVersionRecord>>;

    /// Replace the `auth_data` of a version that is not deleted; `false` if there is none.
    async fn update_backup_version(
        &self,
        user_id: &UserId,
        version: i64,
        auth_data: String,
    ) -> Result<bool>;

    /// Mark a version deleted and drop its keys; `false` if it never existed.
    async fn delete_backup_version(&self, user_id: &UserId, version: i64) -> Result<bool>;

    /// Store keys where `replace` allows, bumping the etag if anything changed. Returns
    /// `(etag, count)`, or `None` if the version does not exist or is deleted.
    async fn put_room_keys(
        &self,
        user_id: &UserId,
        version: i64,
        keys: Vec<RoomKeyRecord>,
        replace: ReplaceRoomKey,
    ) -> Result<Option<(i64, i64)>>;

    async fn room_keys(
        &self,
        user_id: &UserId,
        version: i64,
        scope: RoomKeysScope<'_>,
    ) -> Result<Vec<RoomKeyRecord>>;

    /// Delete keys, bumping the etag if any went. Returns `(etag, count)`, or `None` if the
    /// version does not exist or is deleted.
    async fn delete_room_keys(
        &self,
        user_id: &UserId,
        version: i64,
        scope: RoomKeysScope<'_>,
    ) -> Result<Option<(i64, i64)>>;
}
