//! One room of a response (MSC4186 `RoomResult`). A room the client has is sent only with what
//! changed: its new timeline events, changed state, and the name, avatar, heroes and counts
//! when they may have changed. Invites and knocks carry their stripped state instead.

use hearth_core::Result;
use hearth_storage::{EventRecord, StateKey};
use ruma::{
    JsOption, OwnedEventId, OwnedMxcUri, OwnedRoomId, OwnedUserId, UInt,
    api::client::{
        filter::RoomEventFilter,
        sync::sync_events::v5::response::{Hero, Room},
    },
    events::{TimelineEventType, room::member::MembershipState},
    serde::Raw,
};
use serde_json::value::RawValue;

use super::{
    config::{MEMBER, RoomConfig},
    connection::{MEMBERS_PER_ROOM, SentRoom, Status},
    pass::Pass,
    plan::RoomPlan,
    state::{StateAt, StateRequest, changed_keys, required_state},
};
use crate::{
    rooms::{PduRef, Viewer},
    sync::{SliceRequest, TimelineSlice},
};

/// Heroes listed at most (as `/sync`'s room summary).
const HEROES: usize = 5;

/// A built room: what to send (`None` when nothing changed for the client), what the client
/// then has, and the timeline's events (receipts follow them).
pub struct Built {
    pub room_id: OwnedRoomId,
    pub room: Option<Room>,
    pub sent: SentRoom,
    pub timeline: Vec<OwnedEventId>,
    pub initial: bool,
}

