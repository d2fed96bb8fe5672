//! Device keys, one-time keys and fallback keys: upload, query, claim (spec: "Key management
//! API", "One-time and fallback keys").

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use hearth_core::{Error, Result};
use hearth_storage::{
    KeyClaim, KeysUpload, OneTimeKeyRecord, SignatureRecord, UserKeys, UserKeysQuery,
};
use ruma::{
    CanonicalJsonValue, DeviceId, DeviceKeyAlgorithm, DeviceKeyId, OneTimeKeyAlgorithm,
    OneTimeKeyId, OwnedDeviceId, OwnedOneTimeKeyId, OwnedUserId, UInt, UserId,
    api::client::keys::claim_keys::v3::OneTimeKeys,
    encryption::{CrossSigningKey, DeviceKeys, OneTimeKey},
    serde::Raw,
};
use serde_json::{Map, Value as JsonValue, value::RawValue};

use super::{Service, signing};

/// What `/sync` reports about a device's keys (`device_one_time_keys_count`,
/// `device_unused_fallback_key_types`) and `/keys/upload` answers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceKeyCounts {
    pub one_time_key_counts: BTreeMap<OneTimeKeyAlgorithm, UInt>,
    pub unused_fallback_key_types: Vec<OneTimeKeyAlgorithm>,
}

#[derive(Debug, Default)]
pub struct KeysQueryResult {
    pub failures: BTreeMap<String, JsonValue>,
    pub device_keys: BTreeMap<OwnedUserId, BTreeMap<OwnedDeviceId, Raw<DeviceKeys>>>,
    pub master_keys: BTreeMap<OwnedUserId, Raw<CrossSigningKey>>,
    pub self_signing_keys: BTreeMap<OwnedUserId, Raw<CrossSigningKey>>,
    pub user_signing_keys: BTreeMap<OwnedUserId, Raw<CrossSigningKey>>,
}

#[derive(Debug, Default)]
pub struct KeysClaimResult {
    pub failures: BTreeMap<String, JsonValue>,
    pub one_time_keys: BTreeMap<OwnedUserId, OneTimeKeys>,
}

/// The keys a client uploads for one device.
pub struct UploadedKeys<'a> {
    pub device_keys: Option<&'a Raw<DeviceKeys>>,
    pub one_time_keys: &'a BTreeMap<OwnedOneTimeKeyId, Raw<OneTimeKey>>,
    pub fallback_keys: &'a BTreeMap<OwnedOneTimeKeyId, Raw<OneTimeKey>>,
}

impl Service {
    /// `/keys/upload` for the caller's device. Everything is validated before anything is
    /// stored: a bad key fails the whole upload and leaves the stored keys as they were.
    pub async fn upload_keys(
        &self,
        user: &UserId,
        device: &DeviceId,
        keys: UploadedKeys<'_>,
    ) -> Result<DeviceKeyCounts> {
        let stored = self.ctx.storage.device_keys(user, device).await?;
        let upload = validate_upload(user, device, stored.as_deref(), keys)?;
        let (changed, status) = self.ctx.storage.upload_keys(upload).await?;
        if changed {
            self.notify_device_list(user).await?;
        }
        Ok(counts(status))
    }

    /// One-time key counts and unused fallback key types of a device, for `/sync`.
    pub async fn one_time_keys_status(
        &self,
        user: &UserId,
        device: &DeviceId,
    ) -> Result<DeviceKeyCounts> {
        Ok(counts(self.ctx.storage.one_time_keys_status(user, device).await?))
    }

    /// `/keys/query` by `requester`. Remote users need federation, which does not exist yet:
    /// their servers are reported in `failures`.
    pub async fn query_keys(
        &self,
        requester: &UserId,
        device_keys: BTreeMap<OwnedUserId, Vec<OwnedDeviceId>>,
        _timeout: Option<Duration>,
    ) -> Result<KeysQueryResult> {
        let mut result = KeysQueryResult::default();
        let mut queries = Vec::new();
        for (user_id, device_ids) in device_keys {
            if self.is_local(&user_id) {
                queries.push(UserKeysQuery { user_id, device_ids });
            } else {
                // TODO(federation): ask the user's server, waiting at most `timeout`.
                result.failures.insert(user_id.server_name().to_string(), unreachable());
            }
        }
        let found = self.ctx.storage.query_keys(queries, vec![requester.to_owned()]).await?;
        for keys in found {
            add_user_keys(&mut result, requester, keys)?;
        }
        Ok(result)
    }

