//! Device, one-time and fallback keys in SQLite.

use async_trait::async_trait;
use hearth_core::{Error, Result};
use ruma::{DeviceId, UserId};
use rusqlite::{Connection, OptionalExtension, params};

use super::{cross_signing, device_lists};
use crate::{
    ClaimedKey, DeviceKeyStore, DeviceListChange, KeyClaim, KeysUpload, OneTimeKeyRecord,
    OneTimeKeysStatus, SignatureRecord, StoredDeviceKeys, UserKeys, UserKeysQuery,
    sqlite::{SqliteStore, WriteCtx},
};

#[async_trait]
impl DeviceKeyStore for SqliteStore {
    async fn device_keys(&self, user_id: &UserId, device_id: &DeviceId) -> Result<Option<String>> {
        let (user_id, device_id) = (user_id.to_owned(), device_id.to_owned());
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT key_json FROM e2e_device_keys WHERE user_id = ?1 AND device_id = ?2",
                )?;
                Ok(stmt
                    .query_row([user_id.as_str(), device_id.as_str()], |r| r.get(0))
                    .optional()?)
            })
            .await
    }

    async fn upload_keys(&self, upload: KeysUpload) -> Result<(bool, OneTimeKeysStatus)> {
        self.db
            .write(move |ctx| {
                let changed = store_upload(ctx, &upload)?;
                Ok((changed, status(ctx, upload.user_id.as_str(), upload.device_id.as_str())?))
            })
            .await
    }

    async fn query_keys(
        &self,
        queries: Vec<UserKeysQuery>,
        signers: Vec<ruma::OwnedUserId>,
    ) -> Result<Vec<UserKeys>> {
        self.db
            .read(move |c| {
                let mut result = Vec::with_capacity(queries.len());
                for q in queries {
                    let devices = if q.device_ids.is_empty() {
                        device_keys_of(c, q.user_id.as_str(), None)?
                    } else {
                        let mut devices = Vec::new();
                        for device_id in &q.device_ids {
                            devices.extend(device_keys_of(
                                c,
                                q.user_id.as_str(),
                                Some(device_id.as_str()),
                            )?);
                        }
                        devices
                    };
                    let cross_signing = cross_signing::keys_of(c, q.user_id.as_str())?;
                    let mut signatures = signatures_on(c, q.user_id.as_str())?;
                    signatures.retain(|s| {
                        s.signer_user_id == q.user_id || signers.contains(&s.signer_user_id)
                    });
                    result.push(UserKeys {
                        user_id: q.user_id,
                        devices,
                        cross_signing,
                        signatures,
                    });
                }
                Ok(result)
            })
            .await
    }

    async fn claim_keys(&self, claims: Vec<KeyClaim>) -> Result<Vec<ClaimedKey>> {
        self.db
            .write(move |ctx| {
                let mut claimed = Vec::new();
                for claim in claims {
                    if let Some(key) = claim_one(ctx, &claim)? {
                        claimed.push(ClaimedKey {
                            user_id: claim.user_id,
                            device_id: claim.device_id,
                            key,
                        });
                    }
                }
                Ok(claimed)
            })
            .await
    }

    async fn one_time_keys_status(
        &self,
        user_id: &UserId,
        device_id: &DeviceId,
    ) -> Result<OneTimeKeysStatus> {
        let (user_id, device_id) = (user_id.to_owned(), device_id.to_owned());
        self.db.read(move |c| status(c, user_id.as_str(), device_id.as_str())).await
    }

    async fn delete_device_e2ee(&self, user_id: &UserId, device_id: &DeviceId) -> Result<i64> {
        let (user_id, device_id) = (user_id.to_owned(), device_id.to_owned());
        self.db
            .write(move |ctx| {
                delete_device_rows(ctx, user_id.as_str(), device_id.as_str())?;
                device_lists::record(ctx, &[DeviceListChange::public(&user_id)])
            })
            .await
    }

    async fn delete_user_e2ee(&self, user_id: &UserId) -> Result<i64> {
        let user_id = user_id.to_owned();
        self.db
            .write(move |ctx| {
                for table in [
                    "e2e_device_keys",
                    "e2e_one_time_keys",
                    "e2e_fallback_keys",
                    "e2e_cross_signing_keys",
                    "e2e_to_device",
                    "e2e_to_device_txns",
                    "e2e_room_keys",
                    "e2e_room_keys_versions",
                    "e2e_dehydrated_devices",
                ] {
                    ctx.execute(
                        &format!("DELETE FROM {table} WHERE user_id = ?1"),
                        [user_id.as_str()],
                    )?;
                }
                ctx.execute(
                    "DELETE FROM e2e_signatures WHERE target_user_id = ?1 OR signer_user_id = ?1",
                    [user_id.as_str()],
                )?;
                device_lists::record(ctx, &[DeviceListChange::public(&user_id)])
            })
            .await
    }
}

