//! A request as the rest of sliding sync uses it: lists and subscriptions with their room
//! configs resolved, checked against the MSC's limits.

use std::collections::BTreeMap;

use hearth_core::{Error, Result};
use ruma::{OwnedRoomId, UserId, api::client::sync::sync_events::v5};

use super::{
    config::RoomConfig,
    filters::{ExtraFilters, Filters},
};

/// MSC4186: "Max lists: 100".
const MAX_LISTS: usize = 100;
/// Ranges per list and room subscriptions per request, to bound the work of one request.
const MAX_RANGES: usize = 100;
const MAX_SUBSCRIPTIONS: usize = 1_000;
/// List keys and `conn_id` are opaque identifiers (spec: "Opaque Identifiers").
const MAX_ID_LEN: usize = 255;

pub struct List {
    pub key: String,
    /// Inclusive index windows into the filtered, sorted list.
    pub ranges: Vec<(usize, usize)>,
    pub config: RoomConfig,
    pub filters: Filters,
}

pub struct Request {
    pub lists: Vec<List>,
    pub subscriptions: BTreeMap<OwnedRoomId, RoomConfig>,
    pub extensions: v5::request::Extensions,
}

impl Request {
    pub fn new(
        body: &v5::Request,
        extra: &BTreeMap<String, ExtraFilters>,
        me: &UserId,
    ) -> Result<Request> {
        if let Some(conn_id) = &body.conn_id {
            check_id("conn_id", conn_id)?;
        }
        if body.lists.len() > MAX_LISTS {
            return Err(Error::invalid_param(format!("At most {MAX_LISTS} lists")));
        }
        if body.room_subscriptions.len() > MAX_SUBSCRIPTIONS {
            return Err(Error::invalid_param(format!(
                "At most {MAX_SUBSCRIPTIONS} room subscriptions"
            )));
        }
        let mut lists = Vec::with_capacity(body.lists.len());
        for (key, list) in &body.lists {
            check_id("list key", key)?;
            lists.push(List {
                key: key.clone(),
                ranges: ranges(key, &list.ranges)?,
                config: RoomConfig::of_details(&list.room_details, me),
                filters: Filters::new(list.filters.as_ref(), extra.get(key)),
            });
        }
        let subscriptions = body
            .room_subscriptions
            .iter()
            .map(|(room, sub)| {
                (room.clone(), RoomConfig::new(sub.timeline_limit, &sub.required_state, me))
            })
            .collect();
        Ok(Request { lists, subscriptions, extensions: body.extensions.clone() })
    }
}

fn check_id(what: &str, id: &str) -> Result<()> {
    let valid = id.len() <= MAX_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !valid {
        return Err(Error::invalid_param(format!(
            "Invalid {what} {id:?}: up to {MAX_ID_LEN} of A-Z a-z 0-9 - . _ ~"
        )));
    }
    Ok(())
}

fn ranges(key: &str, ranges: &[(ruma::UInt, ruma::UInt)]) -> Result<Vec<(usize, usize)>> {
    if ranges.len() > MAX_RANGES {
        return Err(Error::invalid_param(format!("List {key:?}: at most {MAX_RANGES} ranges")));
    }
    let index = |v: ruma::UInt| usize::try_from(u64::from(v)).unwrap_or(usize::MAX);
    ranges
        .iter()
        .map(|(start, end)| {
            let (start, end) = (index(*start), index(*end));
            if start > end {
                return Err(Error::invalid_param(format!(
                    "List {key:?}: range [{start}, {end}] ends before it starts"
                )));
            }
            Ok((start, end))
        })
        .collect()
}
