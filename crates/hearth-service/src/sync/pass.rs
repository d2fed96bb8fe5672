//! One computation of a sync response at a fixed point of the streams: which rooms go in
//! which section, the data read once for all rooms, and the per-user sections.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Arc,
};

use futures_util::{StreamExt, TryStreamExt, stream};
use hearth_core::Result;
use hearth_storage::{AccountDataChange, MembershipRecord, ReceiptRecord};
use ruma::{
    DeviceId, OwnedRoomId, OwnedUserId, RoomId, UserId, api::client::filter::FilterDefinition,
    events::room::member::MembershipState,
};
use serde_json::{json, value::RawValue};

use super::{
    Service,
    filter::{EventConditions, room_allowed},
    joined::JoinedPlan,
    left::LeftPlan,
    response::{Events, InvitedRoom, KnockedRoom, Rooms, SyncResponse},
};
use crate::{Services, stream_token::SyncToken};

/// Rooms built at once (reads run on the database's reader threads meanwhile).
const CONCURRENCY: usize = 8;
/// To-device messages per sync (the spec recommends 100).
const TO_DEVICE_LIMIT: usize = 100;

pub struct Pass<'a> {
    pub svc: &'a Service,
    pub services: Arc<Services>,
    pub user: &'a UserId,
    pub device: &'a DeviceId,
    pub filter: &'a FilterDefinition,
    /// The client's token, never ahead of `to_pos`/`to_eph`.
    pub since: Option<SyncToken>,
    pub full_state: bool,
    pub use_state_after: bool,
    pub to_pos: i64,
    pub to_eph: u64,
    pub ignored: HashSet<OwnedUserId>,
    /// The user's memberships, when already read at `to_pos`.
    pub memberships: Option<Vec<MembershipRecord>>,
    /// After a wake by these rooms only: nothing else can have changed since `since`.
    pub focus: Option<HashSet<OwnedRoomId>>,
    /// The user's membership after each state group met while rendering.
    pub memberships_at: parking_lot::Mutex<HashMap<i64, String>>,
    /// Notification counts of all the user's rooms, read once when first needed.
    pub unread: tokio::sync::OnceCell<HashMap<OwnedRoomId, crate::push::RoomCounts>>,
}

/// Membership news from the rooms built.
#[derive(Default)]
struct Members {
    /// Users the client begins sharing a room with.
    new: Vec<OwnedUserId>,
    /// Some timeline had membership events (or a gap that may hide some).
    changed: bool,
}

/// What goes in each room section.
#[derive(Default)]
struct Plans {
    joined: Vec<JoinedPlan>,
    left: Vec<LeftPlan>,
    invited: Vec<MembershipRecord>,
    knocked: Vec<MembershipRecord>,
}

