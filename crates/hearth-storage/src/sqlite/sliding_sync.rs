//! Cross-room reads for sliding sync, each a loop over the rooms inside one reader job. The
//! latest bump event of a room comes from a partial index over the bump event types, so
//! finding it is one index seek however long the room's history.

use std::sync::LazyLock;

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{OwnedRoomId, RoomId};
use rusqlite::params;

use super::{SqliteStore, migrations::Area};
use crate::sliding_sync::{BUMP_EVENT_TYPES, RoomActivity, SlidingSyncStore};

pub(super) const AREA: Area = Area {
    name: "sliding_sync",
    migrations: &[
        // The rooms area owns `events`; this index serves only sliding sync's bump stamps. Its
        // condition must read exactly as `BUMP_CONDITION` for SQLite to use it.
        "CREATE INDEX events_bump ON events (room_id, stream_pos) WHERE type IN \
         ('m.room.create', 'm.room.message', 'm.room.encrypted', 'm.sticker', \
         'm.call.invite', 'm.poll.start', 'm.beacon_info');",
    ],
};

/// `type IN (...)` over [`BUMP_EVENT_TYPES`], the partial index's condition.
static BUMP_CONDITION: LazyLock<String> = LazyLock::new(|| {
    let types: Vec<String> = BUMP_EVENT_TYPES.iter().map(|t| format!("'{t}'")).collect();
    format!("type IN ({})", types.join(", "))
});

static ACTIVITY_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT (SELECT max(stream_pos) FROM events WHERE room_id = ?1 AND stream_pos <= ?2),
                (SELECT max(stream_pos) FROM events
                 WHERE room_id = ?1 AND stream_pos <= ?2 AND {})",
        *BUMP_CONDITION
    )
});

#[async_trait]
impl SlidingSyncStore for SqliteStore {
    async fn room_activity(&self, rooms: Vec<OwnedRoomId>, upto: i64) -> Result<Vec<RoomActivity>> {
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(&ACTIVITY_SQL)?;
                let mut out = Vec::with_capacity(rooms.len());
                for room_id in rooms {
                    let (latest, bump) = stmt.query_row(params![room_id.as_str(), upto], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?;
                    out.push(RoomActivity { room_id, latest, bump });
                }
                Ok(out)
            })
            .await
    }

    async fn current_state_contents(
        &self,
        rooms: Vec<OwnedRoomId>,
        kind: &str,
        state_key: &str,
    ) -> Result<Vec<(OwnedRoomId, String)>> {
        let (kind, state_key) = (kind.to_owned(), state_key.to_owned());
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT json_extract(e.json, '$.content')
                     FROM current_state s JOIN events e ON e.event_id = s.event_id
                     WHERE s.room_id = ?1 AND s.type = ?2 AND s.state_key = ?3",
                )?;
                let mut out = Vec::new();
                for room_id in rooms {
                    let mut rows = stmt.query(params![room_id.as_str(), kind, state_key])?;
                    if let Some(row) = rows.next()? {
                        let content: Option<String> = row.get(0)?;
                        out.push((room_id, content.unwrap_or_else(|| "{}".to_owned())));
                    }
                }
                Ok(out)
            })
            .await
    }

    async fn space_children(&self, space: &RoomId) -> Result<Vec<OwnedRoomId>> {
        let space = space.to_owned();
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT s.state_key FROM current_state s JOIN events e
                     ON e.event_id = s.event_id
                     WHERE s.room_id = ?1 AND s.type = 'm.space.child'
                       AND json_type(e.json, '$.content.via') = 'array'
                       AND json_array_length(e.json, '$.content.via') > 0",
                )?;
                let rows = stmt.query_map([space.as_str()], |r| r.get::<_, String>(0))?;
                let mut out = Vec::new();
                for key in rows {
                    // A state key that is not a room ID names no child.
                    if let Ok(room) = OwnedRoomId::try_from(key?) {
                        out.push(room);
                    }
                }
                Ok(out)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bump query must use the partial index, else it scans each room's history.
    #[test]
    fn bump_lookup_uses_the_partial_index() {
        let mut c = rusqlite::Connection::open_in_memory().unwrap();
        super::super::migrations::migrate(&mut c, &[super::super::rooms::AREA, AREA]).unwrap();
        let sql = format!("EXPLAIN QUERY PLAN {}", *ACTIVITY_SQL);
        let mut stmt = c.prepare(&sql).unwrap();
        let plan: Vec<String> = stmt
            .query_map(params!["!r:x", 10], |r| r.get::<_, String>(3))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert!(plan.iter().any(|p| p.contains("events_bump")), "plan: {plan:?}");
    }
}
