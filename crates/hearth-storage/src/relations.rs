//! Event relationships (`content.m.relates_to`) and threads, indexed when an event is persisted
//! and dropped when the child event is redacted (a redaction breaks the relationship).

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{EventId, OwnedEventId, OwnedUserId, RoomId, UserId};

use crate::TimelineDirection;

/// What persisting an event records about its relationship to a parent.
#[derive(Debug, Clone)]
pub struct NewRelation {
    pub relates_to: OwnedEventId,
    pub rel_type: String,
    /// The annotation key (`m.annotation`), for duplicate checks.
    pub key: Option<String>,
}

/// One indexed child event.
#[derive(Debug, Clone)]
pub struct RelationRecord {
    pub event_id: OwnedEventId,
    pub relates_to: OwnedEventId,
    pub rel_type: String,
    /// The child's event type.
    pub kind: String,
    pub sender: OwnedUserId,
    pub stream_pos: i64,
    pub origin_server_ts: i64,
}

/// The aggregation of a thread root's `m.thread` children.
#[derive(Debug, Clone)]
pub struct ThreadSummary {
    pub root: OwnedEventId,
    pub count: u64,
    pub latest_event: OwnedEventId,
    /// Whether the viewer sent a child of the thread.
    pub participated: bool,
}

/// Which children of an event to page through.
#[derive(Debug, Clone)]
pub struct RelationsQuery {
    pub parent: OwnedEventId,
    pub rel_type: Option<String>,
    pub event_type: Option<String>,
    /// Stream positions: see `TimelineDirection`.
    pub from: i64,
    pub to: Option<i64>,
    pub dir: TimelineDirection,
    pub limit: usize,
    /// 1: direct children only; more: children of children too, filters applied at each level.
    pub depth: u32,
}

#[async_trait]
pub trait RelationStore {
    /// A page of children (and, with `depth > 1`, descendants) in stream order.
    async fn relations(&self, query: RelationsQuery) -> Result<Vec<RelationRecord>>;

    /// The relationship an event has to its parent, if it has one.
    async fn relation_of(&self, event_id: &EventId) -> Result<Option<RelationRecord>>;

    /// Children of `parents` with one of `rel_types`, senders in `ignored` left out.
    async fn children_of(
        &self,
        parents: Vec<OwnedEventId>,
        rel_types: &'static [&'static str],
        ignored: Vec<OwnedUserId>,
    ) -> Result<Vec<RelationRecord>>;

    /// Thread summaries of those of `roots` that have `m.thread` children (senders in `ignored`
    /// left out); `participated` is for `user`.
    async fn thread_summaries(
        &self,
        roots: Vec<OwnedEventId>,
        user: &UserId,
        ignored: Vec<OwnedUserId>,
    ) -> Result<Vec<ThreadSummary>>;

    /// A room's threads, most recently active first: `(root, stream position of its latest
    /// child)` for threads whose latest child is below `before`; only threads `participant`
    /// started or replied in, when given.
    async fn threads(
        &self,
        room_id: &RoomId,
        participant: Option<&UserId>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(OwnedEventId, i64)>>;

    /// Whether `sender` already annotated `parent` with `key`.
    async fn has_annotation(&self, parent: &EventId, sender: &UserId, key: &str) -> Result<bool>;
}
