//! The room directory in SQLite: published rooms are `rooms.is_public`; room facts come from
//! `current_state` and `room_memberships`.

use std::collections::HashMap;

use async_trait::async_trait;
use hearth_core::Result;
use ruma::OwnedRoomId;

use super::{
    SqliteStore,
    rooms::{EVENT_COLUMNS, event_record},
};
use crate::{DirectoryStore, EventRecord};

#[async_trait]
impl DirectoryStore for SqliteStore {
    async fn published_rooms(&self) -> Result<Vec<(OwnedRoomId, u64)>> {
        self.db
            .read(|c| {
                c.prepare_cached(
                    "SELECT r.room_id, (SELECT count(*) FROM room_memberships m
                        WHERE m.room_id = r.room_id AND m.membership = 'join') AS joined
                     FROM rooms r WHERE r.is_public = 1 ORDER BY joined DESC, r.room_id",
                )?
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
                .map(|row| {
                    let (room, joined) = row?;
                    Ok((OwnedRoomId::try_from(room)?, joined.max(0) as u64))
                })
                .collect()
            })
            .await
    }

    async fn room_info_events(
        &self,
        rooms: Vec<OwnedRoomId>,
        types: &'static [&'static str],
    ) -> Result<Vec<EventRecord>> {
        self.db
            .read(move |c| {
                let columns = EVENT_COLUMNS.split(", ").map(|col| format!("e.{}", col.trim()));
                let sql = format!(
                    "SELECT {} FROM current_state s JOIN events e ON e.event_id = s.event_id
                     WHERE s.room_id = ?1 AND s.type = ?2 AND s.state_key = ''",
                    columns.collect::<Vec<_>>().join(", ")
                );
                let mut stmt = c.prepare_cached(&sql)?;
                let mut out = Vec::new();
                for room in &rooms {
                    for kind in types {
                        let rows = stmt.query_map([room.as_str(), kind], event_record)?;
                        for row in rows {
                            out.push(row?);
                        }
                    }
                }
                Ok(out)
            })
            .await
    }

    async fn joined_member_counts(
        &self,
        rooms: Vec<OwnedRoomId>,
    ) -> Result<HashMap<OwnedRoomId, u64>> {
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT count(*) FROM room_memberships WHERE room_id = ?1 AND membership = 'join'",
                )?;
                let mut out = HashMap::with_capacity(rooms.len());
                for room in rooms {
                    let n: i64 = stmt.query_row([room.as_str()], |r| r.get(0))?;
                    out.insert(room, n.max(0) as u64);
                }
                Ok(out)
            })
            .await
    }
}
