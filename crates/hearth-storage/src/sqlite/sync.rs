//! Cross-room reads for `/sync`: each a loop over the rooms inside one reader job, on the
//! rooms area's indexes (`events (room_id, stream_pos)`, `room_memberships (room_id, membership)`).

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{OwnedRoomId, OwnedUserId, UserId};
use rusqlite::{Connection, params};

use super::SqliteStore;
use crate::sync::{RoomSummaryRecord, SyncStore};

#[async_trait]
impl SyncStore for SqliteStore {
    async fn latest_room_positions(
        &self,
        rooms: Vec<OwnedRoomId>,
        upto: i64,
    ) -> Result<Vec<(OwnedRoomId, i64)>> {
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT max(stream_pos) FROM events WHERE room_id = ?1 AND stream_pos <= ?2",
                )?;
                let mut out = Vec::with_capacity(rooms.len());
                for room in rooms {
                    let pos: Option<i64> =
                        stmt.query_row(params![room.as_str(), upto], |r| r.get(0))?;
                    if let Some(pos) = pos {
                        out.push((room, pos));
                    }
                }
                Ok(out)
            })
            .await
    }

    async fn room_summaries(
        &self,
        rooms: Vec<OwnedRoomId>,
        me: &UserId,
        heroes: usize,
    ) -> Result<Vec<(OwnedRoomId, RoomSummaryRecord)>> {
        let me = me.to_owned();
        self.db
            .read(move |c| {
                let mut out = Vec::with_capacity(rooms.len());
                for room in rooms {
                    let summary = summary(c, &room, &me, heroes)?;
                    out.push((room, summary));
                }
                Ok(out)
            })
            .await
    }
}

fn summary(
    c: &Connection,
    room: &OwnedRoomId,
    me: &OwnedUserId,
    heroes: usize,
) -> Result<RoomSummaryRecord> {
    let count = |membership: &str| -> Result<u64> {
        let n: i64 = c
            .prepare_cached(
                "SELECT count(*) FROM room_memberships WHERE room_id = ?1 AND membership = ?2",
            )?
            .query_row(params![room.as_str(), membership], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    };
    let pick = |memberships: &str| -> Result<Vec<OwnedUserId>> {
        let sql = format!(
            "SELECT user_id FROM room_memberships
             WHERE room_id = ?1 AND membership IN ({memberships}) AND user_id != ?2
             ORDER BY stream_pos LIMIT ?3"
        );
        let mut stmt = c.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![room.as_str(), me.as_str(), heroes as i64], |r| {
            r.get::<_, String>(0)
        })?;
        rows.map(|r| Ok(OwnedUserId::try_from(r?)?)).collect()
    };
    let mut heroes = pick("'join', 'invite'")?;
    if heroes.is_empty() {
        heroes = pick("'leave', 'ban'")?;
    }
    Ok(RoomSummaryRecord { joined: count("join")?, invited: count("invite")?, heroes })
}
