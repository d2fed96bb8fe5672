//! Writing one event and everything it changes, inside the writer's transaction.

use hearth_core::{Error, Result, utils::now_millis};
use rusqlite::{OptionalExtension, params};

use crate::{rooms::*, sqlite::WriteCtx};

pub(super) fn persist(c: &mut WriteCtx<'_>, e: &NewEvent) -> Result<i64> {
    // An event built on one that failed to commit must fail too (events of a room are built
    // ahead of their commit); this keeps the graph free of dangling edges.
    for prev in &e.prev_events {
        let known = c
            .prepare_cached("SELECT 1 FROM events WHERE event_id = ?1")?
            .query_row([prev.as_str()], |_| Ok(()))
            .optional()?;
        if known.is_none() {
            return Err(Error::internal(format!("prev event {prev} of {} is missing", e.event_id)));
        }
    }
    if let Some(room) = &e.new_room {
        c.execute(
            "INSERT INTO rooms (room_id, version, is_public, created_ts) VALUES (?1, ?2, ?3, ?4)",
            params![room.room_id.as_str(), room.version, room.public, now_millis() as i64],
        )?;
    }
    for group in &e.new_state_groups {
        insert_state_group(c, group)?;
    }
    let pos = c.next_pos();
    insert_event(c, e, pos)?;
    crate::sqlite::relations::index(c, e, pos)?;
    for prev in &e.prev_events {
        c.prepare_cached(
            "INSERT OR IGNORE INTO event_children (prev_event_id, event_id) VALUES (?1, ?2)",
        )?
        .execute([prev.as_str(), e.event_id.as_str()])?;
    }
    apply_redactions(c, e)?;
    c.prepare_cached("DELETE FROM forward_extremities WHERE room_id = ?1")?
        .execute([e.room_id.as_str()])?;
    for id in &e.forward_extremities {
        c.prepare_cached("INSERT INTO forward_extremities (room_id, event_id) VALUES (?1, ?2)")?
            .execute([e.room_id.as_str(), id.as_str()])?;
    }
    update_current_state(c, e)?;
    update_memberships(c, e, pos)?;
    if let Some(rule) = &e.join_rule {
        c.prepare_cached("UPDATE rooms SET join_rule = ?2 WHERE room_id = ?1")?
            .execute([e.room_id.as_str(), rule.as_str()])?;
    }
    if let Some(visibility) = &e.history_visibility {
        c.prepare_cached("UPDATE rooms SET history_visibility = ?2 WHERE room_id = ?1")?
            .execute([e.room_id.as_str(), visibility.as_str()])?;
    }
    Ok(pos)
}

fn insert_event(c: &WriteCtx<'_>, e: &NewEvent, pos: i64) -> Result<()> {
    let (txn_device, txn_id) = match &e.txn {
        Some((d, t)) => (Some(d.as_str()), Some(t.as_str())),
        None => (None, None),
    };
    c.prepare_cached(
        "INSERT INTO events (event_id, room_id, stream_pos, depth, type, state_key, sender,
            origin_server_ts, json, redacts, replaces_state, state_group_before,
            state_group_after, txn_device, txn_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        e.event_id.as_str(),
        e.room_id.as_str(),
        pos,
        e.depth,
        e.kind,
        e.state_key,
        e.sender.as_str(),
        e.origin_server_ts,
        e.json,
        e.redacts.as_ref().map(|r| r.as_str()),
        e.replaces_state.as_ref().map(|r| r.as_str()),
        e.state_group_before,
        e.state_group_after,
        txn_device,
        txn_id,
    ])?;
    Ok(())
}

fn insert_state_group(c: &WriteCtx<'_>, g: &NewStateGroup) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO state_groups (id, room_id, prev_group, chain_len) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![g.id, g.room_id.as_str(), g.prev_group, g.chain_len])?;
    let mut stmt = c.prepare_cached(
        "INSERT INTO state_group_entries (group_id, type, state_key, event_id)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for ((kind, key), id) in &g.entries {
        stmt.execute(params![g.id, kind, key, id.as_ref().map(|i| i.as_str())])?;
    }
    Ok(())
}

