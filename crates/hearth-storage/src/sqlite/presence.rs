//! Presence in SQLite: the last state of each user, read back after a restart.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::OwnedUserId;
use rusqlite::params;

use super::{SqliteStore, migrations::Area};
use crate::presence::{PresenceRecord, PresenceStore};

pub(super) const AREA: Area = Area {
    name: "presence",
    migrations: &["
        CREATE TABLE presence (
            user_id TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            status_msg TEXT,
            last_active_ts INTEGER NOT NULL
        );
    "],
};

#[async_trait]
impl PresenceStore for SqliteStore {
    async fn set_presence(&self, r: PresenceRecord) -> Result<()> {
        self.db
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO presence (user_id, state, status_msg, last_active_ts)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (user_id) DO UPDATE SET state = excluded.state,
                        status_msg = excluded.status_msg, last_active_ts = excluded.last_active_ts",
                )?
                .execute(params![
                    r.user_id.as_str(),
                    r.state,
                    r.status_msg,
                    r.last_active_ts as i64
                ])?;
                Ok(())
            })
            .await
    }

    async fn get_presence(&self, users: Vec<OwnedUserId>) -> Result<Vec<PresenceRecord>> {
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT state, status_msg, last_active_ts FROM presence WHERE user_id = ?1",
                )?;
                let mut out = Vec::new();
                for user_id in users {
                    let mut rows = stmt.query([user_id.as_str()])?;
                    if let Some(row) = rows.next()? {
                        out.push(PresenceRecord {
                            state: row.get(0)?,
                            status_msg: row.get(1)?,
                            last_active_ts: row.get::<_, i64>(2)?.max(0) as u64,
                            user_id,
                        });
                    }
                }
                Ok(out)
            })
            .await
    }
}
