//! The device-list change stream: whose devices or cross-signing keys changed, and when.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{OwnedUserId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceListChange {
    /// The user whose devices or keys changed.
    pub user_id: OwnedUserId,
    /// `None`: everyone who shares a room with `user_id` is told. `Some(u)`: only `u` is (a
    /// user-signing key, or a signature only its maker sees).
    pub only_for: Option<OwnedUserId>,
}

impl DeviceListChange {
    pub fn public(user_id: &UserId) -> Self {
        DeviceListChange { user_id: user_id.to_owned(), only_for: None }
    }

    pub fn only_for(user_id: &UserId, viewer: &UserId) -> Self {
        DeviceListChange { user_id: user_id.to_owned(), only_for: Some(viewer.to_owned()) }
    }
}

/// A change seen from one viewer's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedDeviceList {
    pub user_id: OwnedUserId,
    /// Recorded for this viewer alone: no shared room is needed to see it.
    pub private: bool,
}

#[async_trait]
pub trait DeviceListStore {
    /// Record changes under one new stream position, which is returned.
    async fn record_device_list_changes(&self, changes: Vec<DeviceListChange>) -> Result<i64>;

    /// Distinct users with a change in `(from, to]` that is public or meant for `viewer`.
    async fn device_list_changes(
        &self,
        viewer: &UserId,
        from: i64,
        to: i64,
    ) -> Result<Vec<ChangedDeviceList>>;
}