impl Pass<'_> {
    pub async fn run(&self) -> Result<SyncResponse> {
        let e2ee = &self.services.e2ee;
        let keys = e2ee.one_time_keys_status(self.user, self.device).await?;
        let mut response = SyncResponse {
            next_batch: String::new(),
            rooms: Rooms::default(),
            presence: Events::default(),
            account_data: Events::default(),
            to_device: Events::default(),
            device_lists: Default::default(),
            device_one_time_keys_count: keys.one_time_key_counts,
            device_unused_fallback_key_types: keys.unused_fallback_key_types,
        };
        let unchanged = !self.full_state
            && self.since.is_some_and(|s| {
                s.pos == self.to_pos && s.eph == self.to_eph && s.to_device == s.pos
            });
        if unchanged {
            response.next_batch = self.since.expect("checked").to_string();
            return Ok(response);
        }
        // Focused on rooms, nothing for the user itself changed: what it would have
        // changed (account data, to-device, memberships, key uploads) wakes the user.
        let focused = self.focus.is_some();
        let (global, mut by_room) = match focused {
            true => Default::default(),
            false => self.account_data().await?,
        };
        response.account_data = global.into();
        let plans = self.plan(&mut by_room).await?;
        let mut members = Members::default();
        self.build_rooms(plans, &mut response.rooms, &mut members).await?;
        response.presence = self.presence(&members.new).await?.into();
        let to_device = match focused {
            true => (Vec::new(), self.to_pos),
            false => self.to_device().await?,
        };
        response.to_device = to_device.0.into();
        // Others joining or leaving shared rooms change device lists too.
        if let Some(since) = self.since
            && (!focused || members.changed)
        {
            response.device_lists =
                e2ee.device_list_changes(self.user, since.pos, self.to_pos).await?;
        }
        response.next_batch =
            SyncToken { pos: self.to_pos, eph: self.to_eph, to_device: to_device.1 }.to_string();
        Ok(response)
    }

    /// Sort the user's rooms into sections, with the receipts and account data each needs.
    async fn plan(
        &self,
        account_data: &mut HashMap<OwnedRoomId, Vec<Box<RawValue>>>,
    ) -> Result<Plans> {
        let storage = &self.services.ctx.storage;
        let room_filter = &self.filter.room;
        let since = self.since.map(|s| s.pos);
        let mut plans = Plans::default();
        let memberships = match &self.memberships {
            Some(known) => known.clone(),
            None => storage.rooms_for_user(self.user, &[]).await?,
        };
        for m in memberships {
            // Changed after this pass's snapshot: the next sync tells.
            let unfocused = self.focus.as_ref().is_some_and(|rooms| !rooms.contains(&m.room_id));
            if m.stream_pos > self.to_pos
                || unfocused
                || !room_allowed(&room_filter.rooms, &room_filter.not_rooms, &m.room_id)
            {
                continue;
            }
            let changed = since.is_none_or(|s| m.stream_pos > s);
            match m.membership {
                MembershipState::Join => plans.joined.push(self.joined_plan(&m, since).await?),
                MembershipState::Invite if changed && !self.ignored.contains(&m.sender) => {
                    plans.invited.push(m)
                }
                MembershipState::Knock if changed => plans.knocked.push(m),
                MembershipState::Leave | MembershipState::Ban => {
                    // Newly left rooms always; older ones only when asked for (spec:
                    // `include_leave`) on a sync that sends everything.
                    let newly_left = since.is_some() && changed;
                    let wanted = room_filter.include_leave && (since.is_none() || self.full_state);
                    if newly_left || wanted {
                        let fresh = !newly_left
                            || self.full_state
                            || self.joined_unseen(&m, since.unwrap_or(0)).await?;
                        plans.left.push(LeftPlan {
                            room_id: m.room_id.clone(),
                            since: since.filter(|_| newly_left),
                            left_at: m.stream_pos,
                            fresh,
                            account_data: Vec::new(),
                        });
                    }
                }
                _ => {}
            }
        }
        self.attach_room_data(&mut plans, account_data).await?;
        Ok(plans)
    }

    async fn joined_plan(&self, m: &MembershipRecord, since: Option<i64>) -> Result<JoinedPlan> {
        let newly_joined = match since {
            Some(s) if m.stream_pos > s => !self.was_joined(&m.room_id, s).await?,
            _ => false,
        };
        let fresh = since.is_none() || newly_joined || self.full_state;
        Ok(JoinedPlan {
            room_id: m.room_id.clone(),
            since: since.filter(|_| !newly_joined),
            fresh,
            newly_joined,
            receipts: Vec::new(),
            account_data: Vec::new(),
        })
    }

    async fn was_joined(&self, room_id: &RoomId, pos: i64) -> Result<bool> {
        let state = self.state_at(room_id, pos).await?;
        self.joined_in(&state.map).await
    }

    async fn joined_in(&self, state: &crate::rooms::StateMap) -> Result<bool> {
        let key = ("m.room.member".to_owned(), self.user.to_string());
        let Some(id) = state.get(&key) else { return Ok(false) };
        let pdu = self.services.rooms.pdu(id).await?;
        Ok(pdu.is_some_and(|p| p.content_value()["membership"] == "join"))
    }

    /// A room left since `since` that the client never saw joined: the user joined and left
    /// in between, so the client needs the room's whole state (SyTest "joins and leaves a
    /// room in the same batch").
    async fn joined_unseen(&self, left: &MembershipRecord, since: i64) -> Result<bool> {
        if self.was_joined(&left.room_id, since).await? {
            return Ok(false);
        }
        let storage = &self.services.ctx.storage;
        let before = storage.get_event(&left.event_id).await?.and_then(|e| e.state_group_before);
        let Some(group) = before else { return Ok(false) };
        let state = self.services.rooms.state_group(group).await?.map;
        self.joined_in(&state).await
    }

    /// Receipts and room account data for every joined room; on an incremental sync, drop the
    /// rooms with nothing new.
    async fn attach_room_data(
        &self,
        plans: &mut Plans,
        account_data: &mut HashMap<OwnedRoomId, Vec<Box<RawValue>>>,
    ) -> Result<()> {
        let storage = &self.services.ctx.storage;
        let since = self.since.map(|s| s.pos).unwrap_or(0);
        let (fresh, known): (Vec<OwnedRoomId>, Vec<OwnedRoomId>) = {
            let (f, k): (Vec<&JoinedPlan>, Vec<&JoinedPlan>) =
                plans.joined.iter().partition(|p| p.fresh);
            (
                f.into_iter().map(|p| p.room_id.clone()).collect(),
                k.into_iter().map(|p| p.room_id.clone()).collect(),
            )
        };
        let mut receipts: HashMap<OwnedRoomId, Vec<ReceiptRecord>> = HashMap::new();
        let mut found = Vec::new();
        if !fresh.is_empty() {
            found.extend(storage.room_receipts(fresh.clone(), 0, self.to_pos).await?);
        }
        if !known.is_empty() {
            found.extend(storage.room_receipts(known.clone(), since, self.to_pos).await?);
        }
        for r in found {
            receipts.entry(r.room_id.clone()).or_default().push(r);
        }
        if self.since.is_some() && plans.joined.iter().any(|p| p.newly_joined) {
            // A newly joined room's account data may predate the client's token.
            let (_, all) = self.account_data_since(0).await?;
            for p in plans.joined.iter().filter(|p| p.newly_joined) {
                if let Some(data) = all.get(&p.room_id) {
                    account_data
                        .insert(p.room_id.clone(), data.iter().map(|e| e.to_owned()).collect());
                }
            }
        }
        let latest = match known.is_empty() {
            true => Vec::new(),
            false => storage.latest_room_positions(known, self.to_pos).await?,
        };
        let with_events: HashSet<OwnedRoomId> =
            latest.into_iter().filter(|(_, pos)| *pos > since).map(|(room, _)| room).collect();
        let eph = self.since.map(|s| s.eph).unwrap_or(0);
        for plan in &mut plans.joined {
            plan.receipts = receipts.remove(&plan.room_id).unwrap_or_default();
            plan.account_data = account_data.remove(&plan.room_id).unwrap_or_default();
        }
        plans.joined.retain(|p| {
            p.fresh
                || with_events.contains(&p.room_id)
                || !p.receipts.is_empty()
                || !p.account_data.is_empty()
                || self.services.typing.room(&p.room_id).is_some_and(|t| t.changed_at > eph)
        });
        for plan in &mut plans.left {
            plan.account_data = account_data.remove(&plan.room_id).unwrap_or_default();
        }
        Ok(())
    }

    async fn build_rooms(
        &self,
        plans: Plans,
        rooms: &mut Rooms,
        members: &mut Members,
    ) -> Result<()> {
        let built: Vec<_> = stream::iter(plans.joined)
            .map(|plan| async move {
                let room_id = plan.room_id.clone();
                Ok::<_, hearth_core::Error>((room_id, self.joined_room(plan).await?))
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        for (room_id, room) in built {
            if let Some(room) = room {
                members.new.extend(room.new_members);
                members.changed |= room.members_changed;
                rooms.join.insert(room_id, room.room);
            }
        }
        let left: Vec<_> = stream::iter(plans.left)
            .map(|plan| async move {
                let room_id = plan.room_id.clone();
                Ok::<_, hearth_core::Error>((room_id, self.left_room(plan).await?))
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        rooms.leave.extend(left);
        for m in plans.invited {
            let invite_state = self.stripped_state(&m).await?.into();
            rooms.invite.insert(m.room_id, InvitedRoom { invite_state });
        }
        for m in plans.knocked {
            let knock_state = self.stripped_state(&m).await?.into();
            rooms.knock.insert(m.room_id, KnockedRoom { knock_state });
        }
        Ok(())
    }

    /// Global account data, and room account data by room, changed since the token.
    async fn account_data(
        &self,
    ) -> Result<(Vec<Box<RawValue>>, HashMap<OwnedRoomId, Vec<Box<RawValue>>>)> {
        self.account_data_since(self.since.map(|s| s.pos).unwrap_or(0)).await
    }

    async fn account_data_since(
        &self,
        since: i64,
    ) -> Result<(Vec<Box<RawValue>>, HashMap<OwnedRoomId, Vec<Box<RawValue>>>)> {
        let storage = &self.services.ctx.storage;
        let changes = storage.account_data_changes(self.user, since, self.to_pos).await?;
        let (global, rooms): (Vec<AccountDataChange>, Vec<AccountDataChange>) =
            changes.into_iter().partition(|c| c.room_id.is_none());
        let conditions = EventConditions::of_filter(&self.filter.account_data);
        let global = conditions.apply(global, |c| (c.data_type.clone(), None));
        let room_filter = &self.filter.room.account_data;
        let room_conditions = EventConditions::of_room_filter(room_filter);
        let mut by_room: BTreeMap<OwnedRoomId, Vec<AccountDataChange>> = BTreeMap::new();
        for change in rooms {
            let room = change.room_id.clone().expect("partitioned");
            if room_allowed(&room_filter.rooms, &room_filter.not_rooms, &room) {
                by_room.entry(room).or_default().push(change);
            }
        }
        let by_room = by_room
            .into_iter()
            .map(|(room, changes)| {
                let kept = room_conditions.apply(changes, |c| (c.data_type.clone(), None));
                (room, kept.into_iter().filter_map(account_data_event).collect())
            })
            .collect();
        Ok((global.into_iter().filter_map(account_data_event).collect(), by_room))
    }

    async fn presence(&self, new_members: &[OwnedUserId]) -> Result<Vec<Box<RawValue>>> {
        let since = self.since.map(|s| s.eph);
        let events = self.services.presence.sync_events(self.user, since, new_members).await?;
        let conditions = EventConditions::of_filter(&self.filter.presence);
        let events = conditions.apply(events, |e| {
            let sender = e.get_field::<OwnedUserId>("sender").ok().flatten();
            ("m.presence".to_owned(), sender)
        });
        Ok(events.into_iter().map(|e| e.into_json()).collect())
    }

    /// To-device messages, and where delivery resumes next time.
    async fn to_device(&self) -> Result<(Vec<Box<RawValue>>, i64)> {
        let after = self.since.map(|s| s.to_device).unwrap_or(0);
        let e2ee = &self.services.e2ee;
        let batch = e2ee
            .to_device_messages(self.user, self.device, after, self.to_pos, TO_DEVICE_LIMIT)
            .await?;
        let resume = match (batch.limited, batch.last_pos) {
            (true, Some(last)) => last,
            _ => self.to_pos,
        };
        Ok((batch.events.into_iter().map(|e| e.into_json()).collect(), resume))
    }
}

fn account_data_event(change: AccountDataChange) -> Option<Box<RawValue>> {
    let event = json!({ "type": change.data_type, "content": change.content });
    serde_json::value::to_raw_value(&event).ok()
}
