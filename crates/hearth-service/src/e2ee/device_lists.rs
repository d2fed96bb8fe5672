//! Device-list tracking (spec: "Tracking the device list for a user", and `device_lists` in
//! "Extensions to /sync"): who sees whom in `changed` and `left`.

use hearth_core::Result;
use ruma::{UserId, api::client::sync::sync_events::DeviceLists};

use super::{Service, shared_rooms};
use crate::stream_token;

impl Service {
    /// `device_lists` for `user` between two stream positions (`/sync`, sliding sync,
    /// `/keys/changes`): users whose devices or cross-signing keys changed in `(from, to]` and
    /// who share a room with `user` (or whose change only `user` may see, like a signature
    /// `user` made), plus users who began sharing a room with `user`; `left` has those who no
    /// longer share any.
    pub async fn device_list_changes(
        &self,
        user: &UserId,
        from: i64,
        to: i64,
    ) -> Result<DeviceLists> {
        let mut lists = DeviceLists::new();
        if to <= from {
            return Ok(lists);
        }
        let changes = self.ctx.storage.device_list_changes(user, from, to).await?;
        let sharing = shared_rooms::users_sharing_a_room(&self.ctx, user).await?;
        let delta = shared_rooms::sharing_delta(&self.ctx, user, &sharing, from, to).await?;
        let mut changed: std::collections::BTreeSet<_> = changes
            .into_iter()
            .filter(|c| c.private || sharing.contains(&c.user_id))
            .map(|c| c.user_id)
            .collect();
        changed.extend(delta.began);
        lists.left = delta.ended.into_iter().collect();
        lists.changed = changed.into_iter().collect();
        Ok(lists)
    }

    /// `/keys/changes` between two tokens from `/sync`; a `to` beyond what has happened means
    /// "now".
    pub async fn key_changes(&self, user: &UserId, from: &str, to: &str) -> Result<DeviceLists> {
        let from = stream_token::stream_position(from)?;
        let to = stream_token::stream_position(to)?.min(self.ctx.storage.current_stream_pos());
        self.device_list_changes(user, from, to).await
    }

    /// Wake the long-polls of `user` and of everyone who shares a room with them: their
    /// `device_lists.changed` has news.
    pub(crate) async fn notify_device_list(&self, user: &UserId) -> Result<()> {
        for watcher in shared_rooms::users_sharing_a_room(&self.ctx, user).await? {
            self.ctx.notifier.notify_user(&watcher);
        }
        Ok(())
    }
}
