//! Read receipts (spec: client-server-api "Receipts"): the latest receipt of each user, type and
//! thread in each room, with the stream position of its last change so sync can report deltas.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{OwnedEventId, OwnedRoomId, OwnedUserId, RoomId, UserId};

/// A receipt as stored.
#[derive(Debug, Clone)]
pub struct ReceiptRecord {
    pub room_id: OwnedRoomId,
    /// `m.read` or `m.read.private`.
    pub receipt_type: String,
    pub user_id: OwnedUserId,
    /// `None` for an unthreaded receipt, else `main` or a thread root's event ID.
    pub thread_id: Option<String>,
    pub event_id: OwnedEventId,
    /// When the receipt was sent, in milliseconds since the epoch.
    pub ts: u64,
    pub stream_pos: i64,
}

/// A receipt to store.
#[derive(Debug, Clone)]
pub struct NewReceipt {
    pub room_id: OwnedRoomId,
    pub receipt_type: String,
    pub user_id: OwnedUserId,
    pub thread_id: Option<String>,
    pub event_id: OwnedEventId,
    /// Stream position of the event the receipt points at: receipts only move forward.
    pub event_pos: i64,
    pub ts: u64,
}

#[async_trait]
pub trait ReceiptStore {
    /// Store a receipt with a new stream position, unless the user's receipt of that type and
    /// thread already points at this event or a later one (Synapse); `None` when ignored.
    async fn set_receipt(&self, receipt: NewReceipt) -> Result<Option<i64>>;

    /// The receipts of these rooms changed at positions in `(since, until]`.
    async fn room_receipts(
        &self,
        rooms: Vec<OwnedRoomId>,
        since: i64,
        until: i64,
    ) -> Result<Vec<ReceiptRecord>>;

    /// A user's receipts in one room (every type and thread).
    async fn user_receipts(&self, room_id: &RoomId, user_id: &UserId)
    -> Result<Vec<ReceiptRecord>>;
}
