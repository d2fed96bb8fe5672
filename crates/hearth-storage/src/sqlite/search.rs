//! Full-text search with FTS5: one row per searchable event, its rowid the event's stream
//! position, so results join back to `events` and redactions delete by position. Rows are
//! written in batches by the search service's indexer, which records its position.

use async_trait::async_trait;
use hearth_core::Result;
use rusqlite::params;

use super::{
    SqliteStore, WriteCtx,
    migrations::Area,
    rooms::{EVENT_COLUMNS, event_record},
};
use crate::{EventRecord, SearchCursor, SearchOrder, SearchQuery, SearchRow, SearchStore};

pub(super) const AREA: Area = Area {
    name: "search",
    migrations: &[
        "
        CREATE VIRTUAL TABLE event_search USING fts5(
            body, room_id UNINDEXED, key UNINDEXED,
            tokenize = 'unicode61 remove_diacritics 2'
        );
    ",
        "
        -- Indexing moved out of the event's own transaction: until here it was complete.
        CREATE TABLE search_position (pos INTEGER NOT NULL);
        INSERT INTO search_position (pos) SELECT pos FROM stream_position;
    ",
    ],
};

/// Drop a redacted event from the index.
pub(super) fn unindex(c: &WriteCtx<'_>, event_id: &str) -> Result<()> {
    c.prepare_cached(
        "DELETE FROM event_search WHERE rowid = (SELECT stream_pos FROM events WHERE event_id = ?1)",
    )?
    .execute([event_id])?;
    Ok(())
}

/// An FTS5 query in which every term must occur as a prefix of a word: `"a"* "b"*`.
fn match_expression(terms: &[String]) -> String {
    terms.iter().map(|t| format!("\"{}\"*", t.replace('"', "\"\""))).collect::<Vec<_>>().join(" ")
}

fn json_list(items: &[impl ToString]) -> String {
    serde_json::Value::from(items.iter().map(ToString::to_string).collect::<Vec<_>>()).to_string()
}

#[async_trait]
impl SearchStore for SqliteStore {
    async fn search_indexed_pos(&self) -> Result<i64> {
        self.db
            .read(|c| Ok(c.query_row("SELECT pos FROM search_position", [], |r| r.get(0))?))
            .await
    }

    async fn index_search(&self, rows: Vec<SearchRow>, up_to: i64) -> Result<()> {
        self.db
            .write(move |c| {
                let mut insert = c.prepare_cached(
                    "INSERT INTO event_search (rowid, body, room_id, key)
                     SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (
                        SELECT 1 FROM events WHERE stream_pos = ?1 AND redacted_by IS NOT NULL)",
                )?;
                for row in &rows {
                    insert.execute(params![
                        row.stream_pos,
                        row.text,
                        row.room_id.as_str(),
                        row.key
                    ])?;
                }
                c.prepare_cached("UPDATE search_position SET pos = ?1")?.execute([up_to])?;
                Ok(())
            })
            .await
    }

    async fn search_events(
        &self,
        q: SearchQuery,
        cursor: Option<SearchCursor>,
        limit: usize,
    ) -> Result<Vec<(EventRecord, f64)>> {
        if q.terms.is_empty() {
            return Ok(Vec::new());
        }
        self.db
            .read(move |c| {
                let columns: Vec<String> =
                    EVENT_COLUMNS.split(", ").map(|col| format!("e.{}", col.trim())).collect();
                let (range, order) = match q.order {
                    SearchOrder::Rank => ("1", "bm25(event_search), event_search.rowid DESC"),
                    SearchOrder::Recent => ("event_search.rowid < ?5", "event_search.rowid DESC"),
                };
                let sql = format!(
                    "SELECT {}, -bm25(event_search)
                     FROM event_search JOIN events e ON e.stream_pos = event_search.rowid
                     WHERE event_search MATCH ?1
                        AND event_search.room_id IN (SELECT value FROM json_each(?2))
                        AND event_search.key IN (SELECT value FROM json_each(?3))
                        AND {range}
                     ORDER BY {order} LIMIT ?4 OFFSET ?6",
                    columns.join(", ")
                );
                let (before, offset) = match cursor {
                    Some(SearchCursor::Before(pos)) => (pos, 0),
                    Some(SearchCursor::Offset(n)) => (i64::MAX, n as i64),
                    None => (i64::MAX, 0),
                };
                let offset = if q.order == SearchOrder::Rank { offset } else { 0 };
                let mut stmt = c.prepare_cached(&sql)?;
                let rows = stmt.query_map(
                    params![
                        match_expression(&q.terms),
                        json_list(&q.rooms),
                        json_list(&q.keys),
                        limit as i64,
                        before,
                        offset
                    ],
                    |r| Ok((event_record(r)?, r.get::<_, f64>(columns.len())?)),
                )?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    async fn count_search_results(&self, q: SearchQuery) -> Result<u64> {
        if q.terms.is_empty() {
            return Ok(0);
        }
        self.db
            .read(move |c| {
                let n: i64 = c
                    .prepare_cached(
                        "SELECT count(*) FROM event_search WHERE event_search MATCH ?1
                            AND room_id IN (SELECT value FROM json_each(?2))
                            AND key IN (SELECT value FROM json_each(?3))",
                    )?
                    .query_row(
                        params![
                            match_expression(&q.terms),
                            json_list(&q.rooms),
                            json_list(&q.keys)
                        ],
                        |r| r.get(0),
                    )?;
                Ok(n.max(0) as u64)
            })
            .await
    }
}
