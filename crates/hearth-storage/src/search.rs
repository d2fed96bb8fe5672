//! Server-side search: the text of messages, names and topics, indexed when an event is
//! persisted and dropped when it is redacted.

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

#[async_trait]
pub trait SearchStore {
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
