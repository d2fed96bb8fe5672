//! The e2ee extension (MSC3884): device-list changes since the client's `pos`, and this
//! device's one-time key counts and unused fallback key types.

use hearth_core::Result;
use ruma::api::client::sync::sync_events::v5::response;

use crate::sliding_sync::pass::Pass;

impl Pass<'_> {
    pub(super) async fn e2ee(&self) -> Result<response::E2EE> {
        let e2ee = &self.services.e2ee;
        let mut out = response::E2EE::default();
        if let Some(since) = self.since {
            out.device_lists = e2ee.device_list_changes(self.user, since.pos, self.to_pos).await?;
        }
        let keys = e2ee.one_time_keys_status(self.user, self.device).await?;
        out.device_one_time_keys_count = keys.one_time_key_counts;
        // Always present, so clients know the server supports fallback keys.
        out.device_unused_fallback_key_types = Some(keys.unused_fallback_key_types);
        Ok(out)
    }
}
