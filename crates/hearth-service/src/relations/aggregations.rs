//! Bundled aggregations (spec: "Aggregations of child events"): `unsigned.m.relations` of
//! each served event, computed for a whole page at once. `m.thread` (count, latest event,
//! whether the viewer took part), `m.replace` (the most recent valid edit) and `m.reference`
//! (the referencing event IDs). Children sent by users the viewer ignores are left out; state
//! events get none.

use std::collections::HashMap;

use hearth_core::Result;
use hearth_storage::{EventRecord, RelationRecord};
use ruma::{OwnedEventId, OwnedUserId, UserId};
use serde_json::{Map, Value, json, value::RawValue};

use super::{Service, index::relation_in};
use crate::rooms::{PduRef, Viewer};

impl Service {
    /// `events` as clients see them, each with its bundled aggregations: what `/messages`,
    /// `/context`, `/event`, `/relations`, `/threads`, `/search` and `/sync` serve.
    pub async fn client_events(
        &self,
        viewer: Viewer<'_>,
        events: &[(EventRecord, PduRef)],
    ) -> Result<Vec<Box<RawValue>>> {
        let mut bundles = self.bundles(viewer, events).await?;
        let rooms = &self.services()?.rooms;
        let mut out = Vec::with_capacity(events.len());
        for (record, pdu) in events {
            let raw = rooms.client_event(record, pdu, Some(viewer)).await?;
            out.push(match bundles.remove(&pdu.event_id) {
                Some(relations) => with_relations(&raw, relations)?,
                None => raw,
            });
        }
        Ok(out)
    }

    /// The `m.relations` object of each event of `events` that has one.
    pub async fn bundles(
        &self,
        viewer: Viewer<'_>,
        events: &[(EventRecord, PduRef)],
    ) -> Result<HashMap<OwnedEventId, Value>> {
        let parents: Vec<&PduRef> =
            events.iter().map(|(_, p)| p).filter(|p| !p.is_state()).collect();
        if parents.is_empty() {
            return Ok(HashMap::new());
        }
        let ignored = self.ignored_users(viewer.user).await?;
        let ids: Vec<OwnedEventId> = parents.iter().map(|p| p.event_id.clone()).collect();
        let mut out: HashMap<OwnedEventId, Map<String, Value>> = HashMap::new();
        for (id, edit) in self.latest_edits(viewer, events, &ignored).await? {
            out.entry(id).or_default().insert("m.replace".into(), edit);
        }
        for (id, thread) in self.thread_aggregations(viewer, &parents, &ignored).await? {
            out.entry(id).or_default().insert("m.thread".into(), thread);
        }
        let storage = &self.ctx.storage;
        let references = storage.children_of(ids, &["m.reference"], ignored.clone()).await?;
        let mut chunks: HashMap<OwnedEventId, Vec<Value>> = HashMap::new();
        for child in references {
            chunks.entry(child.relates_to).or_default().push(json!({"event_id": child.event_id}));
        }
        for (id, chunk) in chunks {
            out.entry(id).or_default().insert("m.reference".into(), json!({"chunk": chunk}));
        }
        Ok(out.into_iter().map(|(id, m)| (id, Value::Object(m))).collect())
    }

    /// Each thread root's summary; the latest event is served with its own edit bundled.
    async fn thread_aggregations(
        &self,
        viewer: Viewer<'_>,
        parents: &[&PduRef],
        ignored: &[OwnedUserId],
    ) -> Result<Vec<(OwnedEventId, Value)>> {
        let ids = parents.iter().map(|p| p.event_id.clone()).collect();
        let storage = &self.ctx.storage;
        let summaries = storage.thread_summaries(ids, viewer.user, ignored.to_vec()).await?;
        let mut out = Vec::with_capacity(summaries.len());
        for summary in summaries {
            let Some(record) = storage.get_event(&summary.latest_event).await? else { continue };
            let latest = self.services()?.rooms.loaded(record).await?;
            let edits = self.latest_edits(viewer, std::slice::from_ref(&latest), ignored).await?;
            let mut event =
                self.services()?.rooms.client_event(&latest.0, &latest.1, Some(viewer)).await?;
            if let Some((_, edit)) = edits.into_iter().next() {
                event = with_relations(&event, json!({"m.replace": edit}))?;
            }
            let root_sender =
                parents.iter().find(|p| p.event_id == summary.root).map(|p| &p.sender);
            let participated =
                summary.participated || root_sender.is_some_and(|s| s == viewer.user);
            out.push((
                summary.root,
                json!({
                    "latest_event": serde_json::from_str::<Value>(event.get())?,
                    "count": summary.count,
                    "current_user_participated": participated,
                }),
            ));
        }
        Ok(out)
    }

