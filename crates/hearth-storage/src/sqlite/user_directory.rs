//! User directory search in SQLite, over the accounts and profile tables. A linear scan with
//! `LIKE`: fine for small servers; a full-text index can replace it without touching callers.

use async_trait::async_trait;
use hearth_core::Result;
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
                let rows = stmt.query_map(params![pattern, limit as i64], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                })?;
                let mut entries = Vec::new();
                for row in rows {
                    let (user_id, display_name, avatar_url) = row?;
                    entries.push(DirectoryEntry { user_id: user_id.try_into()?, display_name, avatar_url });
                }
                Ok(entries)
            })
            .await
    }
}