/// Write an upload inside the caller's transaction; returns whether the device keys changed
/// (a device-list change is then recorded).
pub(super) fn store_upload(ctx: &mut WriteCtx<'_>, upload: &KeysUpload) -> Result<bool> {
    let (user, device) = (upload.user_id.as_str(), upload.device_id.as_str());
    let mut changed = false;
    if let Some(json) = &upload.device_keys {
        let n = ctx
            .prepare_cached(
                "INSERT INTO e2e_device_keys (user_id, device_id, key_json) VALUES (?1, ?2, ?3)
             ON CONFLICT (user_id, device_id) DO UPDATE SET key_json = excluded.key_json
             WHERE key_json != excluded.key_json",
            )?
            .execute(params![user, device, json])?;
        changed = n > 0;
    }
    for key in &upload.one_time_keys {
        add_one_time_key(ctx, user, device, key)?;
    }
    let mut stmt = ctx.prepare_cached(
        "INSERT INTO e2e_fallback_keys (user_id, device_id, algorithm, key_id, key_json, used)
         VALUES (?1, ?2, ?3, ?4, ?5, 0)
         ON CONFLICT (user_id, device_id, algorithm) DO UPDATE SET
            used = CASE WHEN key_json = excluded.key_json THEN used ELSE 0 END,
            key_id = excluded.key_id, key_json = excluded.key_json",
    )?;
    for key in &upload.fallback_keys {
        stmt.execute(params![user, device, key.algorithm, key.key_id, key.json])?;
    }
    drop(stmt);
    if changed {
        device_lists::record(ctx, &[DeviceListChange::public(&upload.user_id)])?;
    }
    Ok(changed)
}

/// Uploading the same one-time key again is harmless; reusing its ID for another key is not.
fn add_one_time_key(
    c: &Connection,
    user: &str,
    device: &str,
    key: &OneTimeKeyRecord,
) -> Result<()> {
    let inserted = c
        .prepare_cached(
            "INSERT INTO e2e_one_time_keys (user_id, device_id, algorithm, key_id, key_json)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
        )?
        .execute(params![user, device, key.algorithm, key.key_id, key.json])?;
    if inserted == 0 {
        let existing: Option<String> = c
            .prepare_cached(
                "SELECT key_json FROM e2e_one_time_keys
                 WHERE user_id = ?1 AND device_id = ?2 AND algorithm = ?3 AND key_id = ?4",
            )?
            .query_row(params![user, device, key.algorithm, key.key_id], |r| r.get(0))
            .optional()?;
        if existing.as_deref() != Some(key.json.as_str()) {
            return Err(Error::invalid_param(format!(
                "One-time key {}:{} already exists with a different value",
                key.algorithm, key.key_id
            )));
        }
    }
    Ok(())
}

