//! Rooms in SQLite: events, state groups, current state, memberships, aliases.
//!
//! Each PDU is stored once, as canonical JSON, next to the columns the queries need. State is
//! stored as state groups (snapshots and bounded delta chains, see `crate::rooms`), so an event
//! in a 100,000-member room writes a one-row delta, not a copy of the state.

mod aliases;
mod events;
mod membership;
mod persist;
mod state;

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{OwnedRoomId, RoomId};
use rusqlite::{OptionalExtension, Row};

use super::{SqliteStore, migrations::Area};
use crate::rooms::*;

pub(super) const AREA: Area = Area {
    name: "rooms",
    migrations: &[
        "
        CREATE TABLE rooms (
            room_id TEXT PRIMARY KEY,
            version TEXT NOT NULL,
            is_public INTEGER NOT NULL DEFAULT 0,
            created_ts INTEGER NOT NULL
        );
        CREATE TABLE events (
            event_id TEXT PRIMARY KEY,
            room_id TEXT NOT NULL,
            stream_pos INTEGER UNIQUE,
            depth INTEGER NOT NULL,
            type TEXT NOT NULL,
            state_key TEXT,
            sender TEXT NOT NULL,
            origin_server_ts INTEGER NOT NULL,
            json TEXT NOT NULL,
            redacts TEXT,
            redacted_by TEXT,
            replaces_state TEXT,
            rejected INTEGER NOT NULL DEFAULT 0,
            outlier INTEGER NOT NULL DEFAULT 0,
            state_group_before INTEGER,
            state_group_after INTEGER,
            txn_device TEXT,
            txn_id TEXT
        );
        CREATE INDEX events_room_stream ON events (room_id, stream_pos);
        CREATE UNIQUE INDEX events_txn ON events (sender, txn_device, txn_id)
            WHERE txn_id IS NOT NULL;
        CREATE INDEX events_redacts ON events (redacts) WHERE redacts IS NOT NULL;
        CREATE TABLE event_edges (
            event_id TEXT NOT NULL,
            prev_event_id TEXT NOT NULL,
            PRIMARY KEY (event_id, prev_event_id)
        ) WITHOUT ROWID;
        CREATE INDEX event_edges_prev ON event_edges (prev_event_id);
        CREATE TABLE event_auth_edges (
            event_id TEXT NOT NULL,
            auth_event_id TEXT NOT NULL,
            PRIMARY KEY (event_id, auth_event_id)
        ) WITHOUT ROWID;
        CREATE TABLE forward_extremities (
            room_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            PRIMARY KEY (room_id, event_id)
        ) WITHOUT ROWID;
        CREATE TABLE state_groups (
            id INTEGER PRIMARY KEY,
            room_id TEXT NOT NULL,
            prev_group INTEGER,
            chain_len INTEGER NOT NULL
        );
        CREATE TABLE state_group_entries (
            group_id INTEGER NOT NULL,
            type TEXT NOT NULL,
            state_key TEXT NOT NULL,
            event_id TEXT,
            PRIMARY KEY (group_id, type, state_key)
        ) WITHOUT ROWID;
        CREATE TABLE current_state (
            room_id TEXT NOT NULL,
            type TEXT NOT NULL,
            state_key TEXT NOT NULL,
            event_id TEXT NOT NULL,
            PRIMARY KEY (room_id, type, state_key)
        ) WITHOUT ROWID;
        CREATE TABLE room_memberships (
            room_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            membership TEXT NOT NULL,
            event_id TEXT NOT NULL,
            sender TEXT NOT NULL,
            stream_pos INTEGER NOT NULL,
            display_name TEXT,
            avatar_url TEXT,
            forgotten INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (room_id, user_id)
        ) WITHOUT ROWID;
        CREATE INDEX room_memberships_by_user ON room_memberships (user_id, membership);
        CREATE INDEX room_memberships_by_user_pos ON room_memberships (user_id, stream_pos);
        CREATE INDEX room_memberships_by_room ON room_memberships (room_id, membership);
        CREATE TABLE room_aliases (
            alias TEXT PRIMARY KEY,
            room_id TEXT NOT NULL,
            creator TEXT NOT NULL,
            created_ts INTEGER NOT NULL
        );
        CREATE INDEX room_aliases_by_room ON room_aliases (room_id);
    ",
        "
        -- Transaction IDs are scoped to the request path, hence to the room (spec:
        -- client-server-api, Transaction identifiers).
        DROP INDEX events_txn;
        CREATE UNIQUE INDEX events_txn ON events (room_id, sender, txn_device, txn_id)
            WHERE txn_id IS NOT NULL;
    ",
        "
        -- The current join rule, so the user directory finds public rooms by index.
        ALTER TABLE rooms ADD COLUMN join_rule TEXT;
        UPDATE rooms SET join_rule = (
            SELECT json_extract(e.json, '$.content.join_rule')
            FROM current_state s JOIN events e ON e.event_id = s.event_id
            WHERE s.room_id = rooms.room_id AND s.type = 'm.room.join_rules' AND s.state_key = '');
        CREATE INDEX rooms_by_join_rule ON rooms (join_rule);
    ",
        "
        CREATE INDEX events_room_ts ON events (room_id, origin_server_ts);
    ",
        "
        -- The current history visibility: world-readable rooms are public to the user
        -- directory, as publicly joinable ones are.
        ALTER TABLE rooms ADD COLUMN history_visibility TEXT;
        UPDATE rooms SET history_visibility = (
            SELECT json_extract(e.json, '$.content.history_visibility')
            FROM current_state s JOIN events e ON e.event_id = s.event_id
            WHERE s.room_id = rooms.room_id AND s.type = 'm.room.history_visibility'
                AND s.state_key = '');
        CREATE INDEX rooms_by_history_visibility ON rooms (history_visibility);
    ",
        "
        -- Where the current run of joins began: a join over a join (a new display name)
        -- keeps it, so unread counts do not restart on a profile change.
        ALTER TABLE room_memberships ADD COLUMN joined_at INTEGER;
        UPDATE room_memberships SET joined_at = stream_pos WHERE membership = 'join';
    ",
        "
        -- Membership changes in a room between two stream positions (device-list tracking:
        -- others who joined or left the rooms a user is in) without reading every member.
        CREATE INDEX room_memberships_by_room_pos ON room_memberships (room_id, stream_pos);
    ",
        "
        -- An event's prev and auth events are in its JSON; only what follows an event is not.
        -- One forward-edge row (one page written per event) instead of three.
        CREATE TABLE event_children (
            prev_event_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            PRIMARY KEY (prev_event_id, event_id)
        ) WITHOUT ROWID;
        INSERT INTO event_children (prev_event_id, event_id)
            SELECT prev_event_id, event_id FROM event_edges;
        DROP TABLE event_edges;
        DROP TABLE event_auth_edges;
    ",
    ],
};

