//! Reports of events, rooms and users (spec: client-server-api "Reporting content"), kept for
//! the server's administrators.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{OwnedEventId, OwnedRoomId, OwnedUserId};

/// What was reported: an event (with its room), a room, or a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportTarget {
    Event { room_id: OwnedRoomId, event_id: OwnedEventId },
    Room(OwnedRoomId),
    User(OwnedUserId),
}

#[derive(Debug, Clone)]
pub struct NewReport {
    pub reporter: OwnedUserId,
    pub target: ReportTarget,
    pub reason: Option<String>,
    /// Event reports' offensiveness score, -100 (most) to 0 (deprecated in spec v1.18).
    pub score: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct ReportRecord {
    pub id: i64,
    pub received_ts: i64,
    pub report: NewReport,
}

#[async_trait]
pub trait ReportStore {
    /// Store a report; returns its ID.
    async fn add_report(&self, report: NewReport) -> Result<i64>;

    /// Reports with an ID above `after`, oldest first (for the admin API).
    async fn reports(&self, after: i64, limit: usize) -> Result<Vec<ReportRecord>>;
}
