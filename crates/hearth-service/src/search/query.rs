//! `POST /search`, category `room_events`: the matching events the user may see, a page at a
//! time. Tokens are `k<n>` (rank order: results skipped) and `r<pos>` (newest first: events
//! below that stream position).

use std::collections::BTreeMap;

use hearth_core::{Error, Result};
use hearth_storage::{EventRecord, SEARCH_KEYS, SearchCursor, SearchOrder, SearchQuery};
use ruma::{
    OwnedRoomId, UInt, UserId,
    api::client::{
        filter::RoomEventFilter,
        search::search_events::v3::{
            Criteria, EventContext, GroupingKey, OrderBy, ResultGroup, ResultGroupMap,
            ResultRoomEvents, SearchResult,
        },
    },
    events::room::member::MembershipState,
    serde::Raw,
};

use super::Service;
use crate::rooms::{PduRef, Viewer, matches_filter};

/// The result page of `POST /search`, as ruma shapes it.
pub type SearchPage = ResultRoomEvents;

const DEFAULT_LIMIT: u64 = 10;
const MAX_LIMIT: u64 = 100;
/// Index rows looked at per request at most, so a filter matching nothing cannot scan forever.
const MAX_SCAN: usize = 1_000;

struct Hit {
    record: EventRecord,
    pdu: PduRef,
    rank: f64,
}

impl Service {
    /// `context`: the request's `event_context`, `None` when it asked for none.
    pub async fn search(
        &self,
        viewer: Viewer<'_>,
        criteria: &Criteria,
        context: Option<&EventContext>,
        next_batch: Option<&str>,
    ) -> Result<SearchPage> {
        let order = match &criteria.order_by {
            None | Some(OrderBy::Rank) => SearchOrder::Rank,
            Some(OrderBy::Recent) => SearchOrder::Recent,
            Some(other) => {
                return Err(Error::invalid_param(format!("Unknown order_by {:?}", other.as_str())));
            }
        };
        let cursor = next_batch.map(|t| parse_cursor(t, order)).transpose()?;
        // Every event committed before the request is searchable.
        self.indexing.wait_for(self.ctx.storage.current_stream_pos()).await;
        let query = SearchQuery {
            rooms: self.searchable_rooms(viewer.user, &criteria.filter).await?,
            terms: terms(&criteria.search_term),
            keys: keys(criteria.keys.as_deref())?,
            order,
        };
        let limit = criteria.filter.limit.map(u64::from).unwrap_or(DEFAULT_LIMIT);
        let limit = limit.clamp(1, MAX_LIMIT) as usize;
        let (hits, next) =
            self.collect_hits(viewer.user, &query, &criteria.filter, cursor, limit).await?;

        let mut page = SearchPage::new();
        page.count =
            Some(UInt::new_saturating(self.ctx.storage.count_search_results(query.clone()).await?));
        page.highlights = query.terms.clone();
        page.next_batch = next.map(|c| match c {
            SearchCursor::Offset(n) => format!("k{n}"),
            SearchCursor::Before(pos) => format!("r{pos}"),
        });
        page.groups = groups(&hits, &criteria.groupings.group_by)?.into_iter().collect();
        if criteria.include_state == Some(true) {
            page.state = self.room_states(viewer.user, &hits).await?;
        }
        let events: Vec<_> = hits.iter().map(|h| (h.record.clone(), h.pdu.clone())).collect();
        let served = self.services()?.relations.client_events(viewer, &events).await?;
        for (hit, event) in hits.iter().zip(served) {
            let mut result = SearchResult::new();
            result.rank = Some(hit.rank);
            result.result = Some(Raw::from_json(event));
            if let Some(context) = context {
                result.context = self.context(viewer, &hit.record, context).await?;
            }
            page.results.push(result);
        }
        Ok(page)
    }

    /// Walk the index from `cursor` until `limit` events pass the filter and history
    /// visibility; the cursor to continue from, if there may be more.
    async fn collect_hits(
        &self,
        user: &UserId,
        query: &SearchQuery,
        filter: &RoomEventFilter,
        mut cursor: Option<SearchCursor>,
        limit: usize,
    ) -> Result<(Vec<Hit>, Option<SearchCursor>)> {
        let rooms = &self.services()?.rooms;
        let mut hits = Vec::new();
        let mut scanned = 0;
        loop {
            // One row more than needed tells whether there is more.
            let batch = self.ctx.storage.search_events(query.clone(), cursor, limit + 1).await?;
            let exhausted = batch.len() <= limit;
            let total = batch.len();
            for (i, (record, rank)) in batch.into_iter().enumerate() {
                scanned += 1;
                cursor = Some(advance(query.order, cursor, &record));
                let (record, pdu) = rooms.loaded(record).await?;
                let wanted = !record.rejected && matches_filter(&pdu, filter);
                if wanted && rooms.can_see_event(user, &record).await? {
                    hits.push(Hit { record, pdu, rank });
                }
                if hits.len() == limit {
                    let more = !exhausted || i + 1 < total;
                    return Ok((hits, cursor.filter(|_| more)));
                }
            }
            if exhausted {
                return Ok((hits, None));
            }
            if scanned >= MAX_SCAN {
                return Ok((hits, cursor));
            }
        }
    }

