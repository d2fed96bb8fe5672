//! Timeline slices: the newest events of a room between two stream positions that a user may
//! see and a filter lets through (spec: "Syncing": `limited` and `prev_batch`).

use std::collections::HashSet;

use hearth_core::Result;
use hearth_storage::{EventRecord, TimelineDirection};
use ruma::{OwnedUserId, RoomId, UserId, api::client::filter::RoomEventFilter};

use super::Service;
use crate::rooms::{PaginationToken, PduRef, matches_filter};

/// Rows looked at per slice at most, so a filter matching nothing cannot scan a whole room.
const MAX_SCAN: usize = 5_000;

pub struct TimelineSlice {
    /// Oldest first.
    pub events: Vec<(EventRecord, PduRef)>,
    /// Earlier events in the range were left out.
    pub limited: bool,
    /// Where `/messages` continues backwards from the first event.
    pub prev_batch: String,
}

/// What a slice is cut from.
pub struct SliceRequest<'a> {
    pub user: &'a UserId,
    pub room_id: &'a RoomId,
    /// Events after this position; `None`: from the room's start.
    pub since: Option<i64>,
    pub upto: i64,
    pub limit: usize,
    pub filter: &'a RoomEventFilter,
    /// Senders whose messages are left out (spec: "Ignoring Users"); their state is kept.
    pub ignored: &'a HashSet<OwnedUserId>,
}

impl Service {
    /// The newest `limit` events with positions in `(since, upto]` that the user may see and
    /// the filter lets through, oldest first. State events of the room's current state are
    /// kept even where history visibility hides them, so clients learn of changes made while
    /// they could not see the room (Synapse).
    pub async fn timeline_slice(&self, req: SliceRequest<'_>) -> Result<TimelineSlice> {
        let (mut events, exhausted) = self.scan_back(&req, req.limit + 1).await?;
        let limited = !exhausted || events.len() > req.limit;
        events.truncate(req.limit);
        events.reverse();
        let prev_batch = match events.first().and_then(|(r, _)| r.stream_pos) {
            // A whole room in an initial sync: Synapse answers the sync's own position, so
            // that `/messages` from `prev_batch` pages through the room (clients and SyTest
            // rely on it; `end` then follows).
            Some(_) if req.since.is_none() && !limited => PaginationToken(req.upto),
            Some(first) => PaginationToken::before(first),
            None => PaginationToken(req.upto),
        };
        Ok(TimelineSlice { events, limited, prev_batch: prev_batch.to_string() })
    }

    /// Walk back from `upto` until `want` events pass; newest first, and whether the range
    /// ran out.
    async fn scan_back(
        &self,
        req: &SliceRequest<'_>,
        want: usize,
    ) -> Result<(Vec<(EventRecord, PduRef)>, bool)> {
        let services = self.services()?;
        let (storage, rooms) = (&services.ctx.storage, &services.rooms);
        // Rows per read: enough for the usual case, growing when a filter or history
        // visibility hides most of them.
        let mut batch = want.max(20);
        let mut out = Vec::new();
        let mut cursor = req.upto;
        let mut scanned = 0;
        let mut current_state: Option<HashSet<ruma::OwnedEventId>> = None;
        loop {
            let rows = storage
                .room_timeline(req.room_id, cursor, req.since, TimelineDirection::Backward, batch)
                .await?;
            let exhausted = rows.len() < batch;
            let mut candidates = Vec::with_capacity(rows.len());
            for row in rows {
                cursor = row.stream_pos.unwrap_or(cursor) - 1;
                scanned += 1;
                let (record, pdu) = rooms.loaded(row).await?;
                let ignored = !pdu.is_state() && req.ignored.contains(&pdu.sender);
                if !record.rejected && !ignored && matches_filter(&pdu, req.filter) {
                    candidates.push((record, pdu));
                }
            }
            let visible: HashSet<_> = rooms
                .filter_visible(req.user, req.room_id, candidates.clone())
                .await?
                .into_iter()
                .map(|(r, _)| r.event_id)
                .collect();
            for (record, pdu) in candidates {
                let mut keep = visible.contains(&record.event_id);
                if !keep && pdu.is_state() {
                    if current_state.is_none() {
                        let state = rooms.head_state(req.room_id).await?;
                        current_state = Some(state.values().cloned().collect());
                    }
                    keep = current_state.as_ref().is_some_and(|s| s.contains(&record.event_id));
                }
                if keep {
                    out.push((record, pdu));
                    if out.len() == want {
                        return Ok((out, false));
                    }
                }
            }
            if exhausted || scanned >= MAX_SCAN {
                return Ok((out, exhausted));
            }
            batch = (batch * 2).min(1_000);
        }
    }
}
