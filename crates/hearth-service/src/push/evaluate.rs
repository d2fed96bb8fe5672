//! Evaluating push rules for every new event (spec: client-server-api "Push Notifications",
//! "Server behaviour"): for each local member of the room except the sender, the first rule
//! of their ruleset that applies gives the actions; `notify` makes a notification.
//!
//! One task follows the stream in order from the stored position, woken after each commit.
//! The server-default rules are evaluated once per event for every member they treat alike;
//! when they notify, that is one room notification. Members the event names and members with
//! their own rules are evaluated apart: a notification of their own, and an exclusion from the
//! room notification when their result differs. A message in a 10,000-member room is a few
//! rows, and an event the defaults are silent about (a join) costs no per-member work.

use std::{collections::HashSet, future::Future};

use hearth_core::{Result, utils::now_millis};
use hearth_storage::{
    EvaluatedBatch, EventRecord, NewDelivery, NewNotification, ReadMark, ReceiptScope,
};
use ruma::{
    OwnedEventId, OwnedUserId, UserId,
    events::{TimelineEventType, room::member::MembershipState},
    push::{Action, PushConditionPowerLevelsCtx},
};
use serde_json::Value;

use super::{
    context::{Member, RoomCache, RoomMembers},
    event_eval::EventEval,
    thread,
};
use crate::{
    Services,
    rooms::PduRef,
    stream_follower::{Batch, Follow},
};

/// Notifications written per database job.
const WRITE_CHUNK: usize = 1000;
/// Evaluated positions not yet stored are stored once this far behind (re-evaluating is
/// harmless: notifications are keyed by user and position).
const MAX_UNSTORED: i64 = 1000;

pub(super) struct Evaluator {
    rooms: RoomCache,
    /// The evaluated position last stored.
    stored: Option<i64>,
}

impl Follow for Evaluator {
    fn catch_up<'a>(&'a mut self, s: &'a Services) -> impl Future<Output = Result<()>> + Send + 'a {
        self.evaluate_new(s)
    }
}

impl Evaluator {
    pub fn new() -> Self {
        Evaluator { rooms: RoomCache::new(), stored: None }
    }

    /// Evaluate every committed event not evaluated yet.
    async fn evaluate_new(&mut self, s: &Services) -> Result<()> {
        while let Some(Batch { from, events, up_to }) = s.push.evaluation.next_batch(s).await? {
            let mut batch = EvaluatedBatch {
                evaluated_up_to: up_to,
                now_ms: now_millis() as i64,
                ..Default::default()
            };
            for record in events {
                let event_id = record.event_id.clone();
                if let Err(e) = self.evaluate(s, record, &mut batch).await {
                    tracing::error!(%event_id, "push: cannot evaluate event: {e}");
                }
            }
            self.store(s, batch, from).await?;
        }
        Ok(())
    }

    async fn evaluate(
        &mut self,
        s: &Services,
        record: EventRecord,
        batch: &mut EvaluatedBatch,
    ) -> Result<()> {
        let Some(pos) = record.stream_pos else { return Ok(()) };
        if record.rejected || record.outlier {
            return Ok(());
        }
        let group_before = record.state_group_before;
        let (_, pdu) = s.rooms.loaded(record).await?;
        let content = pdu.content_value();
        let server = &s.ctx.config.server_name;
        let room = self.rooms.members(&*s.ctx.storage, &pdu.room_id).await?;
        let invitee = apply_member_event(room, &pdu, &content, pos)
            .filter(|u| u.server_name() == server && *u != pdu.sender);
        if !room.rules_loaded {
            let missing = s.push.rules_missing(room.local_joined(server).map(|(u, _)| u));
            s.push.load_rules(missing).await?;
            room.rules_loaded = true;
        }
        let target = Target {
            thread: thread::thread_of(&s.rooms, &content).await?,
            pdu: pdu.clone(),
            pos,
            ts: now_millis() as i64,
        };
        if pdu.sender.server_name() == server && !pdu.is_state() {
            // Sending an event moves the sender's read marker to it (spec: "Marking
            // notifications as read").
            batch.reads.push(target.read_mark(&pdu.sender));
        }
        let custom = s.push.custom_members(room, server);
        let power = power_levels(s, &pdu, group_before).await;
        let eval = EventEval::new(s, &pdu, content, room.joined_count(), power, custom)?;
        // Members ignoring the sender are told of none of its messages.
        let ignoring =
            if pdu.is_state() { HashSet::new() } else { s.push.ignorers_of(&pdu.sender) };
        let is_recipient = |user: &UserId, m: &Member| {
            user != pdu.sender && m.joined_at(pos) && !ignoring.contains(user)
        };
        let mut apart: Vec<(&OwnedUserId, &Member)> = if eval.everyone_apart() {
            room.local_joined(server).filter(|(u, m)| is_recipient(u, m)).collect()
        } else {
            let mut seen = HashSet::new();
            eval.apart()
                .filter_map(|u| room.get_entry(u))
                .filter(|(u, m)| u.server_name() == server && is_recipient(u, m))
                .filter(|(u, _)| seen.insert(*u))
                .collect()
        };
        apart.extend(invitee.as_ref().and_then(|u| room.get_entry(u)));
        // What the default rules give everyone else, stored once for the room.
        let shared = eval.shared().await;
        let shared_json = shared.as_ref().map(serde_json::to_string).transpose()?;
        let mut excluded = HashSet::new();
        if shared_json.is_some() {
            for user in &ignoring {
                if room.get_entry(user).is_some_and(|(_, m)| m.joined_at(pos)) {
                    excluded.insert(user.clone());
                    batch.exclusions.push((user.clone(), pos));
                }
            }
        }
        for (user, member) in apart {
            let actions = eval.individual(user, member.display_name.as_deref()).await?;
            let json = actions.as_ref().map(serde_json::to_string).transpose()?;
            if shared_json.is_some() {
                if json == shared_json {
                    continue;
                }
                excluded.insert(user.clone());
                batch.exclusions.push((user.clone(), pos));
            }
            if let (Some(actions), Some(json)) = (actions, json)
                && actions.iter().any(Action::should_notify)
            {
                batch.notifications.push(target.notification(Some(user), &actions, &json));
                if s.push.has_pushers(user) {
                    batch.deliveries.push(target.delivery(user, &json));
                }
            }
        }
        if let (Some(actions), Some(json)) = (shared, shared_json) {
            batch.notifications.push(target.notification(None, &actions, &json));
            for user in s.push.members_with_pushers(room, server) {
                let member = room.get_entry(&user).map(|(_, m)| m);
                if member.is_some_and(|m| is_recipient(&user, m)) && !excluded.contains(&user) {
                    batch.deliveries.push(target.delivery(&user, &json));
                }
            }
        }
        Ok(())
    }

