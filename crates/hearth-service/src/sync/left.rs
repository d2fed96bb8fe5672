//! A room the user left or was banned from (spec: `/sync` `rooms.leave`): its timeline up to
//! the leave, the state delta up to the start of that timeline, and its account data.

use hearth_core::Result;
use ruma::OwnedRoomId;
use serde_json::value::RawValue;

use super::{
    Pass,
    response::{LeftRoom, RoomState, Timeline},
    state::StateRequest,
};

pub struct LeftPlan {
    pub room_id: OwnedRoomId,
    /// Events after this position; `None`: the newest ones before the leave.
    pub since: Option<i64>,
    /// Stream position of the leave (or ban).
    pub left_at: i64,
    pub fresh: bool,
    pub account_data: Vec<Box<RawValue>>,
}

impl Pass<'_> {
    pub async fn left_room(&self, plan: LeftPlan) -> Result<LeftRoom> {
        let room_id = &plan.room_id;
        let upto = plan.left_at.min(self.to_pos);
        let timeline = self.timeline(room_id, plan.since, upto).await?;
        let previous = match (plan.fresh, plan.since) {
            (false, Some(since)) => Some(self.state_at(room_id, since).await?),
            _ => None,
        };
        let end = self.end_of(room_id, &timeline, upto).await?;
        let state = self
            .room_state(StateRequest {
                room_id,
                timeline: &timeline,
                previous: previous.as_ref(),
                end: &end,
                heroes: &[],
            })
            .await?;
        Ok(LeftRoom {
            timeline: Timeline {
                events: self.render_timeline(&timeline.events, timeline.limited).await?,
                limited: timeline.limited,
                prev_batch: Some(timeline.prev_batch),
            },
            state: RoomState::new(state, self.use_state_after),
            account_data: plan.account_data.into(),
        })
    }
}
