//! Room events in the v1 format: `GET /events/{eventId}`, and the rendering the other v1
//! endpoints share.

use hearth_core::{Error, Result};
use hearth_storage::EventRecord;
use ruma::{EventId, UserId};
use serde_json::value::RawValue;

use super::{Service, v1_format};
use crate::rooms::{PduRef, Viewer};

impl Service {
    /// `GET /events/{eventId}`: the event if the user may see it (`M_NOT_FOUND` otherwise,
    /// so its existence does not leak).
    pub async fn event(&self, user: &UserId, event_id: &EventId) -> Result<Box<RawValue>> {
        let not_found = || Error::not_found("Event not found");
        let record = self.ctx.storage.get_event(event_id).await?.ok_or_else(not_found)?;
        let rooms = &self.services()?.rooms;
        let event = rooms.get_event(user, None, &record.room_id, event_id).await?;
        v1_format(&event)
    }

    /// Stored events in the v1 format, for `user`.
    pub(super) async fn render(
        &self,
        user: &UserId,
        events: &[(EventRecord, PduRef)],
    ) -> Result<Vec<Box<RawValue>>> {
        let rooms = &self.services()?.rooms;
        let viewer = Some(Viewer { user, device: None });
        let mut out = Vec::with_capacity(events.len());
        for (record, pdu) in events {
            out.push(v1_format(&rooms.client_event(record, pdu, viewer).await?)?);
        }
        Ok(out)
    }

    /// Stored events by ID, in the order given, in the v1 format.
    pub(super) async fn render_ids(
        &self,
        user: &UserId,
        ids: Vec<ruma::OwnedEventId>,
    ) -> Result<Vec<Box<RawValue>>> {
        let rooms = &self.services()?.rooms;
        let mut records = self.ctx.storage.get_events(ids.clone()).await?;
        records.sort_by_key(|r| ids.iter().position(|i| *i == r.event_id));
        let mut loaded = Vec::with_capacity(records.len());
        for record in records.into_iter().filter(|r| !r.rejected) {
            loaded.push(rooms.loaded(record).await?);
        }
        self.render(user, &loaded).await
    }
}