    /// Rooms the user is in or has left (spec: search covers rooms they have left), narrowed
    /// by the filter's `rooms` and `not_rooms`.
    async fn searchable_rooms(
        &self,
        user: &UserId,
        filter: &RoomEventFilter,
    ) -> Result<Vec<OwnedRoomId>> {
        let states = [MembershipState::Join, MembershipState::Leave, MembershipState::Ban];
        let memberships = self.ctx.storage.rooms_for_user(user, &states).await?;
        Ok(memberships
            .into_iter()
            .map(|m| m.room_id)
            .filter(|r| filter.rooms.as_ref().is_none_or(|only| only.contains(r)))
            .filter(|r| !filter.not_rooms.contains(r))
            .collect())
    }

    /// `include_state`: the state the user may read of each room with results.
    async fn room_states(
        &self,
        user: &UserId,
        hits: &[Hit],
    ) -> Result<BTreeMap<OwnedRoomId, Vec<Raw<ruma::events::AnyStateEvent>>>> {
        let rooms = &self.services()?.rooms;
        let mut out = BTreeMap::new();
        for hit in hits {
            if out.contains_key(&hit.record.room_id) {
                continue;
            }
            let state = rooms.get_state(user, &hit.record.room_id).await?;
            out.insert(hit.record.room_id.clone(), state.into_iter().map(Raw::from_json).collect());
        }
        Ok(out)
    }
}

/// The cursor past `record`.
fn advance(order: SearchOrder, cursor: Option<SearchCursor>, record: &EventRecord) -> SearchCursor {
    match (order, cursor) {
        (SearchOrder::Rank, Some(SearchCursor::Offset(n))) => SearchCursor::Offset(n + 1),
        (SearchOrder::Rank, _) => SearchCursor::Offset(1),
        (SearchOrder::Recent, _) => SearchCursor::Before(record.stream_pos.unwrap_or(0)),
    }
}

fn parse_cursor(token: &str, order: SearchOrder) -> Result<SearchCursor> {
    let invalid = || Error::invalid_param(format!("Invalid next_batch {token:?}"));
    let (prefix, n) = token.split_at(token.len().min(1));
    match (order, prefix) {
        (SearchOrder::Rank, "k") => n.parse().map(SearchCursor::Offset).map_err(|_| invalid()),
        (SearchOrder::Recent, "r") => n.parse().map(SearchCursor::Before).map_err(|_| invalid()),
        _ => Err(invalid()),
    }
}

/// The words of a search term, lowercased: each must occur (as a word prefix) in a result.
fn terms(search_term: &str) -> Vec<String> {
    search_term
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn keys(
    requested: Option<&[ruma::api::client::search::search_events::v3::SearchKeys]>,
) -> Result<Vec<String>> {
    let Some(requested) = requested else {
        return Ok(SEARCH_KEYS.iter().map(|k| (*k).to_owned()).collect());
    };
    requested
        .iter()
        .map(|k| {
            let key = k.as_str();
            SEARCH_KEYS
                .contains(&key)
                .then(|| key.to_owned())
                .ok_or_else(|| Error::invalid_param(format!("Unknown search key {key:?}")))
        })
        .collect()
}

/// `groupings`: the results' event IDs by room or by sender, groups ordered by their first
/// result.
fn groups(
    hits: &[Hit],
    group_by: &[ruma::api::client::search::search_events::v3::Grouping],
) -> Result<Vec<ResultGroupMap>> {
    let mut out = Vec::new();
    for grouping in group_by {
        match &grouping.key {
            Some(GroupingKey::RoomId) => {
                out.push(ResultGroupMap::RoomId(group(hits, |h| h.record.room_id.clone())))
            }
            Some(GroupingKey::Sender) => {
                out.push(ResultGroupMap::Sender(group(hits, |h| h.pdu.sender.clone())))
            }
            Some(other) => {
                return Err(Error::invalid_param(format!("Unknown grouping {:?}", other.as_str())));
            }
            None => {}
        }
    }
    Ok(out)
}

fn group<K: Ord + Clone>(hits: &[Hit], key: impl Fn(&Hit) -> K) -> BTreeMap<K, ResultGroup> {
    let mut groups: BTreeMap<K, ResultGroup> = BTreeMap::new();
    for hit in hits {
        let next_order = UInt::new_saturating(groups.len() as u64 + 1);
        let group = groups.entry(key(hit)).or_insert_with(|| {
            let mut g = ResultGroup::new();
            g.order = Some(next_order);
            g
        });
        group.results.push(hit.pdu.event_id.clone());
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_words() {
        assert_eq!(terms("Hello, wörld!  42"), ["hello", "wörld", "42"]);
        assert!(terms(" !? ").is_empty());
    }

    #[test]
    fn cursors_round_trip_for_their_order() {
        assert_eq!(parse_cursor("k20", SearchOrder::Rank).unwrap(), SearchCursor::Offset(20));
        assert_eq!(parse_cursor("r7", SearchOrder::Recent).unwrap(), SearchCursor::Before(7));
        assert!(parse_cursor("r7", SearchOrder::Rank).is_err());
        assert!(parse_cursor("", SearchOrder::Rank).is_err());
        assert!(parse_cursor("kx", SearchOrder::Rank).is_err());
    }
}
