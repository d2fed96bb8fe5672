//! Account data: per-user JSON objects by type, global or for one room. Every write takes a
//! position in the server-wide stream so sync can report what changed between two positions.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{OwnedRoomId, OwnedUserId, RoomId, UserId};
use serde_json::value::RawValue;

/// The latest content of one account-data type, and the stream position of that write.
#[derive(Debug, Clone)]
pub struct AccountDataChange {
    /// `None` for global account data.
    pub room_id: Option<OwnedRoomId>,
    pub data_type: String,
    pub content: Box<RawValue>,
    pub pos: i64,
}

#[async_trait]
pub trait AccountDataStore {
    /// Store `content` for the type (global when `room_id` is `None`); returns its stream
    /// position.
    async fn set_account_data(
        &self,
        user_id: &UserId,
        room_id: Option<&RoomId>,
        data_type: &str,
        content: Box<RawValue>,
    ) -> Result<i64>;

    async fn get_account_data(
        &self,
        user_id: &UserId,
        room_id: Option<&RoomId>,
        data_type: &str,
    ) -> Result<Option<Box<RawValue>>>;

    /// Every user's global account data of one type (push: all `m.ignored_user_list`s, read
    /// once at startup).
    async fn global_account_data_of_type(
        &self,
        data_type: &str,
    ) -> Result<Vec<(OwnedUserId, Box<RawValue>)>>;

    /// Delete every piece of the user's account data (deactivation).
    async fn delete_user_account_data(&self, user_id: &UserId) -> Result<()>;

    /// Account data of the user (global and every room) written at positions in
    /// `(since, until]`, latest content per type, in position order. `since = 0`: everything.
    async fn account_data_changes(
        &self,
        user_id: &UserId,
        since: i64,
        until: i64,
    ) -> Result<Vec<AccountDataChange>>;
}
