//! Accounts, devices and sessions in SQLite.

use async_trait::async_trait;
use hearth_core::{Error, Result, utils::now_millis};
use ruma::{DeviceId, OwnedDeviceId, OwnedUserId, UserId};
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, WriteCtx, migrations::Area};
use crate::accounts::*;

pub(super) const AREA: Area = Area {
    name: "accounts",
    migrations: &[
        "
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
    ",
        // Refresh-token rotation: a spent refresh token stays valid until its successor or the
        // access token issued with it is used.
        "
        ALTER TABLE access_tokens ADD COLUMN spent_refresh_hash BLOB;
        ALTER TABLE refresh_tokens ADD COLUMN access_token_hash BLOB;
        ALTER TABLE refresh_tokens ADD COLUMN next_hash BLOB;
        CREATE INDEX refresh_tokens_by_next ON refresh_tokens (next_hash);
        CREATE TABLE registration_tokens (
            token TEXT PRIMARY KEY,
            uses_allowed INTEGER,
            completed INTEGER NOT NULL DEFAULT 0,
            expiry_ts INTEGER,
            created_ts INTEGER NOT NULL
        );
        CREATE TABLE login_tokens (
            token_hash BLOB PRIMARY KEY,
            user_id TEXT NOT NULL,
            expires_ts INTEGER NOT NULL
        );
    ",
        // Deactivation with `erase` (spec: "Account deactivation").
        "
        ALTER TABLE users ADD COLUMN erased INTEGER NOT NULL DEFAULT 0;
    ",
        // `/admin/whois` reports each device's last user agent.
        "
        ALTER TABLE devices ADD COLUMN last_seen_user_agent TEXT;
    ",
    ],
};

fn delete_device_rows(c: &Connection, user_id: &str, device_id: &str) -> Result<()> {
    for sql in [
        "DELETE FROM access_tokens WHERE user_id = ?1 AND device_id = ?2",
        "DELETE FROM refresh_tokens WHERE user_id = ?1 AND device_id = ?2",
        "DELETE FROM devices WHERE user_id = ?1 AND device_id = ?2",
    ] {
        c.prepare_cached(sql)?.execute(params![user_id, device_id])?;
    }
    Ok(())
}

