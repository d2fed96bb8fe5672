//! Profiles in SQLite: one row per field.

use std::collections::BTreeMap;

use async_trait::async_trait;
use hearth_core::Result;
use ruma::UserId;
use rusqlite::params;
use serde_json::Value;

use super::{SqliteStore, migrations::Area};
use crate::profile::ProfileStore;

pub(super) const AREA: Area = Area {
    name: "profile",
    migrations: &["
        CREATE TABLE profile_fields (
            user_id TEXT NOT NULL,
            field TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (user_id, field)
        );
    "],
};

#[async_trait]
impl ProfileStore for SqliteStore {
    async fn get_profile(&self, user_id: &UserId) -> Result<BTreeMap<String, Value>> {
        let user_id = user_id.to_owned();
        self.db
            .read(move |c| {
                let mut stmt =
                    c.prepare_cached("SELECT field, value FROM profile_fields WHERE user_id = ?1")?;
                let rows = stmt.query_map([user_id.as_str()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })?;
                let mut profile = BTreeMap::new();
                for row in rows {
                    let (field, value) = row?;
                    profile.insert(field, serde_json::from_str(&value)?);
                }
                Ok(profile)
            })
            .await
    }

    async fn set_profile_field(
        &self,
        user_id: &UserId,
        field: &str,
        value: Value,
        max_bytes: usize,
    ) -> Result<bool> {
        let (user_id, field) = (user_id.to_owned(), field.to_owned());
        let value = serde_json::to_string(&value)?;
        self.db
            .write(move |c| {
                let others: i64 = c
                    .prepare_cached(
                        "SELECT coalesce(sum(length(CAST(field AS BLOB)) + length(CAST(value AS BLOB))), 0)
                         FROM profile_fields WHERE user_id = ?1 AND field != ?2",
                    )?
                    .query_row(params![user_id.as_str(), field], |r| r.get(0))?;
                if others as usize + field.len() + value.len() > max_bytes {
                    return Ok(false);
                }
                c.prepare_cached(
                    "INSERT INTO profile_fields (user_id, field, value) VALUES (?1, ?2, ?3)
                     ON CONFLICT (user_id, field) DO UPDATE SET value = excluded.value",
                )?
                .execute(params![user_id.as_str(), field, value])?;
                Ok(true)
            })
            .await
    }

    async fn delete_profile_field(&self, user_id: &UserId, field: &str) -> Result<bool> {
        let (user_id, field) = (user_id.to_owned(), field.to_owned());
        self.db
            .write(move |c| {
                let n = c
                    .prepare_cached("DELETE FROM profile_fields WHERE user_id = ?1 AND field = ?2")?
                    .execute(params![user_id.as_str(), field])?;
                Ok(n == 1)
            })
            .await
    }

    async fn clear_profile(&self, user_id: &UserId) -> Result<()> {
        let user_id = user_id.to_owned();
        self.db
            .write(move |c| {
                c.prepare_cached("DELETE FROM profile_fields WHERE user_id = ?1")?
                    .execute([user_id.as_str()])?;
                Ok(())
            })
            .await
    }
}
