//! `/messages` and `/context` (spec: client-server-api "Syncing", "Getting events for a room"):
//! a room's timeline in stream order, filtered by a `RoomEventFilter` and by history
//! visibility, with lazy-loaded members.

use std::collections::HashSet;

use hearth_core::{Error, Result};
use hearth_storage::{EventRecord, TimelineDirection};
use ruma::{
    DeviceId, EventId, RoomId, UserId,
    api::client::filter::{RoomEventFilter, UrlFilter},
};
use serde_json::value::RawValue;

use super::{PaginationToken, Service, client::Viewer, pdu::PduRef};

/// Rows scanned per page at most, so a filter matching nothing cannot scan a whole room.
const MAX_SCAN: usize = 5_000;

pub struct MessagesPage {
    pub start: String,
    pub end: Option<String>,
    pub chunk: Vec<Box<RawValue>>,
    pub state: Vec<Box<RawValue>>,
}

pub struct Context {
    pub start: Option<String>,
    pub end: Option<String>,
    pub before: Vec<Box<RawValue>>,
    pub event: Box<RawValue>,
    pub after: Vec<Box<RawValue>>,
    pub state: Vec<Box<RawValue>>,
}

impl Service {
    #[allow(clippy::too_many_arguments)]
    pub async fn messages(
        &self,
        user: &UserId,
        device: Option<&DeviceId>,
        room_id: &RoomId,
        from: Option<&str>,
        to: Option<&str>,
        dir: TimelineDirection,
        limit: usize,
        filter: &RoomEventFilter,
    ) -> Result<MessagesPage> {
        self.readable_state(user, room_id).await?;
        let from = match from {
            Some(t) => t.parse::<PaginationToken>()?.0,
            None if dir == TimelineDirection::Backward => self.ctx.storage.current_stream_pos(),
            None => 0,
        };
        let to = to.map(|t| t.parse::<PaginationToken>()).transpose()?.map(|t| t.0);
        let limit = filter.limit.map(|l| u64::from(l) as usize).unwrap_or(limit).clamp(1, 1000);
        let (events, last_scanned, exhausted) =
            self.scan(user, room_id, from, to, dir, limit, filter).await?;
        // Spec: `end` is omitted when there are no further events. Like Synapse, a page that
        // reached the end but still has events carries `end`; the next one is empty without it.
        let end = match dir {
            _ if exhausted && events.is_empty() => None,
            TimelineDirection::Backward => Some(PaginationToken::before(last_scanned)),
            TimelineDirection::Forward => Some(PaginationToken::after(last_scanned.max(from))),
        };
        let state = self.lazy_members(user, &events, filter).await?;
        let viewer = Viewer { user, device };
        let chunk = self.services()?.relations.client_events(viewer, &events).await?;
        Ok(MessagesPage {
            start: PaginationToken(from).to_string(),
            end: end.map(|t| t.to_string()),
            chunk,
            state,
        })
    }

    /// Walk the timeline until `limit` events pass the filter and visibility; returns them,
    /// the position of the last row looked at, and whether the timeline ran out.
    #[allow(clippy::too_many_arguments)]
    async fn scan(
        &self,
        user: &UserId,
        room_id: &RoomId,
        from: i64,
        to: Option<i64>,
        dir: TimelineDirection,
        limit: usize,
        filter: &RoomEventFilter,
    ) -> Result<(Vec<(EventRecord, PduRef)>, i64, bool)> {
        let mut out = Vec::new();
        let mut cursor = from;
        let mut scanned = 0;
        let batch = limit.max(20);
        loop {
            let rows = self.ctx.storage.room_timeline(room_id, cursor, to, dir, batch).await?;
            let exhausted = rows.len() < batch;
            let mut loaded = Vec::with_capacity(rows.len());
            for row in rows {
                cursor = match dir {
                    TimelineDirection::Backward => row.stream_pos.unwrap_or(cursor) - 1,
                    TimelineDirection::Forward => row.stream_pos.unwrap_or(cursor),
                };
                scanned += 1;
                let (record, pdu) = self.loaded(row).await?;
                if !record.rejected && matches_filter(&pdu, filter) {
                    loaded.push((record, pdu));
                }
            }
            for event in self.filter_visible(user, room_id, loaded).await? {
                if out.len() == limit {
                    break;
                }
                out.push(event);
            }
            if out.len() == limit {
                // Resume right after the last event returned.
                let last = out.last().and_then(|(r, _)| r.stream_pos).unwrap_or(cursor);
                return Ok((out, last, false));
            }
            if exhausted || scanned >= MAX_SCAN {
                let last_scanned = match dir {
                    TimelineDirection::Backward => cursor + 1,
                    TimelineDirection::Forward => cursor,
                };
                return Ok((out, last_scanned, exhausted));
            }
        }
    }

