//! Receipts in SQLite: one row per (room, type, user, thread), replaced as it moves forward.
//! Unthreaded receipts use the thread `''`.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{RoomId, UserId};
use rusqlite::{OptionalExtension, Row, params};

use super::{SqliteStore, migrations::Area};
use crate::receipts::{NewReceipt, ReceiptRecord, ReceiptStore};

pub(super) const AREA: Area = Area {
    name: "receipts",
    migrations: &["
        CREATE TABLE receipts (
            room_id TEXT NOT NULL,
            receipt_type TEXT NOT NULL,
            user_id TEXT NOT NULL,
            thread_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            event_pos INTEGER NOT NULL,
            ts INTEGER NOT NULL,
            stream_pos INTEGER NOT NULL,
            PRIMARY KEY (room_id, receipt_type, user_id, thread_id)
        ) WITHOUT ROWID;
        CREATE INDEX receipts_by_pos ON receipts (room_id, stream_pos);
        CREATE INDEX receipts_by_user ON receipts (user_id, room_id);
    "],
};

const COLUMNS: &str = "room_id, receipt_type, user_id, thread_id, event_id, ts, stream_pos";

fn record(r: &Row<'_>) -> rusqlite::Result<(String, String, String, String, String, i64, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
}

fn parse(row: (String, String, String, String, String, i64, i64)) -> Result<ReceiptRecord> {
    let (room_id, receipt_type, user_id, thread_id, event_id, ts, stream_pos) = row;
    Ok(ReceiptRecord {
        room_id: room_id.try_into()?,
        receipt_type,
        user_id: user_id.try_into()?,
        thread_id: (!thread_id.is_empty()).then_some(thread_id),
        event_id: event_id.try_into()?,
        ts: ts.max(0) as u64,
        stream_pos,
    })
}

#[async_trait]
impl ReceiptStore for SqliteStore {
    async fn set_receipt(&self, r: NewReceipt) -> Result<Option<i64>> {
        self.db
            .write(move |c| {
                let thread = r.thread_id.clone().unwrap_or_default();
                let key = params![r.room_id.as_str(), r.receipt_type, r.user_id.as_str(), thread];
                let existing: Option<i64> = c
                    .prepare_cached(
                        "SELECT event_pos FROM receipts WHERE room_id = ?1 AND receipt_type = ?2
                            AND user_id = ?3 AND thread_id = ?4",
                    )?
                    .query_row(key, |row| row.get(0))
                    .optional()?;
                if existing.is_some_and(|pos| pos >= r.event_pos) {
                    return Ok(None);
                }
                let pos = c.next_pos();
                c.prepare_cached(
                    "INSERT INTO receipts (room_id, receipt_type, user_id, thread_id, event_id,
                        event_pos, ts, stream_pos) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (room_id, receipt_type, user_id, thread_id) DO UPDATE SET
                        event_id = excluded.event_id, event_pos = excluded.event_pos,
                        ts = excluded.ts, stream_pos = excluded.stream_pos",
                )?
                .execute(params![
                    r.room_id.as_str(),
                    r.receipt_type,
                    r.user_id.as_str(),
                    thread,
                    r.event_id.as_str(),
                    r.event_pos,
                    r.ts as i64,
                    pos
                ])?;
                Ok(Some(pos))
            })
            .await
    }

    async fn room_receipts(
        &self,
        rooms: Vec<ruma::OwnedRoomId>,
        since: i64,
        until: i64,
    ) -> Result<Vec<ReceiptRecord>> {
        self.db
            .read(move |c| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM receipts
                     WHERE room_id = ?1 AND stream_pos > ?2 AND stream_pos <= ?3"
                );
                let mut stmt = c.prepare_cached(&sql)?;
                let mut out = Vec::new();
                for room in &rooms {
                    for row in stmt.query_map(params![room.as_str(), since, until], record)? {
                        out.push(parse(row?)?);
                    }
                }
                Ok(out)
            })
            .await
    }

    async fn user_receipts(
        &self,
        room_id: &RoomId,
        user_id: &UserId,
    ) -> Result<Vec<ReceiptRecord>> {
        let (room_id, user_id) = (room_id.to_owned(), user_id.to_owned());
        self.db
            .read(move |c| {
                let sql =
                    format!("SELECT {COLUMNS} FROM receipts WHERE user_id = ?1 AND room_id = ?2");
                let mut stmt = c.prepare_cached(&sql)?;
                let rows = stmt.query_map(params![user_id.as_str(), room_id.as_str()], record)?;
                rows.map(|row| parse(row?)).collect()
            })
            .await
    }
}
