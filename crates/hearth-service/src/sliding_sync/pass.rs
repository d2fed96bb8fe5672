//! One computation of a response at a fixed point of the streams, against the connection
//! state at the client's `pos`; it yields the response and the state the client is left in.

use std::{
    collections::{BTreeMap, HashSet},
    sync::Arc,
};

use futures_util::{StreamExt, TryStreamExt, stream};
use hearth_core::Result;
use ruma::{
    DeviceId, OwnedRoomId, OwnedUserId, UserId,
    api::client::sync::sync_events::v5::{Response, response},
};

use super::{
    connection::{ConnState, Status},
    lists::Selection,
    request::Request,
    room::Built,
};
use crate::{Services, stream_token::SyncToken};

/// Rooms built at once (reads run on the database's reader threads meanwhile).
const CONCURRENCY: usize = 8;

pub struct Pass<'a> {
    pub services: Arc<Services>,
    pub user: &'a UserId,
    pub device: &'a DeviceId,
    pub req: &'a Request,
    /// The stream point of the client's `pos`, never ahead of `to_pos`/`to_eph`.
    pub since: Option<SyncToken>,
    /// What the client has, as of `pos`.
    pub prev: &'a ConnState,
    pub to_pos: i64,
    pub to_eph: u64,
    pub ignored: &'a HashSet<OwnedUserId>,
    /// Where to-device delivery resumes (the extension's own `since`).
    pub to_device_since: Option<i64>,
}

pub struct Outcome {
    /// Without `pos`, which the connection store gives.
    pub response: Response,
    pub state: ConnState,
    /// Rooms or extension data to send: a long-poll waits while there is none.
    pub has_data: bool,
}

impl Pass<'_> {
    /// The stream point this pass reaches.
    pub fn to(&self) -> SyncToken {
        SyncToken { pos: self.to_pos, eph: self.to_eph, to_device: self.to_pos }
    }

    pub async fn run(&self) -> Result<Outcome> {
        let candidates = self.candidates().await?;
        let dms = self.dm_rooms().await?;
        let selection = self.select(candidates, &dms).await?;
        // One read for every room's counts (as `/sync`), at this pass's end.
        let counts = self.services.push.all_room_counts(self.user, self.to_pos).await?;
        let plans = self.plan(&selection, &dms, &counts).await?;
        let built: Vec<Built> = stream::iter(plans)
            .map(|plan| self.build_room(plan))
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        let mut state = self.prev.clone();
        self.record_rooms(&mut state, &selection, &built);
        let mut response = Response::new(String::new());
        response.lists = selection
            .lists
            .iter()
            .map(|(key, (count, _))| {
                let mut list = response::List::default();
                list.count = ruma::UInt::new_saturating(*count as u64);
                (key.clone(), list)
            })
            .collect();
        let mut rooms = BTreeMap::new();
        for b in &built {
            if let Some(room) = &b.room {
                rooms.insert(b.room_id.clone(), room.clone());
            }
        }
        let (extensions, extension_data) = self.extensions(&selection, &built, &mut state).await?;
        response.extensions = extensions;
        let has_data = !rooms.is_empty() || extension_data;
        response.rooms = rooms;
        Ok(Outcome { response, state, has_data })
    }

    /// Rooms in scope are up to date now (built or found unchanged); rooms that were and left
    /// the scope are only as of the request's `pos`.
    fn record_rooms(&self, state: &mut ConnState, selection: &Selection, built: &[Built]) {
        if let Some(since) = self.since {
            let stale: Vec<OwnedRoomId> = state
                .rooms
                .iter()
                .filter(|(room, sent)| {
                    sent.status == Status::Live && !selection.rooms.contains_key(*room)
                })
                .map(|(room, _)| room.clone())
                .collect();
            for room in stale {
                if let Some(sent) = state.rooms.get_mut(&room) {
                    sent.status = Status::Previously(since.pos);
                }
            }
        }
        for room in selection.rooms.keys() {
            if let Some(sent) = state.rooms.get_mut(room) {
                sent.status = Status::Live;
            }
        }
        for b in built {
            state.rooms.insert(b.room_id.clone(), b.sent.clone());
        }
    }
}
