//! Filters in SQLite: numbered per user.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::UserId;
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, migrations::Area};
use crate::filters::FilterStore;

pub(super) const AREA: Area = Area {
    name: "filters",
    migrations: &["
        CREATE TABLE filters (
            user_id TEXT NOT NULL,
            filter_id INTEGER NOT NULL,
            filter_json TEXT NOT NULL,
            PRIMARY KEY (user_id, filter_id)
        );
    "],
};

#[async_trait]
impl FilterStore for SqliteStore {
    async fn create_filter(&self, user_id: &UserId, filter_json: String) -> Result<u64> {
        let user_id = user_id.to_owned();
        self.db
            .write(move |c| {
                // Clients often upload the same filter again: hand back the existing one.
                let existing: Option<i64> = c
                    .prepare_cached(
                        "SELECT filter_id FROM filters WHERE user_id = ?1 AND filter_json = ?2",
                    )?
                    .query_row(params![user_id.as_str(), filter_json], |r| r.get(0))
                    .optional()?;
                if let Some(id) = existing {
                    return Ok(id as u64);
                }
                let id: i64 = c
                    .prepare_cached(
                        "SELECT coalesce(max(filter_id) + 1, 0) FROM filters WHERE user_id = ?1",
                    )?
                    .query_row([user_id.as_str()], |r| r.get(0))?;
                c.prepare_cached(
                    "INSERT INTO filters (user_id, filter_id, filter_json) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![user_id.as_str(), id, filter_json])?;
                Ok(id as u64)
            })
            .await
    }

    async fn get_filter(&self, user_id: &UserId, filter_id: u64) -> Result<Option<String>> {
        let user_id = user_id.to_owned();
        self.db
            .read(move |c| {
                Ok(c.prepare_cached(
                    "SELECT filter_json FROM filters WHERE user_id = ?1 AND filter_id = ?2",
                )?
                .query_row(params![user_id.as_str(), filter_id as i64], |r| r.get(0))
                .optional()?)
            })
            .await
    }
}
