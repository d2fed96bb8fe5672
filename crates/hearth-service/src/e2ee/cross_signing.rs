//! Cross-signing (spec: "Cross-signing"): uploading a user's master, self-signing and
//! user-signing keys, and signatures made with them.

use std::collections::BTreeMap;

use hearth_core::{Error, Result};
use hearth_storage::{
    CrossSigningKeyType, DeviceListChange, SignatureRecord, StoredCrossSigningKey, UserKeys,
    UserKeysQuery,
};
use ruma::{
    CanonicalJsonObject, DeviceId, OwnedUserId, SigningKeyAlgorithm, UserId,
    api::client::{
        keys::upload_signatures::v3::{Failure, SignedKeys},
        uiaa::AuthData,
    },
    encryption::{CrossSigningKey, KeyUsage},
    serde::Raw,
};
use serde_json::value::RawValue;

use super::{Service, keys::ed25519_of, signing};
use crate::accounts::Session;

/// A `/keys/device_signing/upload` request.
pub struct SigningKeysUpload<'a> {
    pub auth: Option<&'a AuthData>,
    pub master_key: Option<&'a Raw<CrossSigningKey>>,
    pub self_signing_key: Option<&'a Raw<CrossSigningKey>>,
    pub user_signing_key: Option<&'a Raw<CrossSigningKey>>,
}

/// A validated cross-signing key from a request.
struct ParsedKey {
    stored: StoredCrossSigningKey,
    object: CanonicalJsonObject,
}

impl Service {
    /// Store the caller's cross-signing keys. UIA is needed unless the user has no master key
    /// yet or the request holds no new key (so that a retried upload is idempotent).
    pub async fn upload_signing_keys(
        &self,
        session: &Session,
        upload: SigningKeysUpload<'_>,
    ) -> Result<()> {
        session.forbid_guest()?;
        let user = &session.user_id;
        let new = [
            (upload.master_key, CrossSigningKeyType::Master),
            (upload.self_signing_key, CrossSigningKeyType::SelfSigning),
            (upload.user_signing_key, CrossSigningKeyType::UserSigning),
        ]
        .into_iter()
        .filter_map(|(raw, key_type)| raw.map(|raw| parse_key(user, raw, key_type)))
        .collect::<Result<Vec<_>>>()?;
        let stored = self.ctx.storage.cross_signing_keys(user).await?;
        let master = new
            .iter()
            .map(|k| &k.stored)
            .chain(&stored)
            .find(|k| k.key_type == CrossSigningKeyType::Master)
            .ok_or_else(|| Error::missing_param("No master signing key is available"))?;
        let master_id = format!("ed25519:{}", master.public_key);
        for key in new.iter().filter(|k| k.stored.key_type != CrossSigningKeyType::Master) {
            signing::verify(&key.object, user, &master_id, &master.public_key)?;
        }
        for key in &new {
            if self.ctx.storage.has_device(user, &key.stored.public_key).await? {
                return Err(Error::forbidden("A device of this user has the key's ID"));
            }
        }
        let is_stored = |k: &ParsedKey| {
            stored.iter().any(|s| s.key_type == k.stored.key_type && s.json == k.stored.json)
        };
        if new.iter().all(is_stored) {
            return Ok(());
        }
        if stored.iter().any(|k| k.key_type == CrossSigningKeyType::Master) {
            let services = self.services.upgrade().ok_or_else(|| Error::internal("shut down"))?;
            services.uiaa.check_user(user, upload.auth, "keys/device_signing/upload").await?;
        }
        self.store_signing_keys(user, new).await
    }

    /// Refuse a device ID a client chose (login, dehydrated device) that is one of the user's
    /// cross-signing public keys (spec: "servers MUST not allow devices to have the same IDs
    /// as cross-signing keys"); the other way round is refused on upload above.
    pub async fn check_device_id_free(&self, user: &UserId, device_id: &DeviceId) -> Result<()> {
        let keys = self.ctx.storage.cross_signing_keys(user).await?;
        if keys.iter().any(|k| k.public_key == device_id.as_str()) {
            return Err(Error::invalid_param(
                "The device ID is one of the user's cross-signing keys",
            ));
        }
        Ok(())
    }