    /// `/keys/claim`: the oldest one-time key of each named device, or its fallback key.
    pub async fn claim_keys(
        &self,
        one_time_keys: BTreeMap<OwnedUserId, BTreeMap<OwnedDeviceId, OneTimeKeyAlgorithm>>,
        _timeout: Option<Duration>,
    ) -> Result<KeysClaimResult> {
        let mut result = KeysClaimResult::default();
        let mut claims = Vec::new();
        for (user_id, devices) in one_time_keys {
            if !self.is_local(&user_id) {
                // TODO(federation): claim from the user's server, waiting at most `timeout`.
                result.failures.insert(user_id.server_name().to_string(), unreachable());
                continue;
            }
            for (device_id, algorithm) in devices {
                let algorithm = algorithm.to_string();
                claims.push(KeyClaim { user_id: user_id.clone(), device_id, algorithm });
            }
        }
        for claimed in self.ctx.storage.claim_keys(claims).await? {
            let key_id =
                OneTimeKeyId::parse(format!("{}:{}", claimed.key.algorithm, claimed.key.key_id))
                    .map_err(Error::internal)?;
            result
                .one_time_keys
                .entry(claimed.user_id)
                .or_default()
                .entry(claimed.device_id)
                .or_default()
                .insert(key_id, Raw::from_json(raw_json(claimed.key.json)?));
        }
        Ok(result)
    }

    pub(super) fn is_local(&self, user: &UserId) -> bool {
        user.server_name() == self.ctx.config.server_name
    }
}

/// What `failures` says about a server that federation cannot reach yet.
fn unreachable() -> JsonValue {
    serde_json::json!({"status": 503, "message": "Federation is not available on this server"})
}

fn counts(status: hearth_storage::OneTimeKeysStatus) -> DeviceKeyCounts {
    let mut one_time_key_counts: BTreeMap<OneTimeKeyAlgorithm, UInt> = status
        .counts
        .into_iter()
        .map(|(alg, n)| (alg.as_str().into(), UInt::new_saturating(n)))
        .collect();
    // Like Synapse: clients decide to top up one-time keys from this count, so it is always
    // there, even at zero.
    one_time_key_counts.entry(OneTimeKeyAlgorithm::SignedCurve25519).or_insert(UInt::MIN);
    let unused_fallback_key_types =
        status.unused_fallback.iter().map(|alg| alg.as_str().into()).collect();
    DeviceKeyCounts { one_time_key_counts, unused_fallback_key_types }
}

/// Validate an upload for `device`, whose stored device keys are `stored` (`None` when it has
/// none, or when the device is being created).
pub(super) fn validate_upload(
    user: &UserId,
    device: &DeviceId,
    stored: Option<&str>,
    keys: UploadedKeys<'_>,
) -> Result<KeysUpload> {
    let stored_ed25519 = stored.map(|json| ed25519_of(json, device)).transpose()?;
    let (device_keys, signing_key) = match keys.device_keys {
        Some(raw) => {
            let (json, ed25519) = validate_device_keys(user, device, raw)?;
            if let Some(stored) = stored {
                check_identity_unchanged(stored, &json)?;
            }
            (Some(json), Some(ed25519))
        }
        None => (None, stored_ed25519),
    };
    let signing_key = signing_key.as_deref();
    let one_time_keys = keys
        .one_time_keys
        .iter()
        .map(|(id, raw)| validate_one_time_key(user, device, signing_key, id, raw))
        .collect::<Result<Vec<_>>>()?;
    let fallback_keys = keys
        .fallback_keys
        .iter()
        .map(|(id, raw)| validate_one_time_key(user, device, signing_key, id, raw))
        .collect::<Result<Vec<_>>>()?;
    let algorithms: BTreeSet<_> = fallback_keys.iter().map(|k| &k.algorithm).collect();
    if algorithms.len() < fallback_keys.len() {
        return Err(Error::invalid_param("At most one fallback key per algorithm"));
    }
    Ok(KeysUpload {
        user_id: user.to_owned(),
        device_id: device.to_owned(),
        device_keys,
        one_time_keys,
        fallback_keys,
    })
}

/// Device keys must be the caller's, include the device's ed25519 key and be signed by it.
/// Returns their canonical JSON (without `unsigned`) and the ed25519 key.
fn validate_device_keys(
    user: &UserId,
    device: &DeviceId,
    raw: &Raw<DeviceKeys>,
) -> Result<(String, String)> {
    let keys: DeviceKeys =
        raw.deserialize().map_err(|e| Error::bad_json(format!("Invalid device_keys: {e}")))?;
    if keys.user_id != user || keys.device_id != device {
        return Err(Error::invalid_param(
            "device_keys must be for the user and device of the access token",
        ));
    }
    for (id, key) in &keys.keys {
        let known =
            matches!(id.algorithm(), DeviceKeyAlgorithm::Ed25519 | DeviceKeyAlgorithm::Curve25519);
        if known && !signing::is_public_key(key) {
            return Err(Error::invalid_param(format!("Malformed device key {id}")));
        }
    }
    let ed25519_id = DeviceKeyId::from_parts(DeviceKeyAlgorithm::Ed25519, device);
    let ed25519 = keys
        .keys
        .get(&ed25519_id)
        .ok_or_else(|| Error::invalid_param(format!("device_keys must include {ed25519_id}")))?;
    let mut object = signing::canonical_object(raw.json(), "device_keys")?;
    object.remove("unsigned");
    signing::verify(&object, user, ed25519_id.as_str(), ed25519)?;
    Ok((signing::to_canonical_string(&object), ed25519.clone()))
}

