//! Relations and threads in SQLite. `event_relations` has one row per child event (copied from
//! its `m.relates_to` when persisted); `threads` keeps each thread root's latest child so
//! `/threads` pages without grouping every child. Redacting a child removes its rows.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{EventId, OwnedEventId, OwnedUserId, RoomId, UserId};
use rusqlite::{OptionalExtension, Row, params};

use super::{SqliteStore, WriteCtx, migrations::Area};
use crate::{
    NewEvent, RelationRecord, RelationStore, RelationsQuery, ThreadSummary, TimelineDirection,
};

pub(super) const AREA: Area = Area {
    name: "relations",
    migrations: &["
        CREATE TABLE event_relations (
            event_id TEXT PRIMARY KEY,
            room_id TEXT NOT NULL,
            relates_to TEXT NOT NULL,
            rel_type TEXT NOT NULL,
            type TEXT NOT NULL,
            sender TEXT NOT NULL,
            aggregation_key TEXT,
            stream_pos INTEGER NOT NULL,
            origin_server_ts INTEGER NOT NULL
        );
        CREATE INDEX event_relations_parent ON event_relations (relates_to, stream_pos);
        CREATE TABLE threads (
            root_id TEXT PRIMARY KEY,
            room_id TEXT NOT NULL,
            latest_event_id TEXT NOT NULL,
            latest_pos INTEGER NOT NULL
        );
        CREATE INDEX threads_by_room ON threads (room_id, latest_pos);
    "],
};

const COLUMNS: &str =
    "r.event_id, r.relates_to, r.rel_type, r.type, r.sender, r.stream_pos, r.origin_server_ts";

fn record(r: &Row<'_>) -> rusqlite::Result<(String, String, String, String, String, i64, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
}

fn parse(row: (String, String, String, String, String, i64, i64)) -> Result<RelationRecord> {
    Ok(RelationRecord {
        event_id: row.0.try_into()?,
        relates_to: row.1.try_into()?,
        rel_type: row.2,
        kind: row.3,
        sender: row.4.try_into()?,
        stream_pos: row.5,
        origin_server_ts: row.6,
    })
}

fn collect(
    rows: impl Iterator<Item = rusqlite::Result<(String, String, String, String, String, i64, i64)>>,
) -> Result<Vec<RelationRecord>> {
    rows.map(|r| parse(r?)).collect()
}

fn json_list<T: ToString>(items: &[T]) -> String {
    serde_json::Value::from(items.iter().map(ToString::to_string).collect::<Vec<_>>()).to_string()
}

/// Index a newly persisted event's relationship (inside the persist transaction).
pub(super) fn index(c: &WriteCtx<'_>, e: &NewEvent, pos: i64) -> Result<()> {
    let Some(rel) = &e.relation else { return Ok(()) };
    c.prepare_cached(
        "INSERT OR IGNORE INTO event_relations (event_id, room_id, relates_to, rel_type, type,
            sender, aggregation_key, stream_pos, origin_server_ts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        e.event_id.as_str(),
        e.room_id.as_str(),
        rel.relates_to.as_str(),
        rel.rel_type,
        e.kind,
        e.sender.as_str(),
        rel.key,
        pos,
        e.origin_server_ts,
    ])?;
    if rel.rel_type == "m.thread" {
        c.prepare_cached(
            "INSERT INTO threads (root_id, room_id, latest_event_id, latest_pos)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (root_id) DO UPDATE SET latest_event_id = excluded.latest_event_id,
                latest_pos = excluded.latest_pos WHERE excluded.latest_pos > threads.latest_pos",
        )?
        .execute(params![
            rel.relates_to.as_str(),
            e.room_id.as_str(),
            e.event_id.as_str(),
            pos
        ])?;
    }
    Ok(())
}

