//! Evaluating push rules for every new event (spec: client-server-api "Push Notifications",
//! "Server behaviour"): for each local member of the room except the sender, the first rule
//! of their ruleset that applies gives the actions; `notify` makes a notification.
//!
//! One task follows the stream in order from the stored position, woken after each commit.
//! Per event it parses the JSON once, builds the room context once (member count, power
//! levels at the event) and changes only the user and display name per member. Notifications
//! are written in chunks so a huge room never holds the database writer for long.

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use hearth_core::{Result, utils::now_millis};
use hearth_storage::{EvaluatedBatch, EventRecord, NewNotification, ReadMark, ReceiptScope};
use ruma::{
    OwnedUserId, UInt, UserId,
    events::{TimelineEventType, room::member::MembershipState},
    push::{Action, FlattenedJson, PushConditionPowerLevelsCtx, PushConditionRoomCtx},
    serde::Raw,
};
use serde_json::{Value, json};
use tokio::sync::{Notify, watch};

use super::{
    context::{Member, RoomCache},
    thread,
};
use crate::{Services, rooms::PduRef};

/// Events read from the stream at once.
const BATCH: usize = 256;
/// Notifications written per database job.
const WRITE_CHUNK: usize = 1000;
/// Evaluated positions not yet stored are stored once this far behind (re-evaluating is
/// harmless: notifications are keyed by user and position).
const MAX_UNSTORED: i64 = 1000;

pub(super) async fn run(
    services: Weak<Services>,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut evaluator = Evaluator { rooms: RoomCache::new(), stored: None };
    loop {
        let Some(s) = services.upgrade() else { return };
        let failed = match evaluator.catch_up(&s).await {
            Ok(()) => false,
            Err(e) => {
                tracing::error!("push: evaluation failed, retrying: {e}");
                true
            }
        };
        drop(s);
        tokio::select! {
            _ = wake.notified() => {}
            _ = stop.wait_for(|stop| *stop) => return,
            _ = tokio::time::sleep(Duration::from_secs(1)), if failed => {}
        }
    }
}

struct Evaluator {
    rooms: RoomCache,
    /// The evaluated position last stored.
    stored: Option<i64>,
}

