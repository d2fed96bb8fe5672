//! Loading events in batches and rendering them as the filter asks (`event_format`,
//! `event_fields`), with bundled aggregations on timelines that have a gap.

use std::collections::HashMap;

use hearth_core::Result;
use hearth_storage::EventRecord;
use ruma::{OwnedEventId, api::client::filter::EventFormat};
use serde_json::{Value, value::RawValue};

use super::{Pass, Service, filter::only_fields};
use crate::rooms::{PduRef, Viewer};

impl Service {
    /// Stored events by ID in one read, parsed (from the cache when there), in the order
    /// given; missing ones are skipped. Sliding sync loads its state events the same way.
    pub(crate) async fn load_events(
        &self,
        ids: Vec<OwnedEventId>,
    ) -> Result<Vec<(EventRecord, PduRef)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let services = self.services()?;
        let mut records = services.ctx.storage.get_events(ids.clone()).await?;
        let order: HashMap<&OwnedEventId, usize> =
            ids.iter().enumerate().map(|(i, id)| (id, i)).collect();
        records.sort_by_key(|r| order.get(&r.event_id).copied().unwrap_or(usize::MAX));
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            out.push(services.rooms.loaded(record).await?);
        }
        Ok(out)
    }
}

impl Pass<'_> {
    pub async fn load_events(&self, ids: Vec<OwnedEventId>) -> Result<Vec<(EventRecord, PduRef)>> {
        self.svc.load_events(ids).await
    }

    /// One room event as this sync renders it.
    async fn render(
        &self,
        record: &EventRecord,
        pdu: &PduRef,
        relations: Option<&Value>,
    ) -> Result<Box<RawValue>> {
        let event = match self.filter.event_format {
            EventFormat::Federation => self.services.rooms.federation_event(record, pdu).await?,
            _ => self.render_client(record, pdu, relations).await?,
        };
        Ok(match &self.filter.event_fields {
            Some(fields) => only_fields(&event, fields),
            None => event,
        })
    }

    /// State events (and stripped-state membership events).
    pub async fn render_all(&self, events: &[(EventRecord, PduRef)]) -> Result<Vec<Box<RawValue>>> {
        let mut out = Vec::with_capacity(events.len());
        for (record, pdu) in events {
            out.push(self.render(record, pdu, None).await?);
        }
        Ok(out)
    }

    /// A timeline. When it has a gap, its events carry their bundled aggregations (edits,
    /// threads, references): the client will not see those children arrive (spec:
    /// "Aggregations of child events"; Synapse only bundles then).
    pub async fn render_timeline(
        &self,
        events: &[(EventRecord, PduRef)],
        limited: bool,
    ) -> Result<Vec<Box<RawValue>>> {
        let bundles = match limited && self.filter.event_format != EventFormat::Federation {
            true => {
                let viewer = Viewer { user: self.user, device: Some(self.device) };
                self.services.relations.bundles(viewer, events).await?
            }
            false => HashMap::new(),
        };
        let mut out = Vec::with_capacity(events.len());
        for (record, pdu) in events {
            out.push(self.render(record, pdu, bundles.get(&pdu.event_id)).await?);
        }
        Ok(out)
    }
}