fn claim_one(c: &Connection, claim: &KeyClaim) -> Result<Option<OneTimeKeyRecord>> {
    let (user, device, algorithm) =
        (claim.user_id.as_str(), claim.device_id.as_str(), claim.algorithm.as_str());
    let exists = c
        .prepare_cached("SELECT 1 FROM devices WHERE user_id = ?1 AND device_id = ?2")?
        .exists([user, device])?;
    if !exists {
        return Ok(None);
    }
    let one_time: Option<(i64, String, String)> = c
        .prepare_cached(
            "SELECT id, key_id, key_json FROM e2e_one_time_keys
             WHERE user_id = ?1 AND device_id = ?2 AND algorithm = ?3 ORDER BY id LIMIT 1",
        )?
        .query_row([user, device, algorithm], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    if let Some((id, key_id, json)) = one_time {
        c.prepare_cached("DELETE FROM e2e_one_time_keys WHERE id = ?1")?.execute([id])?;
        return Ok(Some(OneTimeKeyRecord { algorithm: algorithm.to_owned(), key_id, json }));
    }
    let fallback: Option<(String, String)> = c
        .prepare_cached(
            "UPDATE e2e_fallback_keys SET used = 1
             WHERE user_id = ?1 AND device_id = ?2 AND algorithm = ?3
             RETURNING key_id, key_json",
        )?
        .query_row([user, device, algorithm], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(fallback.map(|(key_id, json)| OneTimeKeyRecord {
        algorithm: algorithm.to_owned(),
        key_id,
        json,
    }))
}

pub(super) fn status(c: &Connection, user: &str, device: &str) -> Result<OneTimeKeysStatus> {
    let mut status = OneTimeKeysStatus::default();
    let mut stmt = c.prepare_cached(
        "SELECT algorithm, count(*) FROM e2e_one_time_keys
         WHERE user_id = ?1 AND device_id = ?2 GROUP BY algorithm",
    )?;
    for row in stmt.query_map([user, device], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?)))? {
        let (algorithm, count) = row?;
        status.counts.insert(algorithm, count as u64);
    }
    let mut stmt = c.prepare_cached(
        "SELECT algorithm FROM e2e_fallback_keys
         WHERE user_id = ?1 AND device_id = ?2 AND used = 0 ORDER BY algorithm",
    )?;
    for row in stmt.query_map([user, device], |r| r.get(0))? {
        status.unused_fallback.push(row?);
    }
    Ok(status)
}

/// Keys of devices that exist (the `devices` table belongs to accounts), with display names.
fn device_keys_of(
    c: &Connection,
    user: &str,
    device: Option<&str>,
) -> Result<Vec<StoredDeviceKeys>> {
    let mut stmt = c.prepare_cached(
        "SELECT k.device_id, k.key_json, d.display_name
         FROM e2e_device_keys k
         JOIN devices d ON d.user_id = k.user_id AND d.device_id = k.device_id
         WHERE k.user_id = ?1 AND (?2 IS NULL OR k.device_id = ?2)
         ORDER BY k.device_id",
    )?;
    let rows = stmt
        .query_map(params![user, device], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))?;
    let mut devices = Vec::new();
    for row in rows {
        let (device_id, json, display_name) = row?;
        devices.push(StoredDeviceKeys { device_id: device_id.into(), json, display_name });
    }
    Ok(devices)
}

fn signatures_on(c: &Connection, user: &str) -> Result<Vec<SignatureRecord>> {
    let mut stmt = c.prepare_cached(
        "SELECT target_key_id, signer_user_id, signer_key_id, signature
         FROM e2e_signatures WHERE target_user_id = ?1",
    )?;
    let rows = stmt.query_map([user], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?))
    })?;
    let mut signatures = Vec::new();
    for row in rows {
        let (target_key_id, signer, signer_key_id, signature) = row?;
        signatures.push(SignatureRecord {
            target_user_id: user.try_into()?,
            target_key_id,
            signer_user_id: signer.try_into()?,
            signer_key_id,
            signature,
        });
    }
    Ok(signatures)
}

/// Remove a device's keys, the signatures on and by it, and its queued messages.
pub(super) fn delete_device_rows(c: &Connection, user: &str, device: &str) -> Result<()> {
    for table in [
        "e2e_device_keys",
        "e2e_one_time_keys",
        "e2e_fallback_keys",
        "e2e_to_device",
        "e2e_to_device_txns",
        "e2e_dehydrated_devices",
    ] {
        c.prepare_cached(&format!("DELETE FROM {table} WHERE user_id = ?1 AND device_id = ?2"))?
            .execute([user, device])?;
    }
    c.prepare_cached(
        "DELETE FROM e2e_signatures
         WHERE (target_user_id = ?1 AND target_key_id = ?2)
            OR (signer_user_id = ?1 AND signer_key_id = 'ed25519:' || ?2)",
    )?
    .execute([user, device])?;
    Ok(())
}
