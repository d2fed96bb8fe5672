//! The delivery queue: rows claimed by the worker for a while, retried later on failure,
//! deleted once delivered (or given up). Deleting a pusher deletes its rows.

use hearth_core::Result;
use ruma::{OwnedEventId, OwnedRoomId, UserId};
use rusqlite::{Connection, OptionalExtension, params};

use super::pushers::{PUSHER_COLUMNS, pusher_record};
use crate::push::QueuedPush;

pub(super) fn queue_badge_update(c: &Connection, user_id: &UserId, now_ms: i64) -> Result<usize> {
    Ok(c.prepare_cached(
        "INSERT INTO push_queue (pusher_id, next_attempt_ms, created_ms)
         SELECT id, ?2, ?2 FROM pushers WHERE user_id = ?1 AND kind = 'http'",
    )?
    .execute(params![user_id.as_str(), now_ms])?)
}

pub(super) fn release_claims(c: &Connection) -> Result<()> {
    c.execute("UPDATE push_queue SET claimed_until_ms = 0 WHERE claimed_until_ms != 0", [])?;
    Ok(())
}

pub(super) fn claim(
    c: &Connection,
    now_ms: i64,
    claimed_until_ms: i64,
    limit: usize,
) -> Result<Vec<QueuedPush>> {
    let sql = format!(
        "SELECT q.id, q.room_id, q.event_id, q.actions, q.attempts, q.created_ms, {PUSHER_COLUMNS}
         FROM push_queue q JOIN pushers p ON p.id = q.pusher_id
         WHERE q.next_attempt_ms <= ?1 AND q.claimed_until_ms <= ?1
         ORDER BY q.id LIMIT ?2"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![now_ms, limit as i64], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, u32>(4)?,
            r.get::<_, i64>(5)?,
            pusher_record(r, 6)?,
        ))
    })?;
    let mut claimed = Vec::new();
    for row in rows {
        let (id, room, event, actions, attempts, created_ms, pusher) = row?;
        claimed.push(QueuedPush {
            id,
            pusher,
            room_id: room.map(OwnedRoomId::try_from).transpose()?,
            event_id: event.map(OwnedEventId::try_from).transpose()?,
            actions,
            attempts,
            created_ms,
        });
    }
    let mut update =
        c.prepare_cached("UPDATE push_queue SET claimed_until_ms = ?2 WHERE id = ?1")?;
    for push in &claimed {
        update.execute(params![push.id, claimed_until_ms])?;
    }
    Ok(claimed)
}

pub(super) fn next_due(c: &Connection) -> Result<Option<i64>> {
    Ok(c.prepare_cached("SELECT min(max(next_attempt_ms, claimed_until_ms)) FROM push_queue")?
        .query_row([], |r| r.get::<_, Option<i64>>(0))
        .optional()?
        .flatten())
}

pub(super) fn remove(c: &Connection, id: i64) -> Result<()> {
    c.prepare_cached("DELETE FROM push_queue WHERE id = ?1")?.execute([id])?;
    Ok(())
}

pub(super) fn retry(c: &Connection, id: i64, next_attempt_ms: i64) -> Result<()> {
    c.prepare_cached(
        "UPDATE push_queue SET attempts = attempts + 1, next_attempt_ms = ?2,
                               claimed_until_ms = 0
         WHERE id = ?1",
    )?
    .execute(params![id, next_attempt_ms])?;
    Ok(())
}
