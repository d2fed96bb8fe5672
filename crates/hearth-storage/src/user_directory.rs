//! The user directory: finding users by ID or display name.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::OwnedUserId;

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
}