/// Forget a redacted event's relationship; its thread's latest child is found again.
pub(super) fn unindex(c: &WriteCtx<'_>, event_id: &str) -> Result<()> {
    let parent: Option<(String, String)> = c
        .prepare_cached(
            "DELETE FROM event_relations WHERE event_id = ?1 RETURNING relates_to, rel_type",
        )?
        .query_row([event_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((root, "m.thread")) = parent.as_ref().map(|(p, t)| (p.as_str(), t.as_str())) else {
        return Ok(());
    };
    let latest: Option<(String, i64)> = c
        .prepare_cached(
            "SELECT event_id, stream_pos FROM event_relations
             WHERE relates_to = ?1 AND rel_type = 'm.thread' ORDER BY stream_pos DESC LIMIT 1",
        )?
        .query_row([root], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match latest {
        Some((id, pos)) => c
            .prepare_cached(
                "UPDATE threads SET latest_event_id = ?2, latest_pos = ?3 WHERE root_id = ?1",
            )?
            .execute(params![root, id, pos])?,
        None => c.prepare_cached("DELETE FROM threads WHERE root_id = ?1")?.execute([root])?,
    };
    Ok(())
}

#[async_trait]
impl RelationStore for SqliteStore {
    async fn relations(&self, q: RelationsQuery) -> Result<Vec<RelationRecord>> {
        self.db
            .read(move |c| {
                // Descendants up to `depth` levels, each level matching the filters.
                let (range, order) = match q.dir {
                    TimelineDirection::Backward => {
                        ("r.stream_pos <= ?5 AND r.stream_pos > ?6", "DESC")
                    }
                    TimelineDirection::Forward => {
                        ("r.stream_pos > ?5 AND r.stream_pos <= ?6", "ASC")
                    }
                };
                let sql = format!(
                    "WITH RECURSIVE tree(event_id, depth) AS (
                        SELECT event_id, 1 FROM event_relations
                        WHERE relates_to = ?1 AND (?2 IS NULL OR rel_type = ?2)
                            AND (?3 IS NULL OR type = ?3)
                        UNION
                        SELECT c.event_id, tree.depth + 1 FROM event_relations c
                        JOIN tree ON c.relates_to = tree.event_id
                        WHERE tree.depth < ?4 AND (?2 IS NULL OR c.rel_type = ?2)
                            AND (?3 IS NULL OR c.type = ?3)
                     )
                     SELECT {COLUMNS} FROM tree JOIN event_relations r ON r.event_id = tree.event_id
                     WHERE {range} ORDER BY r.stream_pos {order} LIMIT ?7"
                );
                let bound = match q.dir {
                    TimelineDirection::Backward => q.to.unwrap_or(0),
                    TimelineDirection::Forward => q.to.unwrap_or(i64::MAX),
                };
                let mut stmt = c.prepare_cached(&sql)?;
                let rows = stmt.query_map(
                    params![
                        q.parent.as_str(),
                        q.rel_type,
                        q.event_type,
                        q.depth,
                        q.from,
                        bound,
                        q.limit as i64
                    ],
                    record,
                )?;
                collect(rows)
            })
            .await
    }

    async fn relation_of(&self, event_id: &EventId) -> Result<Option<RelationRecord>> {
        let event_id = event_id.to_owned();
        self.db
            .read(move |c| {
                let sql = format!("SELECT {COLUMNS} FROM event_relations r WHERE r.event_id = ?1");
                c.prepare_cached(&sql)?
                    .query_row([event_id.as_str()], record)
                    .optional()?
                    .map(parse)
                    .transpose()
            })
            .await
    }

    async fn children_of(
        &self,
        parents: Vec<OwnedEventId>,
        rel_types: &'static [&'static str],
        ignored: Vec<OwnedUserId>,
    ) -> Result<Vec<RelationRecord>> {
        if parents.is_empty() {
            return Ok(Vec::new());
        }
        self.db
            .read(move |c| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM event_relations r
                     WHERE r.relates_to IN (SELECT value FROM json_each(?1))
                        AND r.rel_type IN (SELECT value FROM json_each(?2))
                        AND r.sender NOT IN (SELECT value FROM json_each(?3))
                     ORDER BY r.stream_pos"
                );
                let args = (json_list(&parents), json_list(rel_types), json_list(&ignored));
                collect(c.prepare_cached(&sql)?.query_map([args.0, args.1, args.2], record)?)
            })
            .await
    }

    async fn thread_summaries(
        &self,
        roots: Vec<OwnedEventId>,
        user: &UserId,
        ignored: Vec<OwnedUserId>,
    ) -> Result<Vec<ThreadSummary>> {
        if roots.is_empty() {
            return Ok(Vec::new());
        }
        let user = user.to_string();
        self.db
            .read(move |c| {
                // SQLite: bare columns of an aggregate query come from the row holding max().
                let mut stmt = c.prepare_cached(
                    "SELECT r.relates_to, count(*), max(r.stream_pos), r.event_id,
                        EXISTS (SELECT 1 FROM event_relations p WHERE p.relates_to = r.relates_to
                            AND p.rel_type = 'm.thread' AND p.sender = ?2)
                     FROM event_relations r
                     WHERE r.relates_to IN (SELECT value FROM json_each(?1))
                        AND r.rel_type = 'm.thread'
                        AND r.sender NOT IN (SELECT value FROM json_each(?3))
                     GROUP BY r.relates_to",
                )?;
                let rows =
                    stmt.query_map(params![json_list(&roots), user, json_list(&ignored)], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, bool>(4)?,
                        ))
                    })?;
                let mut out = Vec::new();
                for row in rows {
                    let (root, count, latest, participated) = row?;
                    out.push(ThreadSummary {
                        root: root.try_into()?,
                        count: count.max(0) as u64,
                        latest_event: latest.try_into()?,
                        participated,
                    });
                }
                Ok(out)
            })
            .await
    }

    async fn threads(
        &self,
        room_id: &RoomId,
        participant: Option<&UserId>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(OwnedEventId, i64)>> {
        let room_id = room_id.to_string();
        let participant = participant.map(|p| p.to_string());
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT t.root_id, t.latest_pos FROM threads t
                     WHERE t.room_id = ?1 AND t.latest_pos < ?2
                        AND (?3 IS NULL
                            OR EXISTS (SELECT 1 FROM events e
                                WHERE e.event_id = t.root_id AND e.sender = ?3)
                            OR EXISTS (SELECT 1 FROM event_relations r
                                WHERE r.relates_to = t.root_id AND r.rel_type = 'm.thread'
                                    AND r.sender = ?3))
                     ORDER BY t.latest_pos DESC LIMIT ?4",
                )?;
                let rows = stmt.query_map(
                    params![room_id, before.unwrap_or(i64::MAX), participant, limit as i64],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
                )?;
                let mut out = Vec::new();
                for row in rows {
                    let (root, pos) = row?;
                    out.push((root.try_into()?, pos));
                }
                Ok(out)
            })
            .await
    }

    async fn has_annotation(&self, parent: &EventId, sender: &UserId, key: &str) -> Result<bool> {
        let args = (parent.to_string(), sender.to_string(), key.to_owned());
        self.db
            .read(move |c| {
                Ok(c.prepare_cached(
                    "SELECT 1 FROM event_relations WHERE relates_to = ?1 AND sender = ?2
                        AND rel_type = 'm.annotation' AND aggregation_key = ?3 LIMIT 1",
                )?
                .query_row([&args.0, &args.1, &args.2], |_| Ok(()))
                .optional()?
                .is_some())
            })
            .await
    }
}
