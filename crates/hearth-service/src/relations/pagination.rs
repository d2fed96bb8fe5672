//! `GET /rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]]` (spec: "Relationships
//! API"): the children of an event in stream order, newest first by default, with history
//! visibility applied to the parent (404 when hidden) and to each child.

use hearth_core::{Error, Result};
use hearth_storage::{RelationsQuery, TimelineDirection};
use ruma::{EventId, RoomId};
use serde_json::value::RawValue;

use super::{Service, token_position};
use crate::rooms::{PaginationToken, Viewer};

/// Children per page when the client names no limit (Synapse), and at most.
const DEFAULT_LIMIT: u64 = 5;
const MAX_LIMIT: u64 = 100;
/// How deep `recurse` follows relations of relations (the spec asks for at least 3).
const RECURSION_DEPTH: u32 = 3;

/// What a client asks of `/relations`.
pub struct RelationsRequest<'a> {
    pub room_id: &'a RoomId,
    pub event_id: &'a EventId,
    pub rel_type: Option<String>,
    pub event_type: Option<String>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub dir: TimelineDirection,
    pub limit: Option<u64>,
    pub recurse: bool,
}

pub struct RelationsPage {
    pub chunk: Vec<Box<RawValue>>,
    pub next_batch: Option<String>,
    pub prev_batch: Option<String>,
    pub recursion_depth: Option<u32>,
}

impl Service {
    pub async fn relations(
        &self,
        viewer: Viewer<'_>,
        req: RelationsRequest<'_>,
    ) -> Result<RelationsPage> {
        let not_found = || Error::not_found("Event not found");
        let storage = &self.ctx.storage;
        let rooms = &self.services()?.rooms;
        let parent = storage.get_event(req.event_id).await?.ok_or_else(not_found)?;
        if parent.room_id != req.room_id
            || parent.outlier
            || parent.rejected
            || !rooms.can_see_event(viewer.user, &parent).await?
        {
            return Err(not_found());
        }
        let from = match req.from {
            Some(token) => token_position(token)?,
            None if req.dir == TimelineDirection::Backward => storage.current_stream_pos(),
            None => 0,
        };
        let limit = req.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT) as usize;
        let depth = if req.recurse { RECURSION_DEPTH } else { 1 };
        let rows = storage
            .relations(RelationsQuery {
                parent: req.event_id.to_owned(),
                rel_type: req.rel_type,
                event_type: req.event_type,
                from,
                to: req.to.map(token_position).transpose()?,
                dir: req.dir,
                limit,
                depth,
            })
            .await?;
        let next_batch = match (rows.len() == limit, rows.last()) {
            (true, Some(last)) => Some(match req.dir {
                TimelineDirection::Backward => PaginationToken::before(last.stream_pos),
                TimelineDirection::Forward => PaginationToken::after(last.stream_pos),
            }),
            _ => None,
        };
        let ids: Vec<_> = rows.iter().map(|r| r.event_id.clone()).collect();
        let mut records = storage.get_events(ids.clone()).await?;
        records.retain(|r| r.room_id == req.room_id);
        records.sort_by_key(|r| ids.iter().position(|id| *id == r.event_id));
        let mut loaded = Vec::with_capacity(records.len());
        for record in records {
            loaded.push(rooms.loaded(record).await?);
        }
        let visible = rooms.filter_visible(viewer.user, req.room_id, loaded).await?;
        Ok(RelationsPage {
            chunk: self.client_events(viewer, &visible).await?,
            next_batch: next_batch.map(|t| t.to_string()),
            prev_batch: req.from.map(str::to_owned),
            recursion_depth: req.recurse.then_some(depth),
        })
    }
}
