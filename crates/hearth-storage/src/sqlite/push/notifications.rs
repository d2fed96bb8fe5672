//! Notifications: storing an evaluated batch, read markers, unread counts, `/notifications`.
//!
//! A user's notifications in a room are their own rows plus the room's rows after their join
//! that exclude nobody of them; one is unread when it is after the read marker of its thread
//! and the all-threads marker.

use std::collections::HashMap;

use hearth_core::Result;
use ruma::{OwnedEventId, OwnedRoomId, UserId};
use rusqlite::{Connection, params};

use super::thread_key;
use crate::{
    push::{EvaluatedBatch, MemberSince, NotificationRecord, ReadMark, ReceiptScope, UnreadCount},
    sqlite::WriteCtx,
};

/// The all-threads read marker's thread.
const ALL_THREADS: &str = "*";

pub(super) fn evaluated_pos(c: &Connection) -> Result<i64> {
    Ok(c.query_row("SELECT pos FROM push_evaluated", [], |r| r.get(0))?)
}

pub(super) fn store_evaluation(c: &mut WriteCtx<'_>, batch: &EvaluatedBatch) -> Result<usize> {
    let mut own = c.prepare_cached(
        "INSERT OR IGNORE INTO push_notifications
            (user_id, stream_pos, room_id, event_id, thread_id, highlight, actions, ts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut room = c.prepare_cached(
        "INSERT OR IGNORE INTO push_room_notifications
            (room_id, stream_pos, event_id, sender, thread_id, highlight, actions, ts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for n in &batch.notifications {
        let thread = thread_key(n.thread_id.as_deref());
        let (room_id, event_id) = (n.room_id.as_str(), n.event_id.as_str());
        match &n.user_id {
            Some(user) => own.execute(params![
                user.as_str(),
                n.stream_pos,
                room_id,
                event_id,
                thread,
                n.highlight,
                n.actions,
                n.ts
            ])?,
            None => room.execute(params![
                room_id,
                n.stream_pos,
                event_id,
                n.sender.as_str(),
                thread,
                n.highlight,
                n.actions,
                n.ts
            ])?,
        };
    }
    let mut exclude = c.prepare_cached(
        "INSERT OR IGNORE INTO push_exclusions (user_id, stream_pos) VALUES (?1, ?2)",
    )?;
    for (user, pos) in &batch.exclusions {
        exclude.execute(params![user.as_str(), pos])?;
    }
    let mut queue = c.prepare_cached(
        "INSERT INTO push_queue (pusher_id, room_id, event_id, actions, next_attempt_ms,
                                 created_ms)
         SELECT id, ?2, ?3, ?4, ?5, ?5 FROM pushers WHERE user_id = ?1 AND kind = 'http'",
    )?;
    let mut queued = 0;
    for d in &batch.deliveries {
        queued += queue.execute(params![
            d.user_id.as_str(),
            d.room_id.as_str(),
            d.event_id.as_str(),
            d.actions,
            batch.now_ms,
        ])?;
    }
    for mark in &batch.reads {
        mark_read(c, mark)?;
    }
    c.execute("UPDATE push_evaluated SET pos = max(pos, ?1)", [batch.evaluated_up_to])?;
    Ok(queued)
}

pub(super) fn mark_read(c: &Connection, mark: &ReadMark) -> Result<bool> {
    let thread = match &mark.scope {
        ReceiptScope::All => ALL_THREADS,
        ReceiptScope::Main => "",
        ReceiptScope::Thread(root) => root.as_str(),
    };
    let moved = c
        .prepare_cached(
            "INSERT INTO push_read (user_id, room_id, thread_id, up_to) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (user_id, room_id, thread_id) DO UPDATE SET up_to = excluded.up_to
             WHERE excluded.up_to > push_read.up_to",
        )?
        .execute(params![mark.user_id.as_str(), mark.room_id.as_str(), thread, mark.up_to])?;
    Ok(moved > 0)
}

/// The user's read markers: room -> thread -> position.
type Markers = HashMap<String, HashMap<String, i64>>;

/// The user's read markers, in one room or (`None`) all.
fn markers(c: &Connection, user_id: &UserId, room: Option<&str>) -> Result<Markers> {
    let mut stmt = c.prepare_cached(
        "SELECT room_id, thread_id, up_to FROM push_read
         WHERE user_id = ?1 AND (?2 IS NULL OR room_id = ?2)",
    )?;
    let rows = stmt.query_map(params![user_id.as_str(), room], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
    })?;
    let mut out = Markers::new();
    for row in rows {
        let (room, thread, up_to) = row?;
        out.entry(room).or_default().insert(thread, up_to);
    }
    Ok(out)
}

/// Where the user has read up to in one room's thread (`floor`: not before it either).
fn read_up_to(marks: Option<&HashMap<String, i64>>, thread: &str, floor: i64) -> i64 {
    let mark = |t: &str| marks.and_then(|m| m.get(t)).copied().unwrap_or(0);
    floor.max(mark(ALL_THREADS)).max(mark(thread))
}

/// A notification row as read for counting and listing.
struct Row {
    room_id: String,
    event_id: String,
    stream_pos: i64,
    thread_id: String,
    highlight: bool,
    actions: String,
    ts: i64,
}

/// The user's own rows (in every room when `?5` is NULL).
const OWN_ROWS: &str = "SELECT room_id, event_id, stream_pos, thread_id, highlight, actions, ts
     FROM push_notifications
     WHERE user_id = ?1 AND stream_pos > ?2 AND stream_pos < ?3 AND (?4 = 0 OR highlight = 1)
       AND (?5 IS NULL OR room_id = ?5)
     ORDER BY stream_pos DESC LIMIT ?6";

const ROOM_ROWS: &str = "SELECT room_id, event_id, stream_pos, thread_id, highlight, actions, ts
     FROM push_room_notifications r
     WHERE room_id = ?5 AND stream_pos > ?2 AND stream_pos < ?3 AND (?4 = 0 OR highlight = 1)
       AND sender != ?1
       AND NOT EXISTS (SELECT 1 FROM push_exclusions x
                       WHERE x.user_id = ?1 AND x.stream_pos = r.stream_pos)
     ORDER BY stream_pos DESC LIMIT ?6";

/// Rows of `sql` (`OWN_ROWS` or `ROOM_ROWS`) in `(after, before)`.
fn rows(
    c: &Connection,
    sql: &str,
    user_id: &UserId,
    room: Option<&str>,
    (after, before): (i64, i64),
    only_highlight: bool,
    limit: usize,
) -> Result<Vec<Row>> {
    let mut stmt = c.prepare_cached(sql)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(
        params![user_id.as_str(), after, before, only_highlight, room, limit],
        |r| {
            Ok(Row {
                room_id: r.get(0)?,
                event_id: r.get(1)?,
                stream_pos: r.get(2)?,
                thread_id: r.get(3)?,
                highlight: r.get(4)?,
                actions: r.get(5)?,
                ts: r.get(6)?,
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Per-thread counts of the user's own rows in room `?2` in `(?3, ?4]` (one thread if `?5`).
const OWN_COUNTS: &str = "SELECT thread_id, count(*), coalesce(sum(highlight), 0)
     FROM push_notifications INDEXED BY push_notifications_by_room
     WHERE user_id = ?1 AND room_id = ?2 AND stream_pos > ?3 AND stream_pos <= ?4
       AND (?5 IS NULL OR thread_id = ?5)
     GROUP BY thread_id";

/// The same for the room's rows that concern the user.
const ROOM_COUNTS: &str = "SELECT thread_id, count(*), coalesce(sum(highlight), 0)
     FROM push_room_notifications r
     WHERE room_id = ?2 AND stream_pos > ?3 AND stream_pos <= ?4
       AND (?5 IS NULL OR thread_id = ?5) AND sender != ?1
       AND NOT EXISTS (SELECT 1 FROM push_exclusions x
                       WHERE x.user_id = ?1 AND x.stream_pos = r.stream_pos)
     GROUP BY thread_id";

/// Thread -> (notifications, highlights).
type ThreadCounts = HashMap<String, (u64, u64)>;

/// Counted in SQL: a user with thousands of unread notifications costs no rows in Rust.
fn count(
    c: &Connection,
    user_id: &UserId,
    room_id: &str,
    (after, up_to): (i64, i64),
    thread: Option<&str>,
) -> Result<ThreadCounts> {
    let mut out = ThreadCounts::new();
    for sql in [OWN_COUNTS, ROOM_COUNTS] {
        let mut stmt = c.prepare_cached(sql)?;
        let rows = stmt
            .query_map(params![user_id.as_str(), room_id, after, up_to, thread], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
            })?;
        for row in rows {
            let (thread, n, h) = row?;
            let counts = out.entry(thread).or_default();
            counts.0 += n.max(0) as u64;
            counts.1 += h.max(0) as u64;
        }
    }
    Ok(out)
}

pub(super) fn unread_counts(
    c: &Connection,
    user_id: &UserId,
    rooms: &[MemberSince],
    up_to: i64,
) -> Result<Vec<UnreadCount>> {
    let only = match rooms {
        [one] => Some(one.room_id.as_str()),
        _ => None,
    };
    let marks = markers(c, user_id, only)?;
    let mut out = Vec::new();
    for room in rooms {
        let room_id = room.room_id.as_str();
        let room_marks = marks.get(room_id);
        // Nothing at or before the all-threads marker (or the join) can be unread.
        let floor = read_up_to(room_marks, ALL_THREADS, room.joined_at);
        let mut threads = count(c, user_id, room_id, (floor, up_to), None)?;
        // Threads (and the main timeline) read further than the floor: counted again above
        // their own marker.
        for (thread, &mark) in room_marks.into_iter().flatten() {
            if thread != ALL_THREADS && mark > floor && threads.contains_key(thread) {
                let recount = count(c, user_id, room_id, (mark, up_to), Some(thread))?;
                match recount.get(thread) {
                    Some(&counts) => threads.insert(thread.clone(), counts),
                    None => threads.remove(thread),
                };
            }
        }
        for (thread, (notifications, highlights)) in threads {
            out.push(UnreadCount {
                room_id: room.room_id.clone(),
                thread_id: (!thread.is_empty())
                    .then(|| OwnedEventId::try_from(thread))
                    .transpose()?,
                notifications,
                highlights,
            });
        }
    }
    Ok(out)
}

/// Which notifications `/notifications` asks for.
pub(super) struct Page {
    pub before: i64,
    pub limit: usize,
    pub only_highlight: bool,
}

pub(super) fn notifications(
    c: &Connection,
    user_id: &UserId,
    rooms: &[MemberSince],
    page: &Page,
) -> Result<Vec<NotificationRecord>> {
    let marks = markers(c, user_id, None)?;
    let (limit, highlight) = (page.limit, page.only_highlight);
    let mut found = rows(c, OWN_ROWS, user_id, None, (0, page.before), highlight, limit)?;
    for room in rooms {
        let (key, range) = (Some(room.room_id.as_str()), (room.joined_at, page.before));
        found.extend(rows(c, ROOM_ROWS, user_id, key, range, highlight, limit)?);
    }
    found.sort_by_key(|r| std::cmp::Reverse(r.stream_pos));
    found.truncate(limit);
    let mut out = Vec::with_capacity(found.len());
    for row in found {
        let read_to = read_up_to(marks.get(&row.room_id), &row.thread_id, 0);
        out.push(NotificationRecord {
            room_id: OwnedRoomId::try_from(row.room_id)?,
            event_id: OwnedEventId::try_from(row.event_id)?,
            stream_pos: row.stream_pos,
            highlight: row.highlight,
            actions: row.actions,
            ts: row.ts,
            read: row.stream_pos <= read_to,
        });
    }
    Ok(out)
}