    /// Store a batch in chunks; only the last one moves the evaluated position. A batch with
    /// nothing in it is published at once and stored only now and then.
    async fn store(&mut self, s: &Services, mut batch: EvaluatedBatch, from: i64) -> Result<()> {
        let up_to = batch.evaluated_up_to;
        let stored = *self.stored.get_or_insert(from);
        if batch.notifications.is_empty() && batch.reads.is_empty() && batch.exclusions.is_empty() {
            s.push.evaluation.set_reached(up_to);
            if up_to - stored < MAX_UNSTORED {
                return Ok(());
            }
        }
        let mut queued = 0;
        while batch.notifications.len() > WRITE_CHUNK {
            let rest = batch.notifications.split_off(WRITE_CHUNK);
            let chunk = EvaluatedBatch {
                notifications: std::mem::replace(&mut batch.notifications, rest),
                evaluated_up_to: from,
                now_ms: batch.now_ms,
                ..Default::default()
            };
            queued += s.ctx.storage.store_evaluation(chunk).await?;
        }
        queued += s.ctx.storage.store_evaluation(batch).await?;
        self.stored = Some(up_to);
        s.push.evaluation.set_reached(up_to);
        if queued > 0 {
            s.push.delivery_wake.notify_one();
        }
        Ok(())
    }
}

/// The event a notification is about.
struct Target {
    pdu: PduRef,
    pos: i64,
    thread: Option<OwnedEventId>,
    ts: i64,
}

impl Target {
    /// For one user, or (`None`) for the room's members.
    fn notification(
        &self,
        user: Option<&OwnedUserId>,
        actions: &[Action],
        json: &str,
    ) -> NewNotification {
        NewNotification {
            user_id: user.cloned(),
            room_id: self.pdu.room_id.clone(),
            event_id: self.pdu.event_id.clone(),
            sender: self.pdu.sender.clone(),
            stream_pos: self.pos,
            thread_id: self.thread.clone(),
            highlight: actions.iter().any(Action::is_highlight),
            actions: json.to_owned(),
            ts: self.ts,
        }
    }

    fn delivery(&self, user: &OwnedUserId, json: &str) -> NewDelivery {
        NewDelivery {
            user_id: user.clone(),
            room_id: self.pdu.room_id.clone(),
            event_id: self.pdu.event_id.clone(),
            actions: json.to_owned(),
        }
    }

    /// `user` has read up to this event, in its thread.
    fn read_mark(&self, user: &OwnedUserId) -> ReadMark {
        let scope = self.thread.clone().map(ReceiptScope::Thread).unwrap_or(ReceiptScope::Main);
        ReadMark {
            user_id: user.clone(),
            room_id: self.pdu.room_id.clone(),
            scope,
            up_to: self.pos,
        }
    }
}

/// Keep the room's memberships up to date with a member event; returns the user it invites,
/// if it is an invite.
fn apply_member_event(
    room: &mut RoomMembers,
    pdu: &PduRef,
    content: &Value,
    pos: i64,
) -> Option<OwnedUserId> {
    let target = member_target(pdu)?;
    let membership = MembershipState::from(content["membership"].as_str()?);
    let display_name = content["displayname"].as_str().map(str::to_owned);
    let invited = membership == MembershipState::Invite;
    room.apply(target.clone(), Member::new(membership, display_name, pos));
    invited.then_some(target)
}

/// The user a member event is about.
fn member_target(pdu: &PduRef) -> Option<OwnedUserId> {
    if pdu.kind != TimelineEventType::RoomMember {
        return None;
    }
    pdu.state_key.as_deref().and_then(|k| UserId::parse(k).ok())
}

/// The room's power levels before the event, for `sender_notification_permission`.
async fn power_levels(
    s: &Services,
    pdu: &PduRef,
    group_before: Option<i64>,
) -> Option<PushConditionPowerLevelsCtx> {
    let state = s.rooms.state_group(group_before?).await.ok()?.map;
    match s.rooms.power_levels_in(&pdu.room_id, &state).await {
        Ok(levels) => Some(levels.into()),
        Err(e) => {
            tracing::warn!(event_id = %pdu.event_id, "push: no power levels: {e}");
            None
        }
    }
}
