//! Cross-signing keys and added signatures in SQLite.

use async_trait::async_trait;
use hearth_core::{Error, Result};
use ruma::UserId;
use rusqlite::{Connection, OptionalExtension, params};

use super::device_lists;
use crate::{
    CrossSigningKeyType, CrossSigningStore, DeviceListChange, SignatureRecord,
    StoredCrossSigningKey, sqlite::SqliteStore,
};

#[async_trait]
impl CrossSigningStore for SqliteStore {
    async fn cross_signing_keys(&self, user_id: &UserId) -> Result<Vec<StoredCrossSigningKey>> {
        let user_id = user_id.to_owned();
        self.db.read(move |c| keys_of(c, user_id.as_str())).await
    }

    async fn put_cross_signing_keys(
        &self,
        user_id: &UserId,
        keys: Vec<StoredCrossSigningKey>,
        changes: Vec<DeviceListChange>,
    ) -> Result<()> {
        let user_id = user_id.to_owned();
        self.db
            .write(move |ctx| {
                for key in &keys {
                    replace_key(ctx, user_id.as_str(), key)?;
                }
                if !changes.is_empty() {
                    device_lists::record(ctx, &changes)?;
                }
                Ok(())
            })
            .await
    }

    async fn add_signatures(
        &self,
        signatures: Vec<SignatureRecord>,
        changes: Vec<DeviceListChange>,
    ) -> Result<()> {
        self.db
            .write(move |ctx| {
                let mut stmt = ctx.prepare_cached(
                    "INSERT INTO e2e_signatures (target_user_id, target_key_id, signer_user_id,
                        signer_key_id, signature)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT DO UPDATE SET signature = excluded.signature",
                )?;
                for s in &signatures {
                    stmt.execute(params![
                        s.target_user_id.as_str(),
                        s.target_key_id,
                        s.signer_user_id.as_str(),
                        s.signer_key_id,
                        s.signature
                    ])?;
                }
                drop(stmt);
                if !changes.is_empty() {
                    device_lists::record(ctx, &changes)?;
                }
                Ok(())
            })
            .await
    }

    async fn has_device(&self, user_id: &UserId, device_id: &str) -> Result<bool> {
        let (user_id, device_id) = (user_id.to_owned(), device_id.to_owned());
        self.db
            .read(move |c| {
                Ok(c.prepare_cached("SELECT 1 FROM devices WHERE user_id = ?1 AND device_id = ?2")?
                    .exists([user_id.as_str(), device_id.as_str()])?)
            })
            .await
    }
}

/// Store a key in place of the user's key of its type; signatures on the key it replaces go.
fn replace_key(c: &Connection, user: &str, key: &StoredCrossSigningKey) -> Result<()> {
    let old: Option<String> = c
        .prepare_cached(
            "SELECT public_key FROM e2e_cross_signing_keys WHERE user_id = ?1 AND key_type = ?2",
        )?
        .query_row([user, key.key_type.as_str()], |r| r.get(0))
        .optional()?;
    if let Some(old) = old.filter(|old| *old != key.public_key) {
        c.prepare_cached(
            "DELETE FROM e2e_signatures WHERE target_user_id = ?1 AND target_key_id = ?2",
        )?
        .execute([user, old.as_str()])?;
    }
    c.prepare_cached(
        "INSERT INTO e2e_cross_signing_keys (user_id, key_type, public_key, key_json)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (user_id, key_type) DO UPDATE SET
            public_key = excluded.public_key, key_json = excluded.key_json",
    )?
    .execute(params![user, key.key_type.as_str(), key.public_key, key.json])?;
    Ok(())
}

pub(super) fn keys_of(c: &Connection, user: &str) -> Result<Vec<StoredCrossSigningKey>> {
    let mut stmt = c.prepare_cached(
        "SELECT key_type, public_key, key_json FROM e2e_cross_signing_keys WHERE user_id = ?1",
    )?;
    let rows = stmt.query_map([user], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
    })?;
    let mut keys = Vec::new();
    for row in rows {
        let (key_type, public_key, json) = row?;
        let key_type = CrossSigningKeyType::parse(&key_type)
            .ok_or_else(|| Error::internal(format!("unknown cross-signing key type {key_type}")))?;
        keys.push(StoredCrossSigningKey { key_type, public_key, json });
    }
    keys.sort_by_key(|k| k.key_type);
    Ok(keys)
}
