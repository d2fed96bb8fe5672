//! Presence (spec: client-server-api "Presence"): kept in memory by the service; this is the
//! copy that survives a restart.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::OwnedUserId;

#[derive(Debug, Clone)]
pub struct PresenceRecord {
    pub user_id: OwnedUserId,
    /// `online`, `unavailable` or `offline`.
    pub state: String,
    pub status_msg: Option<String>,
    /// Last pro-active action, in milliseconds since the epoch.
    pub last_active_ts: u64,
}

#[async_trait]
pub trait PresenceStore {
    async fn set_presence(&self, record: PresenceRecord) -> Result<()>;

    /// The stored presence of those of `users` who have one.
    async fn get_presence(&self, users: Vec<OwnedUserId>) -> Result<Vec<PresenceRecord>>;
}
