//! Which rooms of the selection a response carries, and from which point: a room the client
//! does not have is sent whole (`initial`); one it has, only if something changed since it was
//! up to date, or if its config now asks for more (MSC4186 "Changing room configs").

use std::collections::{HashMap, HashSet};

use hearth_core::Result;
use hearth_storage::MembershipRecord;
use ruma::{OwnedRoomId, events::room::member::MembershipState};

use super::{
    config::RoomConfig,
    connection::{SentRoom, Status},
    lists::Selection,
    pass::Pass,
};
use crate::push::{self, Counts};

pub struct RoomPlan {
    pub room_id: OwnedRoomId,
    pub membership: MembershipRecord,
    pub config: RoomConfig,
    pub bump: i64,
    /// Where the client's copy of the room is up to date; `None`: it has nothing (initial).
    pub since: Option<i64>,
    /// `timeline_limit` grew: send the latest events again, not only the new ones.
    pub expanded: bool,
    /// `required_state` asks for state it did not when the room was last sent.
    pub state_expanded: bool,
    pub prev: Option<SentRoom>,
    pub is_dm: bool,
    /// The user's unread counts in the room now (zero unless joined).
    pub counts: Counts,
}

impl Pass<'_> {
    /// The selected rooms to build; the others are up to date.
    pub async fn plan(
        &self,
        selection: &Selection,
        dms: &HashSet<OwnedRoomId>,
        counts: &HashMap<OwnedRoomId, push::RoomCounts>,
    ) -> Result<Vec<RoomPlan>> {
        let mut plans = Vec::new();
        for (room_id, selected) in &selection.rooms {
            let prev = self.prev.rooms.get(room_id).cloned();
            let mut since = match (self.since, &prev) {
                (Some(s), Some(p)) => match p.status {
                    Status::Live => Some(s.pos),
                    Status::Previously(pos) => Some(pos),
                },
                _ => None,
            };
            let m = &selected.membership;
            // Newly joined: the room starts over for the client (Synapse).
            if let Some(b) = since
                && m.membership == MembershipState::Join
                && m.stream_pos > b
                && !self.was_joined(room_id, b).await?
            {
                since = None;
            }
            let is_dm = dms.contains(room_id);
            let joined = m.membership == MembershipState::Join;
            let counts = match counts.get(room_id) {
                Some(c) if joined => c.total(),
                _ => Counts::default(),
            };
            let config = &selected.config;
            // Counts also change without a new event (a read receipt, maybe from another
            // device): the room is sent again with its new counts.
            let (expanded, state_expanded, other_change) = match (&prev, since) {
                (Some(p), Some(_)) => (
                    p.config.timeline_limit < config.timeline_limit,
                    config.required_state.expands(&p.config.required_state),
                    p.is_dm != is_dm || p.counts != counts,
                ),
                _ => (false, false, false),
            };
            let changed = since.is_none_or(|b| selected.latest > b || m.stream_pos > b);
            if changed || expanded || state_expanded || other_change {
                plans.push(RoomPlan {
                    room_id: room_id.clone(),
                    membership: m.clone(),
                    config: config.clone(),
                    bump: selected.bump,
                    since,
                    expanded,
                    state_expanded,
                    prev,
                    is_dm,
                    counts,
                });
            }
        }
        Ok(plans)
    }
}
