//! Account data in SQLite: the latest content per (user, room, type), with the stream position
//! of its last write. Global data uses the room `''`.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{OwnedUserId, RoomId, UserId};
use rusqlite::{OptionalExtension, params};
use serde_json::value::RawValue;

use super::{SqliteStore, migrations::Area};
use crate::account_data::{AccountDataChange, AccountDataStore};

pub(super) const AREA: Area = Area {
    name: "account_data",
    migrations: &["
        CREATE TABLE account_data (
            user_id TEXT NOT NULL,
            room_id TEXT NOT NULL,
            data_type TEXT NOT NULL,
            content TEXT NOT NULL,
            stream_pos INTEGER NOT NULL,
            PRIMARY KEY (user_id, room_id, data_type)
        );
        CREATE INDEX account_data_by_pos ON account_data (user_id, stream_pos);
    "],
};

fn room_key(room_id: Option<&RoomId>) -> String {
    room_id.map(|r| r.as_str().to_owned()).unwrap_or_default()
}

#[async_trait]
impl AccountDataStore for SqliteStore {
    async fn set_account_data(
        &self,
        user_id: &UserId,
        room_id: Option<&RoomId>,
        data_type: &str,
        content: Box<RawValue>,
    ) -> Result<i64> {
        let (user_id, room, data_type) =
            (user_id.to_owned(), room_key(room_id), data_type.to_owned());
        self.db
            .write(move |c| {
                let pos = c.next_pos();
                c.prepare_cached(
                    "INSERT INTO account_data (user_id, room_id, data_type, content, stream_pos)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (user_id, room_id, data_type) DO UPDATE SET
                        content = excluded.content, stream_pos = excluded.stream_pos",
                )?
                .execute(params![
                    user_id.as_str(),
                    room,
                    data_type,
                    content.get(),
                    pos
                ])?;
                Ok(pos)
            })
            .await
    }

    async fn global_account_data_of_type(
        &self,
        data_type: &str,
    ) -> Result<Vec<(OwnedUserId, Box<RawValue>)>> {
        let data_type = data_type.to_owned();
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT user_id, content FROM account_data
                     WHERE room_id = '' AND data_type = ?1",
                )?;
                let rows = stmt.query_map([data_type.as_str()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })?;
                let mut out = Vec::new();
                for row in rows {
                    let (user, content) = row?;
                    out.push((OwnedUserId::try_from(user)?, RawValue::from_string(content)?));
                }
                Ok(out)
            })
            .await
    }

    async fn delete_user_account_data(&self, user_id: &UserId) -> Result<()> {
        let user_id = user_id.to_owned();
        self.db
            .write(move |c| {
                c.prepare_cached("DELETE FROM account_data WHERE user_id = ?1")?
                    .execute([user_id.as_str()])?;
                Ok(())
            })
            .await
    }

    async fn get_account_data(
        &self,
        user_id: &UserId,
        room_id: Option<&RoomId>,
        data_type: &str,
    ) -> Result<Option<Box<RawValue>>> {
        let (user_id, room, data_type) =
            (user_id.to_owned(), room_key(room_id), data_type.to_owned());
        self.db
            .read(move |c| {
                let content: Option<String> = c
                    .prepare_cached(
                        "SELECT content FROM account_data
                         WHERE user_id = ?1 AND room_id = ?2 AND data_type = ?3",
                    )?
                    .query_row(params![user_id.as_str(), room, data_type], |r| r.get(0))
                    .optional()?;
                Ok(content.map(RawValue::from_string).transpose()?)
            })
            .await
    }

    async fn account_data_changes(
        &self,
        user_id: &UserId,
        since: i64,
        until: i64,
    ) -> Result<Vec<AccountDataChange>> {
        let user_id = user_id.to_owned();
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT room_id, data_type, content, stream_pos FROM account_data
                     WHERE user_id = ?1 AND stream_pos > ?2 AND stream_pos <= ?3
                     ORDER BY stream_pos",
                )?;
                let rows = stmt.query_map(params![user_id.as_str(), since, until], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                })?;
                let mut changes = Vec::new();
                for row in rows {
                    let (room, data_type, content, pos) = row?;
                    let room_id = if room.is_empty() { None } else { Some(room.try_into()?) };
                    let content = RawValue::from_string(content)?;
                    changes.push(AccountDataChange { room_id, data_type, content, pos });
                }
                Ok(changes)
            })
            .await
    }
}
