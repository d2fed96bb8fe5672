//! The to-device extension (MSC3885): the device's queued to-device messages, with its own
//! `since`/`next_batch` token (a stream position). Messages up to the `since` a client sends
//! back have been received: they are deleted then (spec: send-to-device "Server behaviour").

use std::sync::Arc;

use hearth_core::{Error, Result};
use ruma::{
    DeviceId, UserId,
    api::client::sync::sync_events::v5::{request, response},
};

use crate::{Services, sliding_sync::pass::Pass};

/// Messages per response at most (the spec recommends 100 per sync).
const MAX_MESSAGES: usize = 100;

/// The extension's `since`, once per request (not per long-poll pass): messages up to it are
/// confirmed delivered. A `since` beyond the stream counts as now.
pub async fn to_device_since(
    ext: &request::Extensions,
    user: &UserId,
    device: &DeviceId,
    services: &Arc<Services>,
) -> Result<Option<i64>> {
    let Some(since) =
        ext.to_device.since.as_deref().filter(|_| ext.to_device.enabled == Some(true))
    else {
        return Ok(None);
    };
    let since = crate::stream_token::stream_position(since)
        .map_err(|_| Error::invalid_param(format!("Invalid to_device since {since:?}")))?
        .min(services.ctx.storage.current_stream_pos());
    services.e2ee.confirm_to_device(user, device, since).await?;
    Ok(Some(since))
}

impl Pass<'_> {
    pub(super) async fn to_device(&self) -> Result<response::ToDevice> {
        let limit = self.req.extensions.to_device.limit.map_or(MAX_MESSAGES, |l| {
            usize::try_from(u64::from(l)).unwrap_or(MAX_MESSAGES).min(MAX_MESSAGES)
        });
        let after = self.to_device_since.unwrap_or(0).min(self.to_pos);
        let batch = self
            .services
            .e2ee
            .to_device_messages(self.user, self.device, after, self.to_pos, limit)
            .await?;
        let next = match (batch.limited, batch.last_pos) {
            (true, Some(last)) => last,
            _ => self.to_pos,
        };
        let mut out = response::ToDevice::default();
        out.next_batch = next.to_string();
        out.events = batch.events;
        Ok(out)
    }
}
