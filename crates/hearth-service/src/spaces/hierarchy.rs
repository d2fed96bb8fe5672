//! `GET /rooms/{roomId}/hierarchy` (spec: "Spaces"): a depth-first walk from the space over
//! the rooms the user may preview, each with its children. A page ends at `limit` rooms; the
//! rest of the walk waits under a random token for five minutes, bound to the same user, room,
//! `suggested_only` and `max_depth` (as Synapse).

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use hearth_core::{Error, Result};
use rand::distr::{Alphanumeric, SampleString};
use ruma::{OwnedRoomId, OwnedUserId, RoomId, UserId, room::RoomSummary};
use serde_json::Value;

use super::Service;

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 100;
const WALK_TTL: Duration = Duration::from_secs(5 * 60);

pub struct HierarchyRequest<'a> {
    pub room_id: &'a RoomId,
    pub from: Option<&'a str>,
    pub limit: Option<u64>,
    pub max_depth: Option<u64>,
    pub suggested_only: bool,
}

pub struct HierarchyPage {
    /// Each room's summary and its children (stripped `m.space.child` events).
    pub rooms: Vec<(RoomSummary, Vec<Value>)>,
    pub next_batch: Option<String>,
}

/// A walk in progress: what is left to visit and what was visited.
pub(super) struct Walk {
    user: OwnedUserId,
    root: OwnedRoomId,
    suggested_only: bool,
    max_depth: u64,
    /// Rooms to visit, with their depth; the next is at the end.
    stack: Vec<(OwnedRoomId, u64)>,
    visited: HashSet<OwnedRoomId>,
    started: Instant,
}

impl Service {
    pub async fn hierarchy(
        &self,
        user: &UserId,
        req: HierarchyRequest<'_>,
    ) -> Result<HierarchyPage> {
        if req.limit == Some(0) {
            return Err(Error::invalid_param("limit must be greater than zero"));
        }
        let limit = req.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT) as usize;
        let directory = &self.services()?.directory;
        if !directory.may_preview(Some(user), req.room_id).await? {
            return Err(Error::forbidden("You are not allowed to view this room"));
        }
        let mut walk = match req.from {
            Some(token) => self.resume(token, user, &req)?,
            None => Walk {
                user: user.to_owned(),
                root: req.room_id.to_owned(),
                suggested_only: req.suggested_only,
                max_depth: req.max_depth.unwrap_or(u64::MAX),
                stack: vec![(req.room_id.to_owned(), 0)],
                visited: HashSet::new(),
                started: Instant::now(),
            },
        };
        let mut found: Vec<(OwnedRoomId, Vec<Value>)> = Vec::new();
        while found.len() < limit {
            let Some((room, depth)) = walk.stack.pop() else { break };
            if !walk.visited.insert(room.clone()) || !self.visible(user, &walk, &room).await? {
                continue;
            }
            let children = self.children(&room, walk.suggested_only).await?;
            if depth < walk.max_depth {
                let next = children.iter().rev().filter(|c| !walk.visited.contains(&c.room_id));
                walk.stack.extend(next.map(|c| (c.room_id.clone(), depth + 1)));
            }
            found.push((room, children.into_iter().map(|c| c.event).collect()));
        }
        let ids = found.iter().map(|(id, _)| id.clone()).collect();
        let mut summaries: HashMap<OwnedRoomId, RoomSummary> =
            directory.summaries(ids).await?.into_iter().map(|s| (s.room_id.clone(), s)).collect();
        let rooms =
            found.into_iter().filter_map(|(id, c)| summaries.remove(&id).map(|s| (s, c))).collect();
        let next_batch = (!walk.stack.is_empty()).then(|| self.suspend(walk));
        Ok(HierarchyPage { rooms, next_batch })
    }

    /// A room of this server that the user may preview (the root was checked already).
    async fn visible(&self, user: &UserId, walk: &Walk, room: &RoomId) -> Result<bool> {
        if room == walk.root {
            return Ok(true);
        }
        let services = self.services()?;
        // Rooms only other servers know are left out until federation.
        if services.rooms.room_version(room).await?.is_none() {
            return Ok(false);
        }
        services.directory.may_preview(Some(user), room).await
    }

    fn resume(&self, token: &str, user: &UserId, req: &HierarchyRequest<'_>) -> Result<Walk> {
        let mut walks = self.walks.lock();
        walks.retain(|_, w| w.started.elapsed() < WALK_TTL);
        let walk = walks
            .remove(token)
            .filter(|w| w.user == user && w.root == req.room_id)
            .ok_or_else(|| Error::invalid_param("Unknown pagination token"))?;
        if walk.suggested_only != req.suggested_only
            || walk.max_depth != req.max_depth.unwrap_or(u64::MAX)
        {
            return Err(Error::invalid_param(
                "suggested_only and max_depth cannot change on paginated requests",
            ));
        }
        Ok(walk)
    }

    fn suspend(&self, walk: Walk) -> String {
        let token = Alphanumeric.sample_string(&mut rand::rng(), 16);
        self.walks.lock().insert(token.clone(), walk);
        token
    }
}