/// Columns of `events` read into an [`EventRecord`], in `event_record`'s order.
pub(super) const EVENT_COLUMNS: &str = "event_id, room_id, json, stream_pos, rejected, outlier, \
     redacted_by, state_group_before, state_group_after, replaces_state, txn_device, txn_id";

pub(super) fn event_record(r: &Row<'_>) -> rusqlite::Result<EventRecord> {
    let parse_err = |i: usize, e: ruma::IdParseError| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    };
    let event_id: String = r.get(0)?;
    let room_id: String = r.get(1)?;
    let redacted_by: Option<String> = r.get(6)?;
    let replaces_state: Option<String> = r.get(9)?;
    let txn_device: Option<String> = r.get(10)?;
    let txn_id: Option<String> = r.get(11)?;
    Ok(EventRecord {
        event_id: event_id.try_into().map_err(|e| parse_err(0, e))?,
        room_id: room_id.try_into().map_err(|e| parse_err(1, e))?,
        json: r.get(2)?,
        stream_pos: r.get(3)?,
        rejected: r.get(4)?,
        outlier: r.get(5)?,
        redacted_by: redacted_by.map(TryInto::try_into).transpose().map_err(|e| parse_err(6, e))?,
        state_group_before: r.get(7)?,
        state_group_after: r.get(8)?,
        replaces_state: replaces_state
            .map(TryInto::try_into)
            .transpose()
            .map_err(|e| parse_err(9, e))?,
        txn: txn_device.zip(txn_id).map(|(d, t)| (d.into(), t.into())),
    })
}

fn room_record(r: &Row<'_>) -> rusqlite::Result<(String, String, bool)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

#[async_trait]
impl RoomStore for SqliteStore {
    fn persist_event(&self, event: NewEvent) -> BoxFuture<Result<i64>> {
        Box::pin(self.db.write_queued(move |c| persist::persist(c, &event)))
    }

    async fn get_room(&self, room_id: &RoomId) -> Result<Option<RoomRecord>> {
        let room_id = room_id.to_owned();
        self.db.read(move |c| get_room(c, &room_id)).await
    }

    async fn room_head(&self, room_id: &RoomId) -> Result<Option<RoomHeadRecord>> {
        let room_id = room_id.to_owned();
        self.db
            .read(move |c| {
                let Some(room) = get_room(c, &room_id)? else { return Ok(None) };
                let mut stmt = c.prepare_cached(
                    "SELECT e.event_id, e.depth, e.state_group_after
                     FROM forward_extremities f JOIN events e ON e.event_id = f.event_id
                     WHERE f.room_id = ?1",
                )?;
                let extremities = stmt
                    .query_map([room_id.as_str()], |r| {
                        Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
                    })?
                    .map(|row| {
                        let (id, depth, group) = row?;
                        Ok(ExtremityRecord {
                            event_id: id.try_into()?,
                            depth,
                            state_group_after: group,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(Some(RoomHeadRecord { room, extremities }))
            })
            .await
    }

    async fn max_state_group(&self) -> Result<i64> {
        self.db
            .read(|c| {
                Ok(c.query_row("SELECT coalesce(max(id), 0) FROM state_groups", [], |r| r.get(0))?)
            })
            .await
    }

    async fn set_room_public(&self, room_id: &RoomId, public: bool) -> Result<()> {
        let room_id = room_id.to_owned();
        self.db
            .write(move |c| {
                c.execute(
                    "UPDATE rooms SET is_public = ?2 WHERE room_id = ?1",
                    rusqlite::params![room_id.as_str(), public],
                )?;
                Ok(())
            })
            .await
    }
}

fn get_room(c: &rusqlite::Connection, room_id: &RoomId) -> Result<Option<RoomRecord>> {
    let row = c
        .prepare_cached("SELECT room_id, version, is_public FROM rooms WHERE room_id = ?1")?
        .query_row([room_id.as_str()], room_record)
        .optional()?;
    Ok(match row {
        None => None,
        Some((id, version, public)) => {
            Some(RoomRecord { room_id: OwnedRoomId::try_from(id)?, version, public })
        }
    })
}