    /// With `lazy_load_members`: the member events of the senders of `events`.
    async fn lazy_members(
        &self,
        user: &UserId,
        events: &[(EventRecord, PduRef)],
        filter: &RoomEventFilter,
    ) -> Result<Vec<Box<RawValue>>> {
        if filter.lazy_load_options.is_disabled() {
            return Ok(Vec::new());
        }
        let mut seen = HashSet::new();
        let mut ids = Vec::new();
        for (record, pdu) in events {
            if !seen.insert(pdu.sender.clone()) {
                continue;
            }
            let Some(group) = record.state_group_after else { continue };
            let state = self.state_group(group).await?.map;
            if let Some(id) = state.get(&("m.room.member".to_owned(), pdu.sender.to_string())) {
                ids.push(id.clone());
            }
        }
        self.client_events(user, ids).await
    }

    /// `GET /rooms/{roomId}/context/{eventId}`: the event and up to `limit` events around it.
    pub async fn context(
        &self,
        user: &UserId,
        device: Option<&DeviceId>,
        room_id: &RoomId,
        event_id: &EventId,
        limit: usize,
        filter: &RoomEventFilter,
    ) -> Result<Context> {
        self.readable_state(user, room_id).await?;
        let not_found = || Error::not_found("Event not found");
        let record = self.ctx.storage.get_event(event_id).await?.ok_or_else(not_found)?;
        let pos = record.stream_pos.ok_or_else(not_found)?;
        if record.room_id != room_id || !self.can_see_event(user, &record).await? {
            return Err(not_found());
        }
        let (record, pdu) = self.loaded(record).await?;
        let limit = limit.min(100);
        let before_limit = limit / 2;
        let after_limit = limit - before_limit;
        let (before, b_last, b_done) = if before_limit == 0 {
            (Vec::new(), pos, false)
        } else {
            self.scan(
                user,
                room_id,
                pos - 1,
                None,
                TimelineDirection::Backward,
                before_limit,
                filter,
            )
            .await?
        };
        let (after, a_last, _) = if after_limit == 0 {
            (Vec::new(), pos, false)
        } else {
            self.scan(user, room_id, pos, None, TimelineDirection::Forward, after_limit, filter)
                .await?
        };
        let viewer = Viewer { user, device };
        let relations = &self.services()?.relations;
        let before_json = relations.client_events(viewer, &before).await?;
        let after_json = relations.client_events(viewer, &after).await?;
        let event = relations.client_events(viewer, &[(record.clone(), pdu.clone())]).await?;
        let state = match record.state_group_after {
            Some(g) if filter.lazy_load_options.is_disabled() => {
                let ids = self.state_group(g).await?.map.values().cloned().collect();
                self.client_events(user, ids).await?
            }
            _ => {
                let mut all = before.clone();
                all.push((record.clone(), pdu.clone()));
                all.extend(after.iter().cloned());
                self.lazy_members(user, &all, filter).await?
            }
        };
        let _ = b_done;
        Ok(Context {
            start: Some(PaginationToken::before(b_last.min(pos)).to_string()),
            end: Some(PaginationToken::after(a_last.max(pos)).to_string()),
            before: before_json,
            event: event.into_iter().next().ok_or_else(|| Error::internal("event not served"))?,
            after: after_json,
            state,
        })
    }
}

/// `types`/`not_types` (with `*` wildcards), `senders`/`not_senders`, `contains_url`.
pub(crate) fn matches_filter(pdu: &PduRef, filter: &RoomEventFilter) -> bool {
    let kind = pdu.kind.to_string();
    if filter.not_types.iter().any(|t| glob(t, &kind)) {
        return false;
    }
    if let Some(types) = &filter.types
        && !types.iter().any(|t| glob(t, &kind))
    {
        return false;
    }
    if filter.not_senders.contains(&pdu.sender) {
        return false;
    }
    if let Some(senders) = &filter.senders
        && !senders.contains(&pdu.sender)
    {
        return false;
    }
    match filter.url_filter {
        Some(UrlFilter::EventsWithUrl) => pdu.content_value()["url"].is_string(),
        Some(UrlFilter::EventsWithoutUrl) => !pdu.content_value()["url"].is_string(),
        _ => true,
    }
}

/// Filter type patterns: `*` matches any run of characters.
pub(crate) fn glob(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == value,
        Some((prefix, rest)) => {
            let Some(tail) = value.strip_prefix(prefix) else { return false };
            (0..=tail.len()).any(|i| tail.is_char_boundary(i) && glob(rest, &tail[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn glob_matches_wildcards() {
        assert!(super::glob("m.room.*", "m.room.message"));
        assert!(super::glob("*", "anything"));
        assert!(!super::glob("m.room.*", "m.call.invite"));
        assert!(super::glob("m.room.message", "m.room.message"));
    }
}