    async fn store_signing_keys(&self, user: &UserId, new: Vec<ParsedKey>) -> Result<()> {
        let mut changes = Vec::new();
        // Master and self-signing keys are seen by everyone tracking the user's devices; the
        // user-signing key only by the user (as Synapse does).
        if new.iter().any(|k| k.stored.key_type != CrossSigningKeyType::UserSigning) {
            changes.push(DeviceListChange::public(user));
        }
        if new.iter().any(|k| k.stored.key_type == CrossSigningKeyType::UserSigning) {
            changes.push(DeviceListChange::only_for(user, user));
        }
        let keys = new.into_iter().map(|k| k.stored).collect();
        self.ctx.storage.put_cross_signing_keys(user, keys, changes).await?;
        self.notify_device_list(user).await
    }

    /// `/keys/signatures/upload`: each signed key is checked on its own; those that fail are
    /// reported in the returned `failures` map and the others are stored.
    pub async fn upload_signatures(
        &self,
        session: &Session,
        signed_keys: &BTreeMap<OwnedUserId, SignedKeys>,
    ) -> Result<BTreeMap<OwnedUserId, BTreeMap<String, Failure>>> {
        session.forbid_guest()?;
        let user = &session.user_id;
        let own = self.own_keys(user).await?;
        let mut signatures = Vec::new();
        let mut changes = Vec::new();
        let mut failures: BTreeMap<OwnedUserId, BTreeMap<String, Failure>> = BTreeMap::new();
        for (target, keys) in signed_keys {
            let target_master = if target == user {
                None
            } else {
                self.ctx
                    .storage
                    .cross_signing_keys(target)
                    .await?
                    .into_iter()
                    .find(|k| k.key_type == CrossSigningKeyType::Master)
            };
            for (key_id, raw) in keys {
                let checked = if target == user {
                    self_signature(&own, key_id, raw)
                } else {
                    other_signature(&own, target, target_master.as_ref(), key_id, raw)
                };
                match checked {
                    Ok(record) => {
                        let change = match target == user {
                            true => DeviceListChange::public(user),
                            false => DeviceListChange::only_for(target, user),
                        };
                        if !changes.contains(&change) {
                            changes.push(change);
                        }
                        signatures.extend(record);
                    }
                    Err(e) => {
                        failures
                            .entry(target.clone())
                            .or_default()
                            .insert(key_id.into(), failure(e)?);
                    }
                }
            }
        }
        if !signatures.is_empty() {
            self.ctx.storage.add_signatures(signatures, changes).await?;
            self.notify_device_list(user).await?;
        }
        Ok(failures)
    }

    /// The caller's own device and cross-signing keys.
    async fn own_keys(&self, user: &UserId) -> Result<UserKeys> {
        let query = UserKeysQuery { user_id: user.to_owned(), device_ids: Vec::new() };
        let mut found = self.ctx.storage.query_keys(vec![query], Vec::new()).await?;
        found.pop().ok_or_else(|| Error::internal("key query answered nothing"))
    }
}

/// A cross-signing key must belong to `user`, have the usage of its slot, and hold exactly one
/// ed25519 key whose ID is the key itself.
fn parse_key(
    user: &UserId,
    raw: &Raw<CrossSigningKey>,
    key_type: CrossSigningKeyType,
) -> Result<ParsedKey> {
    let name = key_type.as_str();
    let key: CrossSigningKey =
        raw.deserialize().map_err(|e| Error::bad_json(format!("Invalid {name} key: {e}")))?;
    if key.user_id != user {
        return Err(Error::invalid_param(format!("The {name} key must belong to {user}")));
    }
    if !key.usage.contains(&KeyUsage::from(name)) {
        return Err(Error::invalid_param(format!("The {name} key must have usage {name}")));
    }
    let mut keys = key.keys.iter();
    let (Some((id, public_key)), None) = (keys.next(), keys.next()) else {
        return Err(Error::invalid_param(format!("The {name} key must hold exactly one key")));
    };
    if id.algorithm() != SigningKeyAlgorithm::Ed25519
        || id.key_name().as_str() != public_key
        || !signing::is_public_key(public_key)
    {
        return Err(Error::invalid_param(format!("Malformed {name} key {id}")));
    }
    let mut object = signing::canonical_object(raw.json(), name)?;
    object.remove("unsigned");
    let json = signing::to_canonical_string(&object);
    Ok(ParsedKey {
        stored: StoredCrossSigningKey { key_type, public_key: public_key.clone(), json },
        object,
    })
}