impl Evaluator {
    /// Evaluate every committed event not evaluated yet.
    async fn catch_up(&mut self, s: &Services) -> Result<()> {
        loop {
            let from = *s.push.evaluated.borrow();
            let target = s.ctx.storage.current_stream_pos();
            if from >= target {
                return Ok(());
            }
            let events = s.ctx.storage.events_after(from, target, BATCH).await?;
            let up_to = match events.last() {
                Some(last) if events.len() == BATCH => last.stream_pos.unwrap_or(target),
                _ => target,
            };
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
        let thread = thread::thread_of(&s.rooms, &content).await?;
        if pdu.sender.server_name() == s.ctx.config.server_name {
            // Sending an event moves the sender's read marker to it (spec: "Marking
            // notifications as read").
            let scope = thread.clone().map(ReceiptScope::Thread).unwrap_or(ReceiptScope::Main);
            let room_id = pdu.room_id.clone();
            batch.reads.push(ReadMark { user_id: pdu.sender.clone(), room_id, scope, up_to: pos });
        }
        let (member_count, recipients) = self.recipients(s, &pdu, &content, pos).await?;
        if recipients.is_empty() {
            return Ok(());
        }
        let mut ctx = PushConditionRoomCtx::new(
            pdu.room_id.clone(),
            UInt::new_saturating(member_count),
            pdu.sender.clone(),
            String::new(),
        );
        if let Some(levels) = power_levels(s, &pdu, group_before).await {
            ctx = ctx.with_power_levels(levels);
        }
        let event = FlattenedJson::from_raw(&push_event(&pdu, content)?);
        let ts = now_millis() as i64;
        for (user, display_name) in recipients {
            let rules = s.push.ruleset(&user).await?;
            ctx.user_display_name = display_name.unwrap_or_else(|| user.to_string());
            ctx.user_id = user;
            let Some(actions) = first_match(&rules, &event, &ctx).await else { continue };
            if !actions.iter().any(Action::should_notify) {
                continue;
            }
            batch.notifications.push(NewNotification {
                user_id: ctx.user_id.clone(),
                room_id: pdu.room_id.clone(),
                event_id: pdu.event_id.clone(),
                stream_pos: pos,
                thread_id: thread.clone(),
                highlight: actions.iter().any(Action::is_highlight),
                actions: serde_json::to_string(actions)?,
                ts,
            });
        }
        Ok(())
    }

    /// The room's joined member count and the local members to evaluate for: joined (before
    /// this event) and not the sender, plus the local target of an invite.
    async fn recipients(
        &mut self,
        s: &Services,
        pdu: &PduRef,
        content: &Value,
        pos: i64,
    ) -> Result<(u64, Vec<(OwnedUserId, Option<String>)>)> {
        let room = self.rooms.members(&*s.ctx.storage, &pdu.room_id).await?;
        let target = member_target(pdu);
        let membership = content["membership"].as_str().map(MembershipState::from);
        if let (Some(user), Some(membership)) = (&target, &membership) {
            let display_name = content["displayname"].as_str().map(str::to_owned);
            let member = Member { membership: membership.clone(), display_name, pos };
            room.apply(user.clone(), member);
        }
        let server = &s.ctx.config.server_name;
        let mut recipients: Vec<_> = room
            .local_joined(server)
            .filter(|(user, m)| **user != pdu.sender && m.pos <= pos)
            .map(|(user, m)| (user.clone(), m.display_name.clone()))
            .collect();
        if let (Some(user), Some(MembershipState::Invite)) = (target, membership)
            && user.server_name() == server
            && user != pdu.sender
        {
            let display_name = room.get(&user).and_then(|m| m.display_name.clone());
            recipients.push((user, display_name));
        }
        Ok((room.joined_count(), recipients))
    }

    /// Store a batch in chunks; only the last one moves the evaluated position. A batch with
    /// nothing in it is published at once and stored only now and then.
    async fn store(&mut self, s: &Services, mut batch: EvaluatedBatch, from: i64) -> Result<()> {
        let up_to = batch.evaluated_up_to;
        let stored = *self.stored.get_or_insert(from);
        if batch.notifications.is_empty() && batch.reads.is_empty() {
            s.push.evaluated.send_replace(up_to);
            if up_to - stored < MAX_UNSTORED {
                return Ok(());
            }
        }
        let mut queued = 0;
        while batch.notifications.len() > WRITE_CHUNK {
            let rest = batch.notifications.split_off(WRITE_CHUNK);
            let chunk = EvaluatedBatch {
                notifications: std::mem::replace(&mut batch.notifications, rest),
                reads: Vec::new(),
                evaluated_up_to: from,
                now_ms: batch.now_ms,
            };
            queued += s.ctx.storage.store_evaluation(chunk).await?;
        }
        queued += s.ctx.storage.store_evaluation(batch).await?;
        self.stored = Some(up_to);
        s.push.evaluated.send_replace(up_to);
        if queued > 0 {
            s.push.delivery_wake.notify_one();
        }
        Ok(())
    }
}

/// The actions of the first rule of `rules` that applies (ruma's `Ruleset::get_actions`,
/// with the event flattened once for all members).
async fn first_match<'a>(
    rules: &'a ruma::push::Ruleset,
    event: &FlattenedJson,
    ctx: &PushConditionRoomCtx,
) -> Option<&'a [Action]> {
    for rule in rules.iter() {
        if rule.applies(event, ctx).await {
            return Some(rule.actions());
        }
    }
    None
}

/// The user a member event is about.
fn member_target(pdu: &PduRef) -> Option<OwnedUserId> {
    if pdu.kind != TimelineEventType::RoomMember {
        return None;
    }
    pdu.state_key.as_deref().and_then(|k| UserId::parse(k).ok())
}

/// The event as push rules see it: its client-visible fields.
fn push_event(pdu: &PduRef, content: Value) -> Result<Raw<Value>> {
    let mut event = json!({
        "event_id": pdu.event_id,
        "room_id": pdu.room_id,
        "sender": pdu.sender,
        "type": pdu.kind,
        "origin_server_ts": pdu.origin_server_ts,
        "content": content,
    });
    if let Some(key) = &pdu.state_key {
        event["state_key"] = json!(key);
    }
    if let Some(redacts) = &pdu.redacts {
        event["redacts"] = json!(redacts);
    }
    Ok(Raw::from_json(serde_json::value::to_raw_value(&event)?))
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