    /// The most recent valid edit of each event (spec: "Validity of replacement events",
    /// "Server-side aggregation of `m.replace` relationships"), none for redacted events.
    async fn latest_edits(
        &self,
        viewer: Viewer<'_>,
        events: &[(EventRecord, PduRef)],
        ignored: &[OwnedUserId],
    ) -> Result<Vec<(OwnedEventId, Value)>> {
        let originals: HashMap<&OwnedEventId, &PduRef> = events
            .iter()
            .filter(|(r, p)| r.redacted_by.is_none() && !p.is_state() && !is_edit(p))
            .map(|(_, p)| (&p.event_id, p))
            .collect();
        if originals.is_empty() {
            return Ok(Vec::new());
        }
        let ids = originals.keys().map(|id| (*id).clone()).collect();
        let children = self.ctx.storage.children_of(ids, &["m.replace"], ignored.to_vec()).await?;
        let mut latest: HashMap<OwnedEventId, RelationRecord> = HashMap::new();
        for child in children {
            let Some(original) = originals.get(&child.relates_to) else { continue };
            if child.sender != original.sender || child.kind != original.kind.to_string() {
                continue;
            }
            let newer = latest.get(&child.relates_to).is_none_or(|best| {
                (child.origin_server_ts, &child.event_id) > (best.origin_server_ts, &best.event_id)
            });
            if newer && self.has_new_content(&child).await? {
                latest.insert(child.relates_to.clone(), child);
            }
        }
        let rooms = &self.services()?.rooms;
        let mut out = Vec::with_capacity(latest.len());
        for (original, edit) in latest {
            let Some(record) = self.ctx.storage.get_event(&edit.event_id).await? else { continue };
            let (record, pdu) = rooms.loaded(record).await?;
            let event = rooms.client_event(&record, &pdu, Some(viewer)).await?;
            out.push((original, serde_json::from_str(event.get())?));
        }
        Ok(out)
    }

    /// An edit needs `m.new_content`, except an encrypted one (it is inside the ciphertext).
    async fn has_new_content(&self, edit: &RelationRecord) -> Result<bool> {
        if edit.kind == "m.room.encrypted" {
            return Ok(true);
        }
        let pdu = self.services()?.rooms.pdu(&edit.event_id).await?;
        Ok(pdu
            .is_some_and(|p| p.content_value().get("m.new_content").is_some_and(Value::is_object)))
    }

    /// The users `user` ignores (spec: "Ignoring Users", `m.ignored_user_list`).
    pub(crate) async fn ignored_users(&self, user: &UserId) -> Result<Vec<OwnedUserId>> {
        let data = self.ctx.storage.get_account_data(user, None, "m.ignored_user_list").await?;
        let Some(data) = data else { return Ok(Vec::new()) };
        let value: Value = serde_json::from_str(data.get()).unwrap_or_default();
        Ok(value["ignored_users"]
            .as_object()
            .map(|users| users.keys().filter_map(|u| u.as_str().try_into().ok()).collect())
            .unwrap_or_default())
    }
}

/// Whether an event is itself an edit (edits of edits are not valid).
fn is_edit(pdu: &PduRef) -> bool {
    relation_in(&pdu.content_value()).is_some_and(|r| r.rel_type == "m.replace")
}

/// `raw` with `unsigned.m.relations` set.
fn with_relations(raw: &RawValue, relations: Value) -> Result<Box<RawValue>> {
    let mut event: Value = serde_json::from_str(raw.get())?;
    if let Some(event) = event.as_object_mut() {
        let unsigned = event.entry("unsigned").or_insert_with(|| json!({}));
        unsigned["m.relations"] = relations;
    }
    Ok(serde_json::value::to_raw_value(&event)?)
}