/// A signature by the user on their own keys: a device signed by the self-signing key, or the
/// master key signed by one of their devices.
fn self_signature(own: &UserKeys, key_id: &str, raw: &RawValue) -> Result<Vec<SignatureRecord>> {
    let user = &own.user_id;
    let object = signing::canonical_object(raw, "signed key")?;
    if let Some(master) =
        own_key(own, CrossSigningKeyType::Master).filter(|m| m.public_key == key_id)
    {
        same_key(&object, &master.json)?;
        return master_signed_by_devices(own, master, &object);
    }
    let device = own
        .devices
        .iter()
        .find(|d| d.device_id.as_str() == key_id)
        .ok_or_else(|| Error::not_found("Unknown device or key"))?;
    let ssk = own_key(own, CrossSigningKeyType::SelfSigning)
        .ok_or_else(|| Error::not_found("No self-signing key is uploaded"))?;
    same_key(&object, &device.json)?;
    let signer_key_id = format!("ed25519:{}", ssk.public_key);
    signing::verify(&object, user, &signer_key_id, &ssk.public_key)?;
    Ok(vec![record(user, key_id, user, signer_key_id, &object)])
}

/// Signatures of the master key by the user's devices (each must verify; at least one).
fn master_signed_by_devices(
    own: &UserKeys,
    master: &StoredCrossSigningKey,
    object: &CanonicalJsonObject,
) -> Result<Vec<SignatureRecord>> {
    let user = &own.user_id;
    let mut records = Vec::new();
    for device in &own.devices {
        let signer_key_id = format!("ed25519:{}", device.device_id);
        if signing::signature(object, user, &signer_key_id).is_none() {
            continue;
        }
        let device_key = ed25519_of(&device.json, &device.device_id)?;
        signing::verify(object, user, &signer_key_id, &device_key)?;
        records.push(record(user, &master.public_key, user, signer_key_id, object));
    }
    if records.is_empty() {
        return Err(Error::invalid_signature("No signature by one of your devices"));
    }
    Ok(records)
}

/// A signature of another user's master key by the caller's user-signing key.
fn other_signature(
    own: &UserKeys,
    target: &UserId,
    target_master: Option<&StoredCrossSigningKey>,
    key_id: &str,
    raw: &RawValue,
) -> Result<Vec<SignatureRecord>> {
    let master = target_master
        .filter(|m| m.public_key == key_id)
        .ok_or_else(|| Error::not_found("Only another user's current master key can be signed"))?;
    let usk = own_key(own, CrossSigningKeyType::UserSigning)
        .ok_or_else(|| Error::not_found("No user-signing key is uploaded"))?;
    let object = signing::canonical_object(raw, "signed key")?;
    same_key(&object, &master.json)?;
    let signer_key_id = format!("ed25519:{}", usk.public_key);
    signing::verify(&object, &own.user_id, &signer_key_id, &usk.public_key)?;
    Ok(vec![record(target, key_id, &own.user_id, signer_key_id, &object)])
}

fn own_key(own: &UserKeys, key_type: CrossSigningKeyType) -> Option<&StoredCrossSigningKey> {
    own.cross_signing.iter().find(|k| k.key_type == key_type)
}

/// Spec: "The signed JSON object must match the key previously uploaded or retrieved for the
/// given key ID, with the exception of the `signatures` property".
fn same_key(object: &CanonicalJsonObject, stored_json: &str) -> Result<()> {
    let stored: CanonicalJsonObject = serde_json::from_str(stored_json).map_err(Error::internal)?;
    if signing::signed_content(object)? != signing::signed_content(&stored)? {
        return Err(Error::invalid_signature("The signed object does not match the stored key"));
    }
    Ok(())
}

fn record(
    target: &UserId,
    target_key_id: &str,
    signer: &UserId,
    signer_key_id: String,
    object: &CanonicalJsonObject,
) -> SignatureRecord {
    let signature = signing::signature(object, signer, &signer_key_id).unwrap_or_default();
    SignatureRecord {
        target_user_id: target.to_owned(),
        target_key_id: target_key_id.to_owned(),
        signer_user_id: signer.to_owned(),
        signature: signature.to_owned(),
        signer_key_id,
    }
}

/// A per-key entry of `failures`; infrastructure errors fail the whole request instead.
fn failure(e: Error) -> Result<Failure> {
    let Error::Matrix { kind, message, .. } = &e else { return Err(e) };
    serde_json::from_value(
        serde_json::json!({"errcode": kind.errcode().to_string(), "error": message}),
    )
    .map_err(Error::internal)
}
