//! Accounts, devices and sessions in SQLite.

use async_trait::async_trait;
use hearth_core::{Result, utils::now_millis};
use ruma::UserId;
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, migrations::Area};
use crate::accounts::*;

pub(super) const AREA: Area = Area {
    name: "accounts",
    migrations: &["
        CREATE TABLE users (
            user_id TEXT PRIMARY KEY,
            password_hash TEXT,
            is_admin INTEGER NOT NULL DEFAULT 0,
            is_guest INTEGER NOT NULL DEFAULT 0,
            deactivated INTEGER NOT NULL DEFAULT 0,
            created_ts INTEGER NOT NULL
        );
        CREATE TABLE devices (
            user_id TEXT NOT NULL,
            device_id TEXT NOT NULL,
            display_name TEXT,
            last_seen_ip TEXT,
            last_seen_ts INTEGER,
            created_ts INTEGER NOT NULL,
            PRIMARY KEY (user_id, device_id)
        );
        CREATE TABLE access_tokens (
            token_hash BLOB PRIMARY KEY,
            user_id TEXT NOT NULL,
            device_id TEXT NOT NULL,
            expires_ts INTEGER
        );
        CREATE INDEX access_tokens_by_device ON access_tokens (user_id, device_id);
        CREATE TABLE refresh_tokens (
            token_hash BLOB PRIMARY KEY,
            user_id TEXT NOT NULL,
            device_id TEXT NOT NULL
        );
        CREATE INDEX refresh_tokens_by_device ON refresh_tokens (user_id, device_id);
    "],
};

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_user(&self, user: NewUser) -> Result<bool> {
        self.db
            .write(move |c| {
                let n = c.execute(
                    "INSERT INTO users (user_id, password_hash, is_admin, is_guest, created_ts)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                    params![
                        user.user_id.as_str(),
                        user.password_hash,
                        user.is_admin,
                        user.is_guest,
                        now_millis() as i64
                    ],
                )?;
                Ok(n == 1)
            })
            .await
    }

    async fn get_user(&self, user_id: &UserId) -> Result<Option<UserRecord>> {
        let user_id = user_id.to_owned();
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT password_hash, is_admin, is_guest, deactivated, created_ts
                     FROM users WHERE user_id = ?1",
                )?;
                Ok(stmt
                    .query_row([user_id.as_str()], |r| {
                        Ok(UserRecord {
                            user_id: user_id.clone(),
                            password_hash: r.get(0)?,
                            is_admin: r.get(1)?,
                            is_guest: r.get(2)?,
                            deactivated: r.get(3)?,
                            created_ts: r.get::<_, i64>(4)? as u64,
                        })
                    })
                    .optional()?)
            })
            .await
    }

    async fn create_session(&self, s: NewSession) -> Result<()> {
        self.db
            .write(move |c| {
                let now = now_millis() as i64;
                c.execute(
                    "INSERT INTO devices (user_id, device_id, display_name, last_seen_ip,
                        last_seen_ts, created_ts)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                     ON CONFLICT (user_id, device_id) DO UPDATE SET
                        last_seen_ip = excluded.last_seen_ip, last_seen_ts = excluded.last_seen_ts",
                    params![s.user_id.as_str(), s.device_id.as_str(), s.display_name, s.ip, now],
                )?;
                c.execute(
                    "INSERT INTO access_tokens (token_hash, user_id, device_id, expires_ts)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        &s.access_token_hash[..],
                        s.user_id.as_str(),
                        s.device_id.as_str(),
                        s.expires_ts.map(|t| t as i64)
                    ],
                )?;
                if let Some(hash) = s.refresh_token_hash {
                    c.execute(
                        "INSERT INTO refresh_tokens (token_hash, user_id, device_id)
                         VALUES (?1, ?2, ?3)",
                        params![&hash[..], s.user_id.as_str(), s.device_id.as_str()],
                    )?;
                }
                Ok(())
            })
            .await
    }

    async fn find_access_token(&self, token_hash: [u8; 32]) -> Result<Option<TokenOwner>> {
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT t.user_id, t.device_id, t.expires_ts, u.is_guest
                     FROM access_tokens t JOIN users u ON u.user_id = t.user_id
                     WHERE t.token_hash = ?1",
                )?;
                let row = stmt
                    .query_row([&token_hash[..]], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, Option<i64>>(2)?,
                            r.get::<_, bool>(3)?,
                        ))
                    })
                    .optional()?;
                Ok(match row {
                    None => None,
                    Some((user_id, device_id, expires_ts, is_guest)) => Some(TokenOwner {
                        user_id: user_id.try_into()?,
                        device_id: device_id.into(),
                        expires_ts: expires_ts.map(|t| t as u64),
                        is_guest,
                    }),
                })
            })
            .await
    }
}