impl Pass<'_> {
    pub async fn build_room(&self, plan: RoomPlan) -> Result<Built> {
        match plan.membership.membership {
            MembershipState::Invite | MembershipState::Knock => self.stripped_room(plan).await,
            _ => self.visible_room(plan).await,
        }
    }

    /// An invite or knock: its stripped state, whole each time it changes.
    async fn stripped_room(&self, plan: RoomPlan) -> Result<Built> {
        let mut room = Room::new();
        if let Some((mut events, (record, pdu))) =
            self.services.sync.stripped_parts(&plan.membership).await?
        {
            events.push(self.render_state(&record, &pdu).await?);
            room.invite_state = Some(events.into_iter().map(Raw::from_json).collect());
        }
        room.initial = Some(true);
        room.bump_stamp = Some(stamp(plan.bump));
        room.is_dm = plan.is_dm.then_some(true);
        let sent = SentRoom {
            status: Status::Live,
            config: plan.config,
            is_dm: plan.is_dm,
            counts: plan.counts,
            members: Default::default(),
        };
        Ok(Built {
            room_id: plan.room_id,
            room: Some(room),
            sent,
            timeline: Vec::new(),
            initial: true,
        })
    }

    /// A room the user is in, or left (kicked, banned): seen up to their leave.
    async fn visible_room(&self, plan: RoomPlan) -> Result<Built> {
        let room_id = &plan.room_id;
        let joined = plan.membership.membership == MembershipState::Join;
        let upto = if joined { self.to_pos } else { plan.membership.stream_pos.min(self.to_pos) };
        let initial = plan.since.is_none();
        let timeline = self.timeline(&plan, upto).await?;
        let end = self.state_at(room_id, upto).await?;
        let previous = match plan.since {
            Some(since) => Some(self.state_at(room_id, since).await?),
            None => None,
        };
        let changed = changed_keys(previous.as_ref(), &end);
        let no_members = imbl::HashMap::new();
        let members_sent = match &plan.prev {
            Some(prev) if !initial => &prev.members,
            _ => &no_members,
        };
        let events = timeline.as_ref().map(|t| t.events.as_slice()).unwrap_or_default();
        let request = StateRequest {
            required: &plan.config.required_state,
            end: &end,
            previous: previous.as_ref(),
            expanded_from: plan
                .prev
                .as_ref()
                .filter(|_| plan.state_expanded)
                .map(|p| &p.config.required_state),
            timeline: events,
            limited: timeline.as_ref().is_some_and(|t| t.limited),
            members_sent,
        };
        let chosen = required_state(&request, &changed);
        let state = self.load_state(chosen).await?;

        let mut room = Room::new();
        self.describe(&mut room, &plan, &end, &changed, initial).await?;
        room.required_state = self.render_states(&state).await?;
        if let Some(t) = &timeline {
            self.fill_timeline(&mut room, t).await?;
        }
        room.bump_stamp = Some(stamp(plan.bump));
        room.initial = initial.then_some(true);
        room.is_dm = match &plan.prev {
            Some(prev) if !initial => (prev.is_dm != plan.is_dm).then_some(plan.is_dm),
            _ => plan.is_dm.then_some(true),
        };
        if joined {
            room.unread_notifications.notification_count =
                Some(UInt::new_saturating(plan.counts.notifications));
            room.unread_notifications.highlight_count =
                Some(UInt::new_saturating(plan.counts.highlights));
        }
        let counts_changed = plan.prev.as_ref().is_none_or(|p| p.counts != plan.counts);
        let sent = self.sent_room(&plan, members_sent, &state, events, timeline.as_ref());
        let unchanged = !initial && !plan.expanded && !counts_changed && nothing_new(&room);
        Ok(Built {
            room_id: plan.room_id,
            room: (!unchanged).then_some(room),
            sent,
            timeline: events.iter().map(|(_, p)| p.event_id.clone()).collect(),
            initial,
        })
    }

    /// The timeline: the newest `timeline_limit` events since the client's copy (all the
    /// newest for a first sending, or when `timeline_limit` grew).
    async fn timeline(&self, plan: &RoomPlan, upto: i64) -> Result<Option<TimelineSlice>> {
        if plan.config.timeline_limit == 0 {
            return Ok(None);
        }
        let since = if plan.expanded { None } else { plan.since };
        let filter = RoomEventFilter::default();
        let slice = self
            .services
            .sync
            .timeline_slice(SliceRequest {
                user: self.user,
                room_id: &plan.room_id,
                since,
                upto,
                limit: plan.config.timeline_limit,
                filter: &filter,
                ignored: self.ignored,
            })
            .await?;
        Ok(Some(slice))
    }

    async fn fill_timeline(&self, room: &mut Room, timeline: &TimelineSlice) -> Result<()> {
        let viewer = Viewer { user: self.user, device: Some(self.device) };
        let events = self.services.relations.client_events(viewer, &timeline.events).await?;
        room.timeline = events.into_iter().map(Raw::from_json).collect();
        room.limited = timeline.limited;
        room.prev_batch = Some(timeline.prev_batch.clone());
        // Events after the client's `pos` are live, however far back the timeline reaches.
        room.num_live = self.since.map(|since| {
            let live = timeline.events.iter().filter(|(r, _)| r.stream_pos > Some(since.pos));
            UInt::new_saturating(live.count() as u64)
        });
        Ok(())
    }

    /// Name, avatar, heroes and member counts, on a first sending or when they may have
    /// changed. Heroes only for a room without a name (MSC4186, as Synapse: the name event
    /// alone counts).
    async fn describe(
        &self,
        room: &mut Room,
        plan: &RoomPlan,
        end: &StateAt,
        changed: &std::collections::HashSet<StateKey>,
        initial: bool,
    ) -> Result<()> {
        let key = |kind: &str| (kind.to_owned(), String::new());
        let name = self.state_field(end, "m.room.name", "name").await?;
        if initial || changed.contains(&key("m.room.name")) {
            room.name = name.clone();
        }
        if initial || changed.contains(&key("m.room.avatar")) {
            room.avatar = match self.state_field(end, "m.room.avatar", "url").await? {
                Some(url) => JsOption::Some(OwnedMxcUri::from(url)),
                None if initial => JsOption::Undefined,
                None => JsOption::Null,
            };
        }
        let members_changed = initial || changed.iter().any(|(kind, _)| kind == MEMBER);
        if plan.membership.membership != MembershipState::Join || !members_changed {
            return Ok(());
        }
        let storage = &self.services.ctx.storage;
        let summary = storage.room_summaries(vec![plan.room_id.clone()], self.user, HEROES).await?;
        let Some((_, summary)) = summary.into_iter().next() else { return Ok(()) };
        room.joined_count = Some(UInt::new_saturating(summary.joined));
        room.invited_count = Some(UInt::new_saturating(summary.invited));
        if name.is_none() {
            room.heroes = Some(self.heroes(&plan.room_id, summary.heroes).await?);
        }
        Ok(())
    }

    async fn heroes(&self, room_id: &ruma::RoomId, users: Vec<OwnedUserId>) -> Result<Vec<Hero>> {
        let storage = &self.services.ctx.storage;
        let mut heroes = Vec::with_capacity(users.len());
        for user in users {
            let member = storage.membership(room_id, &user).await?;
            let mut hero = Hero::new(user);
            if let Some(m) = member {
                hero.name = m.display_name;
                hero.avatar = m.avatar_url.map(OwnedMxcUri::from);
            }
            heroes.push(hero);
        }
        Ok(heroes)
    }

    /// A non-empty string field of a state event's content.
    async fn state_field(
        &self,
        state: &StateAt,
        kind: &str,
        field: &str,
    ) -> Result<Option<String>> {
        let Some(id) = state.map.get(&(kind.to_owned(), String::new())) else { return Ok(None) };
        let Some(pdu) = self.services.rooms.pdu(id).await? else { return Ok(None) };
        Ok(pdu.content_value()[field].as_str().filter(|v| !v.is_empty()).map(str::to_owned))
    }

    /// The chosen state events, oldest first, without rejected ones.
    async fn load_state(
        &self,
        chosen: std::collections::HashMap<StateKey, OwnedEventId>,
    ) -> Result<Vec<(EventRecord, PduRef)>> {
        let mut events = self.services.sync.load_events(chosen.into_values().collect()).await?;
        events.retain(|(record, _)| !record.rejected);
        events.sort_by_key(|(r, _)| r.stream_pos);
        Ok(events)
    }

    async fn render_states(
        &self,
        events: &[(EventRecord, PduRef)],
    ) -> Result<Vec<Raw<ruma::events::AnySyncStateEvent>>> {
        let mut out = Vec::with_capacity(events.len());
        for (record, pdu) in events {
            out.push(Raw::from_json(self.render_state(record, pdu).await?));
        }
        Ok(out)
    }

    /// A state event in the client format without `room_id`, as in `/sync`.
    async fn render_state(&self, record: &EventRecord, pdu: &PduRef) -> Result<Box<RawValue>> {
        let viewer = Viewer { user: self.user, device: Some(self.device) };
        let mut value = self.services.rooms.client_value(record, pdu, Some(viewer), true).await?;
        if let Some(event) = value.as_object_mut() {
            event.remove("room_id");
        }
        Ok(serde_json::value::to_raw_value(&value)?)
    }

    /// What the client has of the room after this response.
    fn sent_room(
        &self,
        plan: &RoomPlan,
        members_sent: &imbl::HashMap<String, OwnedEventId>,
        state: &[(EventRecord, PduRef)],
        timeline_events: &[(EventRecord, PduRef)],
        timeline: Option<&TimelineSlice>,
    ) -> SentRoom {
        let mut members = members_sent.clone();
        if members.len() > MEMBERS_PER_ROOM {
            members = imbl::HashMap::new();
        }
        for (_, pdu) in state.iter().chain(timeline_events) {
            if pdu.kind == TimelineEventType::RoomMember
                && let Some(key) = &pdu.state_key
            {
                members.insert(key.clone(), pdu.event_id.clone());
            }
        }
        let limited = timeline.is_some_and(|t| t.limited);
        let config = match &plan.prev {
            // A timeline without a gap leaves the client with at least as many events as
            // before: a later, larger limit needs nothing more then (Synapse).
            Some(prev) if plan.since.is_some() && !limited => RoomConfig {
                timeline_limit: prev.config.timeline_limit.max(plan.config.timeline_limit),
                required_state: plan.config.required_state.clone(),
            },
            _ => plan.config.clone(),
        };
        SentRoom { status: Status::Live, config, is_dm: plan.is_dm, counts: plan.counts, members }
    }
}

/// Whether an incremental room result says nothing.
fn nothing_new(room: &Room) -> bool {
    room.timeline.is_empty()
        && room.required_state.is_empty()
        && room.name.is_none()
        && room.avatar.is_undefined()
        && room.heroes.is_none()
        && room.joined_count.is_none()
        && room.is_dm.is_none()
}

/// Stream positions are never negative; the type wants unsigned.
fn stamp(pos: i64) -> UInt {
    UInt::new_saturating(pos.max(0) as u64)
}
