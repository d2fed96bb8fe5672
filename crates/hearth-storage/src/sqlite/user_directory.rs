//! User directory search in SQLite, over the accounts, profile and room membership tables.
//! Matching is `LIKE` over the candidates: fine for small servers; a full-text index can
//! replace it without touching callers.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::UserId;
use rusqlite::params;

use super::SqliteStore;
use crate::user_directory::{DirectoryEntry, UserDirectoryStore};

/// `term` as a `LIKE` pattern matching it anywhere, with `%`, `_` and `\\` escaped.
fn contains_pattern(term: &str) -> String {
    let escaped: String = term
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

#[async_trait]
impl UserDirectoryStore for SqliteStore {
    async fn search_local_users(&self, term: &str, limit: usize) -> Result<Vec<DirectoryEntry>> {
        let pattern = contains_pattern(term);
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT u.user_id, json_extract(d.value, '$'), json_extract(a.value, '$')
                     FROM users u
                     LEFT JOIN profile_fields d ON d.user_id = u.user_id AND d.field = 'displayname'
                     LEFT JOIN profile_fields a ON a.user_id = u.user_id AND a.field = 'avatar_url'
                     WHERE u.deactivated = 0 AND u.is_guest = 0
                       AND (u.user_id LIKE ?1 ESCAPE '\\' OR json_extract(d.value, '$') LIKE ?1 ESCAPE '\\')
                     ORDER BY u.user_id LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![pattern, limit as i64], row)?;
                entries(rows)
            })
            .await
    }

    async fn search_visible_users(
        &self,
        searcher: &UserId,
        term: &str,
        limit: usize,
    ) -> Result<Vec<DirectoryEntry>> {
        let searcher = searcher.to_string();
        let pattern = contains_pattern(term);
        self.db
            .read(move |c| {
                // Local users show their profile; others the name their member events carry.
                // Public rooms (publicly joinable or world-readable, as Synapse counts them)
                // show all their members; the searcher's other rooms show the others in them.
                let mut stmt = c.prepare_cached(
                    "WITH visible(room_id, public) AS (
                         SELECT room_id, 1 FROM rooms WHERE join_rule = 'public'
                         UNION
                         SELECT room_id, 1 FROM rooms WHERE history_visibility = 'world_readable'
                         UNION
                         SELECT room_id, 0 FROM room_memberships
                         WHERE user_id = ?1 AND membership = 'join')
                     SELECT m.user_id,
                         coalesce(json_extract(d.value, '$'), max(m.display_name)),
                         coalesce(json_extract(a.value, '$'), max(m.avatar_url))
                     FROM visible v
                     JOIN room_memberships m ON m.room_id = v.room_id AND m.membership = 'join'
                     LEFT JOIN users u ON u.user_id = m.user_id
                     LEFT JOIN profile_fields d ON d.user_id = m.user_id AND d.field = 'displayname'
                     LEFT JOIN profile_fields a ON a.user_id = m.user_id AND a.field = 'avatar_url'
                     WHERE coalesce(u.is_guest, 0) = 0 AND coalesce(u.deactivated, 0) = 0
                       AND (v.public = 1 OR m.user_id != ?1)
                       AND (m.user_id LIKE ?2 ESCAPE '\\' OR m.display_name LIKE ?2 ESCAPE '\\'
                            OR json_extract(d.value, '$') LIKE ?2 ESCAPE '\\')
                     GROUP BY m.user_id ORDER BY m.user_id LIMIT ?3",
                )?;
                let rows = stmt.query_map(params![searcher, pattern, limit as i64], row)?;
                entries(rows)
            })
            .await
    }
}

type Row = (String, Option<String>, Option<String>);

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

fn entries(rows: impl Iterator<Item = rusqlite::Result<Row>>) -> Result<Vec<DirectoryEntry>> {
    let mut entries = Vec::new();
    for row in rows {
        let (user_id, display_name, avatar_url) = row?;
        entries.push(DirectoryEntry { user_id: user_id.try_into()?, display_name, avatar_url });
    }
    Ok(entries)
}
