//! One joined room of a sync (spec: `/sync` `rooms.join`).

use hearth_core::Result;
use hearth_storage::ReceiptRecord;
use ruma::{
    OwnedRoomId, OwnedUserId,
    events::{TimelineEventType, room::member::MembershipState},
};
use serde_json::value::RawValue;

use super::{
    Pass,
    filter::{room_allowed, timeline_limit},
    response::{JoinedRoom, RoomState, Timeline},
    state::StateRequest,
    timeline::{SliceRequest, TimelineSlice},
};
use crate::rooms::PaginationToken;

pub struct JoinedPlan {
    pub room_id: OwnedRoomId,
    /// Timeline events after this position; `None`: the newest ones (initial sync, newly
    /// joined room).
    pub since: Option<i64>,
    /// The client knows none of the room's state (initial sync, newly joined, `full_state`).
    pub fresh: bool,
    pub newly_joined: bool,
    pub receipts: Vec<ReceiptRecord>,
    pub account_data: Vec<Box<RawValue>>,
}

/// A joined room's section, and the users the client begins to share it with (for presence).
pub struct BuiltRoom {
    pub room: JoinedRoom,
    pub new_members: Vec<OwnedUserId>,
    /// The timeline has membership events, or a gap that may hide some.
    pub members_changed: bool,
}

impl Pass<'_> {
    /// `None` when an incremental sync has nothing new for the room.
    pub async fn joined_room(&self, plan: JoinedPlan) -> Result<Option<BuiltRoom>> {
        let room_id = &plan.room_id;
        let mut timeline = self.timeline(room_id, plan.since, self.to_pos).await?;
        // A room new to the client: it has none of the history, so the timeline counts as
        // limited (Synapse).
        timeline.limited |= plan.newly_joined;
        let previous = match (plan.fresh, plan.since) {
            (false, Some(since)) => Some(self.state_at(room_id, since).await?),
            _ => None,
        };
        let end = self.end_of(room_id, &timeline, self.to_pos).await?;
        let members_changed = timeline.limited
            || timeline.events.iter().any(|(_, e)| e.kind == TimelineEventType::RoomMember);
        let summary = if plan.fresh || members_changed {
            self.summary(room_id, &end).await?
        } else {
            Default::default()
        };
        let heroes = summary.heroes.clone().unwrap_or_default();
        let state = self
            .room_state(StateRequest {
                room_id,
                timeline: &timeline,
                previous: previous.as_ref(),
                end: &end,
                heroes: &heroes,
            })
            .await?;
        let ephemeral = self.ephemeral(room_id, &plan.receipts, plan.fresh);
        let nothing_new = timeline.events.is_empty()
            && state.is_empty()
            && ephemeral.is_empty()
            && plan.account_data.is_empty();
        if !plan.fresh && nothing_new {
            return Ok(None);
        }
        let threads = self.filter.room.timeline.unread_thread_notifications;
        let counts = self.room_unread_counts(room_id, threads).await?;
        let new_members = self.new_members(&plan, &timeline).await?;
        let room = JoinedRoom {
            summary,
            timeline: Timeline {
                events: self.render_timeline(&timeline.events, timeline.limited).await?,
                limited: timeline.limited,
                prev_batch: Some(timeline.prev_batch),
            },
            state: RoomState::new(state, self.use_state_after),
            ephemeral: ephemeral.into(),
            account_data: plan.account_data.into(),
            unread_notifications: counts.room,
            unread_thread_notifications: counts.threads,
        };
        Ok(Some(BuiltRoom { room, new_members, members_changed }))
    }

    /// The room's timeline as the filter asks (nothing if it excludes the room).
    pub async fn timeline(
        &self,
        room_id: &ruma::RoomId,
        since: Option<i64>,
        upto: i64,
    ) -> Result<TimelineSlice> {
        let filter = &self.filter.room.timeline;
        if !room_allowed(&filter.rooms, &filter.not_rooms, room_id) {
            return Ok(TimelineSlice {
                events: Vec::new(),
                limited: false,
                prev_batch: PaginationToken(upto).to_string(),
            });
        }
        self.svc
            .timeline_slice(SliceRequest {
                user: self.user,
                room_id,
                since,
                upto,
                limit: timeline_limit(filter),
                filter,
                ignored: &self.ignored,
            })
            .await
    }

    /// Users the client begins sharing the room with: everyone in a newly joined room, else
    /// those who joined in the timeline.
    async fn new_members(
        &self,
        plan: &JoinedPlan,
        timeline: &TimelineSlice,
    ) -> Result<Vec<OwnedUserId>> {
        if plan.newly_joined {
            let storage = &self.services.ctx.storage;
            let members = storage.room_members(&plan.room_id, &[MembershipState::Join]).await?;
            return Ok(members.into_iter().map(|m| m.user_id).filter(|u| u != self.user).collect());
        }
        if plan.since.is_none() {
            return Ok(Vec::new());
        }
        Ok(timeline
            .events
            .iter()
            .filter(|(_, e)| e.kind == TimelineEventType::RoomMember)
            .filter(|(_, e)| e.content_value()["membership"] == "join")
            .filter_map(|(_, e)| e.state_key.as_deref().and_then(|k| OwnedUserId::try_from(k).ok()))
            .filter(|u| u != self.user)
            .collect())
    }
}
