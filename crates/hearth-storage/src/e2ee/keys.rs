//! Device identity keys, one-time keys and fallback keys.

use std::collections::BTreeMap;

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{DeviceId, OwnedDeviceId, OwnedUserId, UserId};

use crate::{SignatureRecord, StoredCrossSigningKey};

/// A one-time or fallback key: `<algorithm>:<key_id>` and its canonical JSON.
#[derive(Debug, Clone)]
pub struct OneTimeKeyRecord {
    pub algorithm: String,
    pub key_id: String,
    pub json: String,
}

/// One `/keys/upload`, stored at once.
#[derive(Debug, Clone)]
pub struct KeysUpload {
    pub user_id: OwnedUserId,
    pub device_id: OwnedDeviceId,
    /// Canonical JSON of the device keys (without `unsigned`), when uploaded.
    pub device_keys: Option<String>,
    pub one_time_keys: Vec<OneTimeKeyRecord>,
    /// At most one per algorithm; replaces the device's fallback key of that algorithm.
    pub fallback_keys: Vec<OneTimeKeyRecord>,
}

/// What `/sync` and `/keys/upload` report about a device's one-time and fallback keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OneTimeKeysStatus {
    /// Unclaimed one-time keys per algorithm (algorithms with none are absent).
    pub counts: BTreeMap<String, u64>,
    /// Algorithms whose fallback key has not been handed out since it was uploaded.
    pub unused_fallback: Vec<String>,
}

/// Which devices of a user a key query asks for.
#[derive(Debug, Clone)]
pub struct UserKeysQuery {
    pub user_id: OwnedUserId,
    /// Empty: every device.
    pub device_ids: Vec<OwnedDeviceId>,
}

#[derive(Debug, Clone)]
pub struct StoredDeviceKeys {
    pub device_id: OwnedDeviceId,
    pub json: String,
    pub display_name: Option<String>,
}

/// A user's keys as stored, with the signatures added later that the asker may see.
#[derive(Debug, Clone)]
pub struct UserKeys {
    pub user_id: OwnedUserId,
    pub devices: Vec<StoredDeviceKeys>,
    pub cross_signing: Vec<StoredCrossSigningKey>,
    pub signatures: Vec<SignatureRecord>,
}

#[derive(Debug, Clone)]
pub struct KeyClaim {
    pub user_id: OwnedUserId,
    pub device_id: OwnedDeviceId,
    pub algorithm: String,
}

#[derive(Debug, Clone)]
pub struct ClaimedKey {
    pub user_id: OwnedUserId,
    pub device_id: OwnedDeviceId,
    pub key: OneTimeKeyRecord,
}

#[async_trait]
pub trait DeviceKeyStore {
    /// The device keys of a device, as uploaded.
    async fn device_keys(&self, user_id: &UserId, device_id: &DeviceId) -> Result<Option<String>>;

    /// Store an upload. When the device keys are new or differ from the stored ones, a
    /// device-list change for the user is recorded in the same transaction. A one-time key ID
    /// that already holds a different key fails the whole upload with `M_INVALID_PARAM`.
    /// Returns whether the device keys changed, and the device's key status afterwards.
    async fn upload_keys(&self, upload: KeysUpload) -> Result<(bool, OneTimeKeysStatus)>;

    /// Device keys of existing devices, cross-signing keys, and the later-added signatures on
    /// them made by their owner or by any of `signers`, for each queried user.
    async fn query_keys(
        &self,
        queries: Vec<UserKeysQuery>,
        signers: Vec<OwnedUserId>,
    ) -> Result<Vec<UserKeys>>;

    /// For each claim, remove and return the device's oldest one-time key of the algorithm;
    /// failing that, return its fallback key and mark it used. Claims nothing can satisfy are
    /// left out of the result.
    async fn claim_keys(&self, claims: Vec<KeyClaim>) -> Result<Vec<ClaimedKey>>;

    async fn one_time_keys_status(
        &self,
        user_id: &UserId,
        device_id: &DeviceId,
    ) -> Result<OneTimeKeysStatus>;

    /// Forget a deleted device's keys, the signatures on and by them, and its pending
    /// to-device messages; record a device-list change. Returns its stream position.
    async fn delete_device_e2ee(&self, user_id: &UserId, device_id: &DeviceId) -> Result<i64>;

    /// Forget every key, signature, message and backup of a deactivated user; record a
    /// device-list change. Returns its stream position.
    async fn delete_user_e2ee(&self, user_id: &UserId) -> Result<i64>;
}
