//! Server-side search: the text of messages, names and topics, indexed in order after events
//! commit (in batches, off the send's transaction) and dropped when an event is redacted.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::OwnedRoomId;

use crate::EventRecord;

/// Which field of an event the indexed text comes from (spec: `keys` of `/search`).
pub const SEARCH_KEYS: &[&str] = &["content.body", "content.name", "content.topic"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOrder {
    /// Best matches first.
    Rank,
    /// Newest first.
    Recent,
}

#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub rooms: Vec<OwnedRoomId>,
    /// Words that must all occur (as prefixes of words of the text).
    pub terms: Vec<String>,
    /// Which of [`SEARCH_KEYS`] to search.
    pub keys: Vec<String>,
    pub order: SearchOrder,
}

/// Where a page of results starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchCursor {
    /// `Rank` order: skip this many results.
    Offset(u64),
    /// `Recent` order: events below this stream position.
    Before(i64),
}

/// One event's searchable text.
#[derive(Debug, Clone)]
pub struct SearchRow {
    pub stream_pos: i64,
    pub room_id: OwnedRoomId,
    /// One of [`SEARCH_KEYS`].
    pub key: String,
    pub text: String,
}

#[async_trait]
pub trait SearchStore {
    /// The stream position the index covers.
    async fn search_indexed_pos(&self) -> Result<i64>;

    /// Index `rows` and record that the index covers the stream up to `up_to`. An event
    /// redacted meanwhile is left out.
    async fn index_search(&self, rows: Vec<SearchRow>, up_to: i64) -> Result<()>;

    /// Up to `limit` matching events from `cursor` on, in the query's order, each with its
    /// relevance (higher is better).
    async fn search_events(
        &self,
        query: SearchQuery,
        cursor: Option<SearchCursor>,
        limit: usize,
    ) -> Result<Vec<(EventRecord, f64)>>;

    /// How many events match in all.
    async fn count_search_results(&self, query: SearchQuery) -> Result<u64>;
}
