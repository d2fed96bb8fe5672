//! Versioned schema migrations, one list per storage area so that areas evolve independently.
//! Each entry of an area's list is applied once, in order, inside a transaction; the number
//! applied is kept in `schema_migrations`. Never edit an entry that has shipped: append one.

use hearth_core::Result;
use rusqlite::{Connection, OptionalExtension};

pub struct Area {
    pub name: &'static str,
    pub migrations: &'static [&'static str],
}

const BASE: &str = "
    CREATE TABLE IF NOT EXISTS schema_migrations (
        area TEXT PRIMARY KEY,
        version INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS stream_position (pos INTEGER NOT NULL);
    INSERT INTO stream_position (pos) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM stream_position);
";

/// Apply every pending migration; returns the stream position to resume from.
pub fn migrate(conn: &mut Connection, areas: &[Area]) -> Result<i64> {
    conn.execute_batch(BASE)?;
    for area in areas {
        let applied: i64 = conn
            .query_row("SELECT version FROM schema_migrations WHERE area = ?1", [area.name], |r| {
                r.get(0)
            })
            .optional()?
            .unwrap_or(0);
        for (i, sql) in area.migrations.iter().enumerate().skip(applied as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql).map_err(|e| {
                hearth_core::Error::internal(format!("migration {}#{}: {e}", area.name, i + 1))
            })?;
            tx.execute(
                "INSERT INTO schema_migrations (area, version) VALUES (?1, ?2)
                 ON CONFLICT (area) DO UPDATE SET version = excluded.version",
                rusqlite::params![area.name, i as i64 + 1],
            )?;
            tx.commit()?;
            tracing::info!(area = area.name, version = i + 1, "applied migration");
        }
    }
    Ok(conn.query_row("SELECT pos FROM stream_position", [], |r| r.get(0))?)
}
