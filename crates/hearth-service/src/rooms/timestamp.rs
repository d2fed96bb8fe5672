//! `GET /rooms/{roomId}/timestamp_to_event` (spec: client-server-api "Events", MSC3030): the
//! event closest to a time in one direction, in this server's copy of the room (asking other
//! servers needs federation).

use hearth_core::{Error, Result};
use hearth_storage::TimelineDirection;
use ruma::{MilliSecondsSinceUnixEpoch, OwnedEventId, RoomId, UserId};

use super::Service;

impl Service {
    /// For members and readers of world-readable rooms (Synapse), `M_NOT_FOUND` when no event
    /// lies in that direction.
    pub async fn event_near_timestamp(
        &self,
        user: &UserId,
        room_id: &RoomId,
        ts: MilliSecondsSinceUnixEpoch,
        dir: TimelineDirection,
    ) -> Result<(OwnedEventId, MilliSecondsSinceUnixEpoch)> {
        self.readable_state(user, room_id).await?;
        let ts_ms = i64::try_from(u64::from(ts.0)).unwrap_or(i64::MAX);
        let record =
            self.ctx.storage.event_near_timestamp(room_id, ts_ms, dir).await?.ok_or_else(|| {
                let way = if dir == TimelineDirection::Forward { "after" } else { "before" };
                Error::not_found(format!("No event found {way} {}", u64::from(ts.0)))
            })?;
        let (_, pdu) = self.loaded(record).await?;
        Ok((pdu.event_id.clone(), pdu.origin_server_ts))
    }
}
