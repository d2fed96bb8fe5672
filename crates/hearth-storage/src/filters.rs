//! Filters clients create for sync and room history (spec: client-server-api "Filtering").

use async_trait::async_trait;
use hearth_core::Result;
use ruma::UserId;

#[async_trait]
pub trait FilterStore {
    /// Store a filter (its JSON) for the user; returns its ID, unique for that user.
    async fn create_filter(&self, user_id: &UserId, filter_json: String) -> Result<u64>;

    async fn get_filter(&self, user_id: &UserId, filter_id: u64) -> Result<Option<String>>;
}
