//! Versioned schema migrations, one list per storage area so that areas evolve independently.
//! Each entry of an area's list is applied once, in order; the number applied is kept in
//! `schema_migrations`. Never edit an entry that has shipped: append one.

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

/// Apply every pending migration; returns the stream position to resume from. Everything
/// pending goes in one transaction: one fsync on a fresh database instead of one per entry
/// (startup time), and a failing entry leaves the schema as it was.
pub fn migrate(conn: &mut Connection, areas: &[Area]) -> Result<i64> {
    // IMMEDIATE: take the write lock up front (waiting on the busy timeout) rather than
    // upgrading a read snapshot, which fails at once if the last server's connections are
    // still closing (restarts).
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute_batch(BASE)?;
    for area in areas {
        let applied: i64 = tx
            .query_row("SELECT version FROM schema_migrations WHERE area = ?1", [area.name], |r| {
                r.get(0)
            })
            .optional()?
            .unwrap_or(0);
        let pending = area.migrations.iter().enumerate().skip(applied as usize);
        let mut version = None;
        for (i, sql) in pending {
            tx.execute_batch(sql).map_err(|e| {
                hearth_core::Error::internal(format!("migration {}#{}: {e}", area.name, i + 1))
            })?;
            version = Some(i as i64 + 1);
        }
        if let Some(version) = version {
            tx.execute(
                "INSERT INTO schema_migrations (area, version) VALUES (?1, ?2)
                 ON CONFLICT (area) DO UPDATE SET version = excluded.version",
                rusqlite::params![area.name, version],
            )?;
            tracing::info!(area = area.name, version, "applied migrations");
        }
    }
    let pos = tx.query_row("SELECT pos FROM stream_position", [], |r| r.get(0))?;
    tx.commit()?;
    Ok(pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: Area =
        Area { name: "a", migrations: &["CREATE TABLE a (x)", "CREATE TABLE b (y)"] };

    fn versions(conn: &Connection) -> Vec<(String, i64)> {
        let mut stmt = conn.prepare("SELECT area, version FROM schema_migrations").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(|r| r.unwrap()).collect()
    }

    #[test]
    fn applies_pending_entries_once() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn, &[GOOD]).unwrap(), 0);
        assert_eq!(migrate(&mut conn, &[GOOD]).unwrap(), 0);
        assert_eq!(versions(&conn), [("a".to_owned(), 2)]);
        const MORE: Area = Area {
            name: "a",
            migrations: &[GOOD.migrations[0], GOOD.migrations[1], "CREATE TABLE c (z)"],
        };
        migrate(&mut conn, &[MORE]).unwrap();
        assert_eq!(versions(&conn), [("a".to_owned(), 3)]);
    }

    #[test]
    fn a_failing_entry_applies_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        const BAD: Area = Area { name: "bad", migrations: &["CREATE TABLE c (z)", "NOT SQL"] };
        let err = migrate(&mut conn, &[GOOD, BAD]).unwrap_err();
        assert!(err.to_string().contains("bad#2"), "{err}");
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name IN ('a', 'b', 'c')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0);
    }
}