/// A device's identity keys never change: a client with new keys is a new device.
fn check_identity_unchanged(stored: &str, new: &str) -> Result<()> {
    let parse = |json: &str| {
        serde_json::from_str::<DeviceKeys>(json).map(|k| k.keys).map_err(Error::internal)
    };
    if parse(stored)? != parse(new)? {
        return Err(Error::invalid_param(
            "This device already has different identity keys; log in as a new device instead",
        ));
    }
    Ok(())
}

/// The ed25519 key of stored device keys.
pub(super) fn ed25519_of(json: &str, device: &DeviceId) -> Result<String> {
    let keys: DeviceKeys = serde_json::from_str(json).map_err(Error::internal)?;
    let id = DeviceKeyId::from_parts(DeviceKeyAlgorithm::Ed25519, device);
    keys.keys.get(&id).cloned().ok_or_else(|| Error::internal("stored device keys lack ed25519"))
}

/// A `signed_curve25519` key must be a 32-byte key signed by the device; keys of other
/// algorithms are kept as given (the spec defines no other format).
fn validate_one_time_key(
    user: &UserId,
    device: &DeviceId,
    signing_key: Option<&str>,
    id: &OneTimeKeyId,
    raw: &Raw<OneTimeKey>,
) -> Result<OneTimeKeyRecord> {
    let bad = |e: String| Error::bad_json(format!("Invalid one-time key {id}: {e}"));
    let key: OneTimeKey = raw.deserialize().map_err(|e| bad(e.to_string()))?;
    let value: CanonicalJsonValue =
        serde_json::from_str(raw.json().get()).map_err(|e| bad(e.to_string()))?;
    if id.algorithm() == OneTimeKeyAlgorithm::SignedCurve25519 {
        let (OneTimeKey::SignedKey(signed), CanonicalJsonValue::Object(object)) = (&key, &value)
        else {
            return Err(bad("a signed key object is required".into()));
        };
        if signed.key.as_bytes().len() != 32 {
            return Err(Error::invalid_param(format!("Malformed one-time key {id}")));
        }
        let signing_key = signing_key.ok_or_else(|| {
            Error::invalid_param("Upload the device keys before signed one-time keys")
        })?;
        signing::verify(object, user, &format!("ed25519:{device}"), signing_key)?;
    }
    Ok(OneTimeKeyRecord {
        algorithm: id.algorithm().to_string(),
        key_id: id.key_name().to_string(),
        json: serde_json::to_string(&value).map_err(Error::internal)?,
    })
}

fn add_user_keys(result: &mut KeysQueryResult, requester: &UserId, keys: UserKeys) -> Result<()> {
    let user = keys.user_id;
    let devices = result.device_keys.entry(user.clone()).or_default();
    for device in keys.devices {
        // Synapse always sends `unsigned`, the display name in it when the device has one.
        let unsigned = Some(device.display_name.as_deref());
        let json =
            with_signatures(&device.json, device.device_id.as_str(), &keys.signatures, unsigned)?;
        devices.insert(device.device_id, Raw::from_json(json));
    }
    for key in keys.cross_signing {
        let json =
            Raw::from_json(with_signatures(&key.json, &key.public_key, &keys.signatures, None)?);
        let map = match key.key_type {
            hearth_storage::CrossSigningKeyType::Master => &mut result.master_keys,
            hearth_storage::CrossSigningKeyType::SelfSigning => &mut result.self_signing_keys,
            // Spec: a user-signing key is only visible to the user it belongs to.
            hearth_storage::CrossSigningKeyType::UserSigning if user == requester => {
                &mut result.user_signing_keys
            }
            hearth_storage::CrossSigningKeyType::UserSigning => continue,
        };
        map.insert(user.clone(), json);
    }
    Ok(())
}

/// Stored key JSON with the later-added signatures on `target_key_id` merged in, and for a
/// device (`unsigned` is `Some`) an `unsigned` object with its display name if it has one.
pub(super) fn with_signatures(
    json: &str,
    target_key_id: &str,
    signatures: &[SignatureRecord],
    unsigned: Option<Option<&str>>,
) -> Result<Box<RawValue>> {
    let mut object: Map<String, JsonValue> = serde_json::from_str(json).map_err(Error::internal)?;
    for s in signatures.iter().filter(|s| s.target_key_id == target_key_id) {
        let all = object.entry("signatures").or_insert_with(|| JsonValue::Object(Map::new()));
        if let JsonValue::Object(all) = all {
            let by_signer = all
                .entry(s.signer_user_id.as_str())
                .or_insert_with(|| JsonValue::Object(Map::new()));
            if let JsonValue::Object(by_signer) = by_signer {
                by_signer.insert(s.signer_key_id.clone(), JsonValue::String(s.signature.clone()));
            }
        }
    }
    match unsigned {
        Some(Some(name)) => {
            object.insert("unsigned".into(), serde_json::json!({ "device_display_name": name }))
        }
        Some(None) => object.insert("unsigned".into(), serde_json::json!({})),
        None => None,
    };
    serde_json::value::to_raw_value(&object).map_err(Error::internal)
}

pub(super) fn raw_json(json: String) -> Result<Box<RawValue>> {
    RawValue::from_string(json).map_err(Error::internal)
}
