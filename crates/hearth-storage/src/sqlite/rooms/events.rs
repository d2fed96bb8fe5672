//! Reading events: by ID, by transaction ID, and a room's timeline in stream order.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{DeviceId, EventId, OwnedEventId, RoomId, TransactionId, UserId};
use rusqlite::OptionalExtension;

use super::{EVENT_COLUMNS, event_record};
use crate::{rooms::*, sqlite::SqliteStore};

#[async_trait]
impl EventStore for SqliteStore {
    async fn get_event(&self, event_id: &EventId) -> Result<Option<EventRecord>> {
        let event_id = event_id.to_owned();
        self.db
            .read(move |c| {
                let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE event_id = ?1");
                Ok(c.prepare_cached(&sql)?
                    .query_row([event_id.as_str()], event_record)
                    .optional()?)
            })
            .await
    }

    async fn get_events(&self, event_ids: Vec<OwnedEventId>) -> Result<Vec<EventRecord>> {
        self.db
            .read(move |c| {
                let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE event_id = ?1");
                let mut stmt = c.prepare_cached(&sql)?;
                let mut out = Vec::with_capacity(event_ids.len());
                for id in &event_ids {
                    if let Some(record) = stmt.query_row([id.as_str()], event_record).optional()? {
                        out.push(record);
                    }
                }
                Ok(out)
            })
            .await
    }

    async fn event_for_txn(
        &self,
        room_id: &RoomId,
        user_id: &UserId,
        device_id: &DeviceId,
        txn_id: &TransactionId,
    ) -> Result<Option<OwnedEventId>> {
        let key =
            (room_id.to_string(), user_id.to_string(), device_id.to_string(), txn_id.to_string());
        self.db
            .read(move |c| {
                let id: Option<String> = c
                    .prepare_cached(
                        "SELECT event_id FROM events
                         WHERE room_id = ?1 AND sender = ?2 AND txn_device = ?3 AND txn_id = ?4",
                    )?
                    .query_row([&key.0, &key.1, &key.2, &key.3], |r| r.get(0))
                    .optional()?;
                Ok(id.map(TryInto::try_into).transpose()?)
            })
            .await
    }

    async fn room_timeline(
        &self,
        room_id: &RoomId,
        from: i64,
        to: Option<i64>,
        dir: TimelineDirection,
        limit: usize,
    ) -> Result<Vec<EventRecord>> {
        let room_id = room_id.to_owned();
        self.db
            .read(move |c| {
                let sql = match dir {
                    TimelineDirection::Backward => format!(
                        "SELECT {EVENT_COLUMNS} FROM events
                         WHERE room_id = ?1 AND stream_pos <= ?2 AND stream_pos > ?3
                         ORDER BY stream_pos DESC LIMIT ?4"
                    ),
                    TimelineDirection::Forward => format!(
                        "SELECT {EVENT_COLUMNS} FROM events
                         WHERE room_id = ?1 AND stream_pos > ?2 AND stream_pos <= ?3
                         ORDER BY stream_pos ASC LIMIT ?4"
                    ),
                };
                let bound = match dir {
                    TimelineDirection::Backward => to.unwrap_or(0),
                    TimelineDirection::Forward => to.unwrap_or(i64::MAX),
                };
                let rows = c
                    .prepare_cached(&sql)?
                    .query_map(
                        rusqlite::params![room_id.as_str(), from, bound, limit as i64],
                        event_record,
                    )?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(rows)
            })
            .await
    }

    async fn room_event_at(&self, room_id: &RoomId, pos: i64) -> Result<Option<EventRecord>> {
        let room_id = room_id.to_owned();
        self.db
            .read(move |c| {
                let sql = format!(
                    "SELECT {EVENT_COLUMNS} FROM events
                     WHERE room_id = ?1 AND stream_pos <= ?2 ORDER BY stream_pos DESC LIMIT 1"
                );
                Ok(c.prepare_cached(&sql)?
                    .query_row(rusqlite::params![room_id.as_str(), pos], event_record)
                    .optional()?)
            })
            .await
    }

    async fn event_near_timestamp(
        &self,
        room_id: &RoomId,
        ts: i64,
        dir: TimelineDirection,
    ) -> Result<Option<EventRecord>> {
        let room_id = room_id.to_owned();
        self.db
            .read(move |c| {
                let (cmp, order) = match dir {
                    TimelineDirection::Forward => (">=", "ASC"),
                    TimelineDirection::Backward => ("<=", "DESC"),
                };
                let sql = format!(
                    "SELECT {EVENT_COLUMNS} FROM events
                     WHERE room_id = ?1 AND origin_server_ts {cmp} ?2
                        AND outlier = 0 AND rejected = 0 AND stream_pos IS NOT NULL
                     ORDER BY origin_server_ts {order}, stream_pos {order} LIMIT 1"
                );
                Ok(c.prepare_cached(&sql)?
                    .query_row(rusqlite::params![room_id.as_str(), ts], event_record)
                    .optional()?)
            })
            .await
    }

    async fn events_after(&self, after: i64, up_to: i64, limit: usize) -> Result<Vec<EventRecord>> {
        self.db
            .read(move |c| {
                let sql = format!(
                    "SELECT {EVENT_COLUMNS} FROM events
                     WHERE stream_pos > ?1 AND stream_pos <= ?2 ORDER BY stream_pos LIMIT ?3"
                );
                let mut stmt = c.prepare_cached(&sql)?;
                let rows =
                    stmt.query_map(rusqlite::params![after, up_to, limit as i64], event_record)?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }
}