/// Delete every device of `user_id` but `keep`, with their tokens; returns those deleted.
fn delete_devices_except(
    c: &Connection,
    user_id: &str,
    keep: Option<&str>,
) -> Result<Vec<OwnedDeviceId>> {
    let devices: Vec<String> = c
        .prepare_cached("SELECT device_id FROM devices WHERE user_id = ?1")?
        .query_map([user_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut deleted = Vec::new();
    for device in devices.into_iter().filter(|d| Some(d.as_str()) != keep) {
        delete_device_rows(c, user_id, &device)?;
        deleted.push(device.into());
    }
    Ok(deleted)
}

fn spend_registration_token(c: &Connection, token: &str) -> Result<()> {
    let n = c
        .prepare_cached(
            "UPDATE registration_tokens SET completed = completed + 1
             WHERE token = ?1 AND (uses_allowed IS NULL OR completed < uses_allowed)
               AND (expiry_ts IS NULL OR expiry_ts > ?2)",
        )?
        .execute(params![token, now_millis() as i64])?;
    if n == 1 { Ok(()) } else { Err(Error::forbidden("The registration token is no longer valid")) }
}

fn device_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeviceRecord> {
    Ok(DeviceRecord {
        device_id: r.get::<_, String>(0)?.into(),
        display_name: r.get(1)?,
        last_seen_ip: r.get(2)?,
        last_seen_ts: r.get::<_, Option<i64>>(3)?.map(|t| t as u64),
        last_seen_user_agent: r.get(4)?,
    })
}

impl SqliteStore {
    /// A write that removes or changes access tokens: the token cache is cleared once it has
    /// committed (or failed).
    async fn write_tokens<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> Result<T> + Send + 'static,
    {
        let written = self.db.write(f).await;
        self.tokens.invalidate();
        written
    }
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_user(&self, user: NewUser) -> Result<bool> {
        self.db
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "INSERT INTO users (user_id, password_hash, is_admin, is_guest, created_ts)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                    )?
                    .execute(params![
                        user.user_id.as_str(),
                        user.password_hash,
                        user.is_admin,
                        user.is_guest,
                        now_millis() as i64
                    ])?;
                if n == 1
                    && let Some(token) = &user.registration_token
                {
                    spend_registration_token(c, token)?;
                }
                if n == 1
                    && let Some(name) = &user.displayname
                {
                    c.prepare_cached(
                        "INSERT INTO profile_fields (user_id, field, value)
                         VALUES (?1, 'displayname', ?2)",
                    )?
                    .execute(params![user.user_id.as_str(), serde_json::to_string(name)?])?;
                }
                Ok(n == 1)
            })
            .await
    }

    async fn upgrade_guest(&self, user_id: &UserId, password_hash: String) -> Result<bool> {
        let user_id = user_id.to_owned();
        self.write_tokens(move |c| {
            let n = c
                .prepare_cached(
                    "UPDATE users SET password_hash = ?2, is_guest = 0
                         WHERE user_id = ?1 AND is_guest = 1 AND deactivated = 0",
                )?
                .execute(params![user_id.as_str(), password_hash])?;
            Ok(n == 1)
        })
        .await
    }

    async fn get_user(&self, user_id: &UserId) -> Result<Option<UserRecord>> {
        let user_id = user_id.to_owned();
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT password_hash, is_admin, is_guest, deactivated, created_ts, erased
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
                            erased: r.get(5)?,
                        })
                    })
                    .optional()?)
            })
            .await
    }

    async fn set_password(
        &self,
        user_id: &UserId,
        password_hash: Option<String>,
        sessions: SessionsOnPasswordChange,
    ) -> Result<Vec<OwnedDeviceId>> {
        let user_id = user_id.to_owned();
        self.write_tokens(move |c| {
            let user = user_id.as_str();
            let n = c
                .prepare_cached("UPDATE users SET password_hash = ?2 WHERE user_id = ?1")?
                .execute(params![user, password_hash])?;
            if n == 0 {
                return Err(Error::not_found("No such user"));
            }
            match sessions {
                SessionsOnPasswordChange::Keep => Ok(Vec::new()),
                SessionsOnPasswordChange::DeleteDevices { keep } => {
                    delete_devices_except(c, user, keep.as_ref().map(|d| d.as_str()))
                }
                SessionsOnPasswordChange::RevokeTokens => {
                    c.prepare_cached("DELETE FROM access_tokens WHERE user_id = ?1")?
                        .execute([user])?;
                    c.prepare_cached("DELETE FROM refresh_tokens WHERE user_id = ?1")?
                        .execute([user])?;
                    Ok(Vec::new())
                }
            }
        })
        .await
    }

    async fn deactivate_user(&self, user_id: &UserId, erase: bool) -> Result<Vec<OwnedDeviceId>> {
        let user_id = user_id.to_owned();
        self.write_tokens(move |c| {
            c.prepare_cached(
                "UPDATE users SET deactivated = 1, password_hash = NULL,
                        erased = erased OR ?2
                     WHERE user_id = ?1",
            )?
            .execute(params![user_id.as_str(), erase])?;
            delete_devices_except(c, user_id.as_str(), None)
        })
        .await
    }

    async fn create_session(&self, s: NewSession) -> Result<()> {
        self.write_tokens(move |c| {
            let now = now_millis() as i64;
            let (user, device) = (s.user_id.as_str(), s.device_id.as_str());
            c.prepare_cached(
                "INSERT INTO devices (user_id, device_id, display_name, last_seen_ip,
                        last_seen_ts, created_ts)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                     ON CONFLICT (user_id, device_id) DO UPDATE SET
                        last_seen_ip = excluded.last_seen_ip, last_seen_ts = excluded.last_seen_ts",
            )?
            .execute(params![user, device, s.display_name, s.ip, now])?;
            c.prepare_cached("DELETE FROM access_tokens WHERE user_id = ?1 AND device_id = ?2")?
                .execute(params![user, device])?;
            c.prepare_cached("DELETE FROM refresh_tokens WHERE user_id = ?1 AND device_id = ?2")?
                .execute(params![user, device])?;
            c.prepare_cached(
                "INSERT INTO access_tokens (token_hash, user_id, device_id, expires_ts)
                     VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                &s.access_token_hash[..],
                user,
                device,
                s.expires_ts.map(|t| t as i64)
            ])?;
            if let Some(hash) = s.refresh_token_hash {
                c.prepare_cached(
                    "INSERT INTO refresh_tokens (token_hash, user_id, device_id,
                            access_token_hash)
                         VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![
                    &hash[..],
                    user,
                    device,
                    &s.access_token_hash[..]
                ])?;
            }
            Ok(())
        })
        .await
    }

    async fn find_access_token(&self, token_hash: [u8; 32]) -> Result<Option<TokenOwner>> {
        if let Some(owner) = self.tokens.get(&token_hash) {
            return Ok(Some(owner));
        }
        let generation = self.tokens.generation();
        let found = self
            .db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT t.token_hash, t.user_id, t.device_id, t.expires_ts, u.is_guest,
                        t.spent_refresh_hash IS NOT NULL
                     FROM access_tokens t JOIN users u ON u.user_id = t.user_id
                     WHERE t.token_hash = ?1",
                )?;
                let row = stmt
                    .query_row([&token_hash[..]], |r| {
                        Ok((
                            r.get::<_, Vec<u8>>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, Option<i64>>(3)?,
                            r.get::<_, bool>(4)?,
                            r.get::<_, bool>(5)?,
                        ))
                    })
                    .optional()?;
                let Some((hash, user_id, device_id, expires_ts, is_guest, retires)) = row else {
                    return Ok(None);
                };
                Ok(Some(TokenOwner {
                    token_hash: hash.try_into().map_err(|_| Error::internal("bad token hash"))?,
                    user_id: user_id.try_into()?,
                    device_id: device_id.into(),
                    expires_ts: expires_ts.map(|t| t as u64),
                    is_guest,
                    retires_refresh: retires,
                }))
            })
            .await?;
        if let Some(owner) = &found {
            self.tokens.insert(generation, owner.clone());
        }
        Ok(found)
    }

    async fn refresh_session(&self, r: Refresh) -> Result<Option<(OwnedUserId, OwnedDeviceId)>> {
        self.write_tokens(move |c| {
            let row = c
                .prepare_cached(
                    "SELECT user_id, device_id, access_token_hash, next_hash
                         FROM refresh_tokens WHERE token_hash = ?1",
                )?
                .query_row([&r.old_refresh_hash[..]], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, Option<Vec<u8>>>(2)?,
                        row.get::<_, Option<Vec<u8>>>(3)?,
                    ))
                })
                .optional()?;
            let Some((user, device, old_access, next)) = row else { return Ok(None) };
            // Spending it again (the client lost the answer): the unused successor goes.
            if let Some(next) = next {
                c.prepare_cached(
                    "DELETE FROM access_tokens WHERE token_hash =
                            (SELECT access_token_hash FROM refresh_tokens WHERE token_hash = ?1)",
                )?
                .execute([&next])?;
                c.prepare_cached("DELETE FROM refresh_tokens WHERE token_hash = ?1")?
                    .execute([&next])?;
            }
            if let Some(old_access) = old_access {
                c.prepare_cached("DELETE FROM access_tokens WHERE token_hash = ?1")?
                    .execute([&old_access])?;
            }
            // Using this token proves its predecessor is no longer needed.
            c.prepare_cached("DELETE FROM refresh_tokens WHERE next_hash = ?1")?
                .execute([&r.old_refresh_hash[..]])?;
            c.prepare_cached(
                "INSERT INTO access_tokens (token_hash, user_id, device_id, expires_ts,
                        spent_refresh_hash)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                &r.access_token_hash[..],
                user,
                device,
                r.expires_ts.map(|t| t as i64),
                &r.old_refresh_hash[..]
            ])?;
            c.prepare_cached(
                "INSERT INTO refresh_tokens (token_hash, user_id, device_id, access_token_hash)
                     VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                &r.refresh_token_hash[..],
                user,
                device,
                &r.access_token_hash[..]
            ])?;
            c.prepare_cached("UPDATE refresh_tokens SET next_hash = ?2 WHERE token_hash = ?1")?
                .execute(params![&r.old_refresh_hash[..], &r.refresh_token_hash[..]])?;
            Ok(Some((user.try_into()?, device.into())))
        })
        .await
    }

    async fn retire_spent_refresh_token(&self, access_token_hash: [u8; 32]) -> Result<()> {
        self.write_tokens(move |c| {
            c.prepare_cached(
                "DELETE FROM refresh_tokens WHERE token_hash =
                        (SELECT spent_refresh_hash FROM access_tokens WHERE token_hash = ?1)",
            )?
            .execute([&access_token_hash[..]])?;
            c.prepare_cached(
                "UPDATE access_tokens SET spent_refresh_hash = NULL WHERE token_hash = ?1",
            )?
            .execute([&access_token_hash[..]])?;
            Ok(())
        })
        .await
    }

    async fn get_devices(&self, user_id: &UserId) -> Result<Vec<DeviceRecord>> {
        let user_id = user_id.to_owned();
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT device_id, display_name, last_seen_ip, last_seen_ts, last_seen_user_agent
                     FROM devices WHERE user_id = ?1 ORDER BY device_id",
                )?;
                let rows = stmt.query_map([user_id.as_str()], device_record)?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await
    }

    async fn get_device(
        &self,
        user_id: &UserId,
        device_id: &DeviceId,
    ) -> Result<Option<DeviceRecord>> {
        let (user_id, device_id) = (user_id.to_owned(), device_id.to_owned());
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT device_id, display_name, last_seen_ip, last_seen_ts, last_seen_user_agent
                     FROM devices WHERE user_id = ?1 AND device_id = ?2",
                )?;
                Ok(stmt
                    .query_row(params![user_id.as_str(), device_id.as_str()], device_record)
                    .optional()?)
            })
            .await
    }

    async fn set_device_display_name(
        &self,
        user_id: &UserId,
        device_id: &DeviceId,
        display_name: Option<String>,
    ) -> Result<bool> {
        let (user_id, device_id) = (user_id.to_owned(), device_id.to_owned());
        self.db
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "UPDATE devices SET display_name = ?3 WHERE user_id = ?1 AND device_id = ?2",
                    )?
                    .execute(params![user_id.as_str(), device_id.as_str(), display_name])?;
                Ok(n == 1)
            })
            .await
    }

    async fn delete_devices(&self, user_id: &UserId, device_ids: Vec<OwnedDeviceId>) -> Result<()> {
        let user_id = user_id.to_owned();
        self.write_tokens(move |c| {
            for device in &device_ids {
                delete_device_rows(c, user_id.as_str(), device.as_str())?;
            }
            Ok(())
        })
        .await
    }

    async fn delete_all_devices(&self, user_id: &UserId) -> Result<Vec<OwnedDeviceId>> {
        let user_id = user_id.to_owned();
        self.write_tokens(move |c| delete_devices_except(c, user_id.as_str(), None)).await
    }

    async fn record_last_seen(&self, seen: Vec<LastSeen>) -> Result<()> {
        self.db
            .write(move |c| {
                let mut stmt = c.prepare_cached(
                    "UPDATE devices SET last_seen_ip = ?3, last_seen_ts = ?4,
                        last_seen_user_agent = ?5
                     WHERE user_id = ?1 AND device_id = ?2",
                )?;
                for s in &seen {
                    stmt.execute(params![
                        s.user_id.as_str(),
                        s.device_id.as_str(),
                        s.ip,
                        s.ts as i64,
                        s.user_agent
                    ])?;
                }
                Ok(())
            })
            .await
    }

    async fn create_registration_token(&self, t: RegistrationTokenRecord) -> Result<bool> {
        self.db
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "INSERT INTO registration_tokens (token, uses_allowed, completed,
                            expiry_ts, created_ts)
                         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                    )?
                    .execute(params![
                        t.token,
                        t.uses_allowed,
                        t.completed,
                        t.expiry_ts.map(|t| t as i64),
                        now_millis() as i64
                    ])?;
                Ok(n == 1)
            })
            .await
    }

    async fn registration_token_valid(&self, token: &str, now: u64) -> Result<bool> {
        let token = token.to_owned();
        self.db
            .read(move |c| {
                let found = c
                    .prepare_cached(
                        "SELECT 1 FROM registration_tokens
                         WHERE token = ?1 AND (uses_allowed IS NULL OR completed < uses_allowed)
                           AND (expiry_ts IS NULL OR expiry_ts > ?2)",
                    )?
                    .query_row(params![token, now as i64], |_| Ok(()))
                    .optional()?;
                Ok(found.is_some())
            })
            .await
    }

    async fn create_login_token(
        &self,
        token_hash: [u8; 32],
        user_id: &UserId,
        expires_ts: u64,
    ) -> Result<()> {
        let user_id = user_id.to_owned();
        self.db
            .write(move |c| {
                // Expired tokens are useless: clear them while we are here.
                c.prepare_cached("DELETE FROM login_tokens WHERE expires_ts <= ?1")?
                    .execute([now_millis() as i64])?;
                c.prepare_cached(
                    "INSERT INTO login_tokens (token_hash, user_id, expires_ts) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![&token_hash[..], user_id.as_str(), expires_ts as i64])?;
                Ok(())
            })
            .await
    }

    async fn take_login_token(
        &self,
        token_hash: [u8; 32],
        now: u64,
    ) -> Result<Option<OwnedUserId>> {
        self.db
            .write(move |c| {
                let row = c
                    .prepare_cached(
                        "DELETE FROM login_tokens WHERE token_hash = ?1
                         RETURNING user_id, expires_ts",
                    )?
                    .query_row([&token_hash[..]], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                    })
                    .optional()?;
                match row {
                    Some((user, expires)) if expires as u64 > now => Ok(Some(user.try_into()?)),
                    _ => Ok(None),
                }
            })
            .await
    }
}