/// A redaction of the event being persisted that arrived before it. The unary `+` keeps
/// SQLite from choosing an index by room (it has no statistics), which scanned all of the
/// room's events for every event persisted: sends and joins slowed as a room grew.
const EARLIER_REDACTION: &str = "SELECT event_id FROM events
     WHERE redacts = ?1 AND +room_id = ?2 AND rejected = 0 AND event_id != ?1 LIMIT 1";

/// Mark the target of a redaction, and this event if a redaction of it arrived first. A
/// redacted event leaves the relations and search indexes.
fn apply_redactions(c: &WriteCtx<'_>, e: &NewEvent) -> Result<()> {
    if let Some(target) = &e.redacts {
        let n = c
            .prepare_cached(
                "UPDATE events SET redacted_by = ?1
                 WHERE event_id = ?2 AND room_id = ?3 AND redacted_by IS NULL",
            )?
            .execute([e.event_id.as_str(), target.as_str(), e.room_id.as_str()])?;
        if n == 1 {
            unindex(c, target.as_str())?;
        }
    }
    let earlier: Option<String> = c
        .prepare_cached(EARLIER_REDACTION)?
        .query_row([e.event_id.as_str(), e.room_id.as_str()], |r| r.get(0))
        .optional()?;
    if let Some(redaction) = earlier {
        c.prepare_cached("UPDATE events SET redacted_by = ?1 WHERE event_id = ?2")?
            .execute([redaction.as_str(), e.event_id.as_str()])?;
        unindex(c, e.event_id.as_str())?;
    }
    Ok(())
}

fn unindex(c: &WriteCtx<'_>, event_id: &str) -> Result<()> {
    crate::sqlite::relations::unindex(c, event_id)?;
    crate::sqlite::search::unindex(c, event_id)
}

fn update_current_state(c: &WriteCtx<'_>, e: &NewEvent) -> Result<()> {
    for ((kind, key), id) in &e.current_state_delta {
        match id {
            Some(id) => c
                .prepare_cached(
                    "INSERT INTO current_state (room_id, type, state_key, event_id)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (room_id, type, state_key) DO UPDATE SET event_id = excluded.event_id",
                )?
                .execute(params![e.room_id.as_str(), kind, key, id.as_str()])?,
            None => c
                .prepare_cached(
                    "DELETE FROM current_state WHERE room_id = ?1 AND type = ?2 AND state_key = ?3",
                )?
                .execute(params![e.room_id.as_str(), kind, key])?,
        };
    }
    Ok(())
}

fn update_memberships(c: &WriteCtx<'_>, e: &NewEvent, pos: i64) -> Result<()> {
    for m in &e.membership_updates {
        c.prepare_cached(
            "INSERT INTO room_memberships (room_id, user_id, membership, event_id, sender,
                stream_pos, display_name, avatar_url, forgotten, joined_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, CASE WHEN ?3 = 'join' THEN ?6 END)
             ON CONFLICT (room_id, user_id) DO UPDATE SET membership = excluded.membership,
                event_id = excluded.event_id, sender = excluded.sender,
                stream_pos = excluded.stream_pos, display_name = excluded.display_name,
                avatar_url = excluded.avatar_url, forgotten = 0,
                joined_at = CASE WHEN excluded.membership != 'join' THEN NULL
                                 WHEN room_memberships.membership = 'join'
                                     THEN room_memberships.joined_at
                                 ELSE excluded.joined_at END",
        )?
        .execute(params![
            e.room_id.as_str(),
            m.user_id.as_str(),
            m.membership.as_str(),
            m.event_id.as_str(),
            m.sender.as_str(),
            pos,
            m.display_name,
            m.avatar_url,
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    #[test]
    fn earlier_redactions_are_found_by_their_index_not_by_room() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::sqlite::migrations::migrate(&mut conn, crate::sqlite::AREAS).unwrap();
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {EARLIER_REDACTION}"))
            .unwrap()
            .query_map(["$e", "!r"], |r| r.get(3))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert!(plan.iter().any(|p| p.contains("events_redacts")), "{plan:?}");
    }
}
