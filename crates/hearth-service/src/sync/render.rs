//! Rendering room events for sync fast: the part of an event's client format that is the same
//! for everyone and every time (fields, `prev_content`, redaction) is built once and kept;
//! each sync only adds the viewer's `unsigned` (`age`, `transaction_id`, `membership`, and
//! bundled aggregations) around it.

use std::{fmt::Write, num::NonZeroUsize, sync::Arc};

use hearth_core::{Error, Result, utils::now_millis};
use hearth_storage::EventRecord;
use lru::LruCache;
use parking_lot::Mutex;
use ruma::{OwnedEventId, events::TimelineEventType};
use serde_json::{Map, Value, value::RawValue};

use super::Pass;
use crate::rooms::{PduRef, Viewer};

/// Rendered events kept.
const CACHE: usize = 30_000;

/// An event's client format without `room_id` (sync omits it) and without `unsigned`.
pub struct Rendered {
    /// The event this was built for was redacted by this one (`None`: not redacted).
    redacted_by: Option<OwnedEventId>,
    /// The JSON object without its closing brace.
    head: String,
    /// `unsigned` entries everyone sees, as `"k":v,...` (may be empty).
    unsigned: String,
}

pub struct RenderCache(Mutex<LruCache<OwnedEventId, Arc<Rendered>>>);

impl Default for RenderCache {
    fn default() -> Self {
        RenderCache(Mutex::new(LruCache::new(NonZeroUsize::new(CACHE).expect("non-zero"))))
    }
}

impl Pass<'_> {
    /// The event in client format for this sync's user and device, with `relations` as
    /// `unsigned.m.relations` when given.
    pub async fn render_client(
        &self,
        record: &EventRecord,
        pdu: &PduRef,
        relations: Option<&Value>,
    ) -> Result<Box<RawValue>> {
        let membership = self.membership_after(record, pdu).await?;
        let rooms = &self.services.rooms;
        if rooms.pruned_for(Some(self.user), membership.as_deref(), pdu).await? {
            return self.render_pruned(record, pdu, relations).await;
        }
        let rendered = self.rendered(record, pdu).await?;
        let mut json = String::with_capacity(rendered.head.len() + rendered.unsigned.len() + 96);
        json.push_str(&rendered.head);
        let age = now_millis().saturating_sub(u64::from(pdu.origin_server_ts.0));
        let _ = write!(json, ",\"unsigned\":{{\"age\":{age}");
        if let Some((device, txn)) = &record.txn
            && pdu.sender == self.user
            && **device == *self.device
        {
            json.push_str(",\"transaction_id\":");
            json.push_str(&serde_json::to_string(txn)?);
        }
        if let Some(membership) = membership {
            json.push_str(",\"membership\":");
            json.push_str(&serde_json::to_string(&membership)?);
        }
        if !rendered.unsigned.is_empty() {
            json.push(',');
            json.push_str(&rendered.unsigned);
        }
        if let Some(relations) = relations {
            json.push_str(",\"m.relations\":");
            json.push_str(&serde_json::to_string(relations)?);
        }
        json.push_str("}}");
        Ok(RawValue::from_string(json)?)
    }

    /// An event pruned for this viewer (an erased sender's, a self-destructed message): built
    /// for them, not from or into the cache.
    async fn render_pruned(
        &self,
        record: &EventRecord,
        pdu: &PduRef,
        relations: Option<&Value>,
    ) -> Result<Box<RawValue>> {
        let viewer = Viewer { user: self.user, device: Some(self.device) };
        let mut value = self.services.rooms.client_value(record, pdu, Some(viewer), true).await?;
        if let Some(event) = value.as_object_mut() {
            event.remove("room_id");
            if let (Some(relations), Some(Value::Object(unsigned))) =
                (relations, event.get_mut("unsigned"))
            {
                unsigned.insert("m.relations".to_owned(), relations.clone());
            }
        }
        Ok(serde_json::value::to_raw_value(&value)?)
    }

    async fn rendered(&self, record: &EventRecord, pdu: &PduRef) -> Result<Arc<Rendered>> {
        let cache = &self.svc.rendered;
        if let Some(hit) = cache.0.lock().get(&pdu.event_id)
            && hit.redacted_by == record.redacted_by
        {
            return Ok(hit.clone());
        }
        let value = self.services.rooms.client_value(record, pdu, None, true).await?;
        let Value::Object(mut event) = value else {
            return Err(Error::internal("an event rendered as a non-object"));
        };
        event.remove("room_id");
        let mut unsigned = match event.remove("unsigned") {
            Some(Value::Object(u)) => u,
            _ => Map::new(),
        };
        for per_viewer in ["age", "transaction_id", "membership"] {
            unsigned.remove(per_viewer);
        }
        let head = serde_json::to_string(&event)?;
        let unsigned = serde_json::to_string(&unsigned)?;
        let rendered = Arc::new(Rendered {
            redacted_by: record.redacted_by.clone(),
            head: head[..head.len() - 1].to_owned(),
            unsigned: unsigned[1..unsigned.len() - 1].to_owned(),
        });
        cache.0.lock().put(pdu.event_id.clone(), rendered.clone());
        Ok(rendered)
    }

    /// `unsigned.membership` (MSC4115): the user's membership in the state after the event,
    /// `leave` if none; worked out once per state group in a sync.
    async fn membership_after(&self, record: &EventRecord, pdu: &PduRef) -> Result<Option<String>> {
        let of =
            |e: &PduRef| e.content_value()["membership"].as_str().unwrap_or("leave").to_owned();
        if pdu.kind == TimelineEventType::RoomMember
            && pdu.state_key.as_deref() == Some(self.user.as_str())
        {
            return Ok(Some(of(pdu)));
        }
        let Some(group) = record.state_group_after else { return Ok(None) };
        if let Some(known) = self.memberships_at.lock().get(&group) {
            return Ok(Some(known.clone()));
        }
        let rooms = &self.services.rooms;
        let state = rooms.state_group(group).await?.map;
        let member = rooms.state_pdu(&state, "m.room.member", self.user.as_str()).await?;
        let membership = member.as_ref().map(of).unwrap_or_else(|| "leave".to_owned());
        self.memberships_at.lock().insert(group, membership.clone());
        Ok(Some(membership))
    }
}
