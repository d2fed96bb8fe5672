//! Local room aliases: create, resolve, list, delete, and move (room upgrades).

use async_trait::async_trait;
use hearth_core::{Result, utils::now_millis};
use ruma::{OwnedRoomAliasId, OwnedRoomId, OwnedUserId, RoomAliasId, RoomId, UserId};
use rusqlite::{OptionalExtension, params};

use crate::{rooms::*, sqlite::SqliteStore};

#[async_trait]
impl AliasStore for SqliteStore {
    async fn create_alias(
        &self,
        alias: &RoomAliasId,
        room_id: &RoomId,
        creator: &UserId,
    ) -> Result<bool> {
        let args = (alias.to_string(), room_id.to_string(), creator.to_string());
        self.db
            .write(move |c| {
                let n = c.execute(
                    "INSERT INTO room_aliases (alias, room_id, creator, created_ts)
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                    params![args.0, args.1, args.2, now_millis() as i64],
                )?;
                Ok(n == 1)
            })
            .await
    }

    async fn resolve_alias(&self, alias: &RoomAliasId) -> Result<Option<OwnedRoomId>> {
        let alias = alias.to_string();
        self.db
            .read(move |c| {
                let id: Option<String> = c
                    .prepare_cached("SELECT room_id FROM room_aliases WHERE alias = ?1")?
                    .query_row([&alias], |r| r.get(0))
                    .optional()?;
                Ok(id.map(OwnedRoomId::try_from).transpose()?)
            })
            .await
    }

    async fn room_aliases(&self, room_id: &RoomId) -> Result<Vec<OwnedRoomAliasId>> {
        let room_id = room_id.to_string();
        self.db
            .read(move |c| {
                c.prepare_cached(
                    "SELECT alias FROM room_aliases WHERE room_id = ?1 ORDER BY alias",
                )?
                .query_map([&room_id], |r| r.get::<_, String>(0))?
                .map(|a| Ok(OwnedRoomAliasId::try_from(a?)?))
                .collect()
            })
            .await
    }

    async fn get_alias(&self, alias: &RoomAliasId) -> Result<Option<AliasRecord>> {
        let alias = alias.to_string();
        self.db
            .read(move |c| {
                let row: Option<(String, String)> = c
                    .prepare_cached("SELECT room_id, creator FROM room_aliases WHERE alias = ?1")?
                    .query_row([&alias], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                let Some((room_id, creator)) = row else { return Ok(None) };
                Ok(Some(AliasRecord {
                    room_id: OwnedRoomId::try_from(room_id)?,
                    creator: OwnedUserId::try_from(creator)?,
                }))
            })
            .await
    }

    async fn delete_alias(&self, alias: &RoomAliasId) -> Result<Option<OwnedRoomId>> {
        let alias = alias.to_string();
        self.db
            .write(move |c| {
                let id: Option<String> = c
                    .prepare_cached("DELETE FROM room_aliases WHERE alias = ?1 RETURNING room_id")?
                    .query_row([&alias], |r| r.get(0))
                    .optional()?;
                Ok(id.map(OwnedRoomId::try_from).transpose()?)
            })
            .await
    }

    async fn move_aliases(&self, from: &RoomId, to: &RoomId) -> Result<Vec<OwnedRoomAliasId>> {
        let args = (from.to_string(), to.to_string());
        self.db
            .write(move |c| {
                c.prepare_cached(
                    "UPDATE room_aliases SET room_id = ?2 WHERE room_id = ?1 RETURNING alias",
                )?
                .query_map([&args.0, &args.1], |r| r.get::<_, String>(0))?
                .map(|a| Ok(OwnedRoomAliasId::try_from(a?)?))
                .collect()
            })
            .await
    }
}
