//! Reports in SQLite: one row per report, with the kind of target in `kind`.

use async_trait::async_trait;
use hearth_core::{Result, utils::now_millis};
use rusqlite::params;

use super::{SqliteStore, migrations::Area};
use crate::{NewReport, ReportRecord, ReportStore, ReportTarget};

pub(super) const AREA: Area = Area {
    name: "reports",
    migrations: &["
        CREATE TABLE reports (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            reporter TEXT NOT NULL,
            room_id TEXT,
            event_id TEXT,
            user_id TEXT,
            reason TEXT,
            score INTEGER,
            received_ts INTEGER NOT NULL
        );
    "],
};

type Row = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
);

fn parse(row: Row) -> Result<ReportRecord> {
    let (id, kind, reporter, room_id, event_id, user_id, reason, score, received_ts) = row;
    let missing = || hearth_core::Error::internal(format!("report {id} lacks its target"));
    let target = match kind.as_str() {
        "event" => ReportTarget::Event {
            room_id: room_id.ok_or_else(missing)?.try_into()?,
            event_id: event_id.ok_or_else(missing)?.try_into()?,
        },
        "room" => ReportTarget::Room(room_id.ok_or_else(missing)?.try_into()?),
        _ => ReportTarget::User(user_id.ok_or_else(missing)?.try_into()?),
    };
    let report = NewReport { reporter: reporter.try_into()?, target, reason, score };
    Ok(ReportRecord { id, received_ts, report })
}

#[async_trait]
impl ReportStore for SqliteStore {
    async fn add_report(&self, r: NewReport) -> Result<i64> {
        self.db
            .write(move |c| {
                let (kind, room, event, user) = match &r.target {
                    ReportTarget::Event { room_id, event_id } => {
                        ("event", Some(room_id.as_str()), Some(event_id.as_str()), None)
                    }
                    ReportTarget::Room(room_id) => ("room", Some(room_id.as_str()), None, None),
                    ReportTarget::User(user_id) => ("user", None, None, Some(user_id.as_str())),
                };
                c.prepare_cached(
                    "INSERT INTO reports (kind, reporter, room_id, event_id, user_id, reason, score,
                        received_ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?
                .execute(params![
                    kind,
                    r.reporter.as_str(),
                    room,
                    event,
                    user,
                    r.reason,
                    r.score,
                    now_millis() as i64
                ])?;
                Ok(c.last_insert_rowid())
            })
            .await
    }

    async fn reports(&self, after: i64, limit: usize) -> Result<Vec<ReportRecord>> {
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT id, kind, reporter, room_id, event_id, user_id, reason, score,
                        received_ts FROM reports WHERE id > ?1 ORDER BY id LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![after, limit as i64], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                    ))
                })?;
                rows.map(|row| parse(row?)).collect()
            })
            .await
    }
}
