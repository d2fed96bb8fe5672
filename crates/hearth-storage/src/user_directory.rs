//! The user directory: finding users by ID or display name.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{OwnedUserId, UserId};

#[derive(Debug, Clone)]
pub struct DirectoryEntry {
    pub user_id: OwnedUserId,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
}

#[async_trait]
pub trait UserDirectoryStore {
    /// Active, non-guest local users whose ID or display name contains `term`
    /// (case-insensitively), ordered by user ID, at most `limit`.
    async fn search_local_users(&self, term: &str, limit: usize) -> Result<Vec<DirectoryEntry>>;

    /// Users (local or not) joined to a public room (`join_rule` public or
    /// `history_visibility` world_readable), or other than `searcher` and joined to a room
    /// they have joined, whose ID or display name contains `term` (case-insensitively),
    /// ordered by user ID, at most `limit`. Local guests and deactivated users are left out.
    /// Found through the membership indexes: only the members of those rooms are read.
    async fn search_visible_users(
        &self,
        searcher: &UserId,
        term: &str,
        limit: usize,
    ) -> Result<Vec<DirectoryEntry>>;
}
