//! Notifications: storing an evaluated batch, read marks, unread counts, `/notifications`.

use hearth_core::Result;
use ruma::{OwnedEventId, OwnedRoomId, RoomId, UserId};
use rusqlite::{Connection, params};

use super::thread_key;
use crate::{
    push::{EvaluatedBatch, NotificationRecord, ReadMark, ReceiptScope, UnreadCount},
    sqlite::WriteCtx,
};

pub(super) fn evaluated_pos(c: &Connection) -> Result<i64> {
    Ok(c.query_row("SELECT pos FROM push_evaluated", [], |r| r.get(0))?)
}

pub(super) fn store_evaluation(c: &mut WriteCtx<'_>, batch: &EvaluatedBatch) -> Result<usize> {
    let mut insert = c.prepare_cached(
        "INSERT OR IGNORE INTO push_notifications
            (user_id, stream_pos, room_id, event_id, thread_id, highlight, actions, ts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut queue = c.prepare_cached(
        "INSERT INTO push_queue (pusher_id, room_id, event_id, actions, next_attempt_ms,
                                 created_ms)
         SELECT id, ?2, ?3, ?4, ?5, ?5 FROM pushers WHERE user_id = ?1 AND kind = 'http'",
    )?;
    let mut queued = 0;
    for n in &batch.notifications {
        let inserted = insert.execute(params![
            n.user_id.as_str(),
            n.stream_pos,
            n.room_id.as_str(),
            n.event_id.as_str(),
            thread_key(n.thread_id.as_deref()),
            n.highlight,
            n.actions,
            n.ts,
        ])?;
        if inserted > 0 && n.push {
            queued += queue.execute(params![
                n.user_id.as_str(),
                n.room_id.as_str(),
                n.event_id.as_str(),
                n.actions,
                batch.now_ms,
            ])?;
        }
    }
    for mark in &batch.reads {
        mark_read(c, mark)?;
    }
    c.execute("UPDATE push_evaluated SET pos = max(pos, ?1)", [batch.evaluated_up_to])?;
    Ok(queued)
}

pub(super) fn has_unread(c: &Connection, user_id: &UserId, room_id: &RoomId) -> Result<bool> {
    Ok(c.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM push_notifications
                        WHERE user_id = ?1 AND room_id = ?2 AND read = 0)",
    )?
    .query_row(params![user_id.as_str(), room_id.as_str()], |r| r.get(0))?)
}

pub(super) fn mark_read(c: &Connection, mark: &ReadMark) -> Result<usize> {
    let (user, room, up_to) = (mark.user_id.as_str(), mark.room_id.as_str(), mark.up_to);
    let changed = match &mark.scope {
        ReceiptScope::All => c
            .prepare_cached(
                "UPDATE push_notifications SET read = 1
                 WHERE user_id = ?1 AND room_id = ?2 AND stream_pos <= ?3 AND read = 0",
            )?
            .execute(params![user, room, up_to])?,
        ReceiptScope::Main | ReceiptScope::Thread(_) => {
            let thread = match &mark.scope {
                ReceiptScope::Thread(root) => root.as_str(),
                _ => "",
            };
            c.prepare_cached(
                "UPDATE push_notifications SET read = 1
                 WHERE user_id = ?1 AND room_id = ?2 AND thread_id = ?3 AND stream_pos <= ?4
                   AND read = 0",
            )?
            .execute(params![user, room, thread, up_to])?
        }
    };
    Ok(changed)
}

pub(super) fn unread_counts(
    c: &Connection,
    user_id: &UserId,
    room_id: Option<&RoomId>,
    up_to: i64,
) -> Result<Vec<UnreadCount>> {
    let mut stmt = c.prepare_cached(
        "SELECT room_id, thread_id, count(*), sum(highlight) FROM push_notifications
         WHERE user_id = ?1 AND read = 0 AND stream_pos <= ?2 AND (?3 IS NULL OR room_id = ?3)
         GROUP BY room_id, thread_id",
    )?;
    let rows =
        stmt.query_map(params![user_id.as_str(), up_to, room_id.map(|r| r.as_str())], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
    let mut out = Vec::new();
    for row in rows {
        let (room, thread, notifications, highlights) = row?;
        out.push(UnreadCount {
            room_id: OwnedRoomId::try_from(room)?,
            thread_id: (!thread.is_empty()).then(|| OwnedEventId::try_from(thread)).transpose()?,
            notifications: notifications as u64,
            highlights: highlights as u64,
        });
    }
    Ok(out)
}

pub(super) fn notifications(
    c: &Connection,
    user_id: &UserId,
    before: Option<i64>,
    limit: usize,
    only_highlight: bool,
) -> Result<Vec<NotificationRecord>> {
    let mut stmt = c.prepare_cached(
        "SELECT room_id, event_id, stream_pos, highlight, actions, ts, read
         FROM push_notifications
         WHERE user_id = ?1 AND stream_pos < ?2 AND (?3 = 0 OR highlight = 1)
         ORDER BY stream_pos DESC LIMIT ?4",
    )?;
    let before = before.unwrap_or(i64::MAX);
    let rows =
        stmt.query_map(params![user_id.as_str(), before, only_highlight, limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, bool>(6)?,
            ))
        })?;
    let mut out = Vec::new();
    for row in rows {
        let (room, event, stream_pos, highlight, actions, ts, read) = row?;
        out.push(NotificationRecord {
            room_id: room.try_into()?,
            event_id: event.try_into()?,
            stream_pos,
            highlight,
            actions,
            ts,
            read,
        });
    }
    Ok(out)
}
