//! Evaluating push rules for every new event (spec: client-server-api "Push Notifications",
//! "Server behaviour"): for each local member of the room except the sender, the first rule
//! of their ruleset that applies gives the actions; `notify` makes a notification.
//!
//! One task follows the stream in order from the stored position, woken after each commit.
//! Per event it parses the JSON once, builds the room context once (member count, power
//! levels at the event) and changes only the user and display name per member. Notifications
//! are written in chunks so a huge room never holds the database writer for long.

use std::{
    collections::HashSet,
    sync::{Arc, Weak},
    time::Duration,
};

use hearth_core::{Result, utils::now_millis};
use hearth_storage::{EvaluatedBatch, EventRecord, NewNotification, ReadMark, ReceiptScope};
use ruma::{
    OwnedUserId, UInt, UserId,
    events::{TimelineEventType, room::member::MembershipState},
    push::{Action, FlattenedJson, PushConditionPowerLevelsCtx, PushConditionRoomCtx, Ruleset},
    serde::Raw,
};
use serde_json::{Value, json};
use tokio::sync::{Notify, watch};

use super::{
    context::{Member, RoomCache, RoomMembers},
    rules::UserRules,
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
        let server = &s.ctx.config.server_name;
        let room = self.rooms.members(&*s.ctx.storage, &pdu.room_id).await?;
        let invitee = apply_member_event(room, &pdu, &content, pos)
            .filter(|u| u.server_name() == server && *u != pdu.sender);
        if !room.rules_loaded {
            let missing = s.push.rules_missing(room.local_joined(server).map(|(u, _)| u));
            s.push.load_rules(missing).await?;
            room.rules_loaded = true;
        }
        let custom = s.push.custom_members(room, server);
        let power = power_levels(s, &pdu, group_before).await;
        let mut eval = EventEval::new(s, &pdu, content, room.joined_count(), power, custom)?;
        // Who to evaluate: every member when the default rules notify anyone; otherwise only
        // those the default rules may single out and those with their own rules.
        let is_recipient = |user: &UserId, m: &Member| {
            user != pdu.sender && m.pos <= pos && m.membership == MembershipState::Join
        };
        let mut recipients: Vec<(&OwnedUserId, &Member)> = if eval.anyone_notified().await {
            room.local_joined(server).filter(|(u, m)| is_recipient(u, m)).collect()
        } else {
            let mut seen = HashSet::new();
            eval.singled_out()
                .filter_map(|u| room.get_entry(u))
                .filter(|(u, m)| u.server_name() == server && is_recipient(u, m))
                .filter(|(u, _)| seen.insert(*u))
                .collect()
        };
        let invited = invitee.as_ref().and_then(|u| room.get_entry(u));
        recipients.extend(invited);
        if pdu.sender.server_name() == server {
            // Sending an event moves the sender's read marker to it (spec: "Marking
            // notifications as read"); a write only if there is something to mark.
            let scope = thread.clone().map(ReceiptScope::Thread).unwrap_or(ReceiptScope::Main);
            let (user_id, room_id) = (pdu.sender.clone(), pdu.room_id.clone());
            if s.ctx.storage.has_unread_notifications(&user_id, &room_id).await?
                || batch.notifications.iter().any(|n| n.user_id == user_id && n.room_id == room_id)
            {
                batch.reads.push(ReadMark { user_id, room_id, scope, up_to: pos });
            }
        }
        let ts = now_millis() as i64;
        for (user, member) in recipients {
            let display_name = member.display_name.as_deref();
            let Some(actions) = eval.actions_for(user, display_name).await? else { continue };
            if !actions.iter().any(Action::should_notify) {
                continue;
            }
            batch.notifications.push(NewNotification {
                user_id: user.clone(),
                room_id: pdu.room_id.clone(),
                event_id: pdu.event_id.clone(),
                stream_pos: pos,
                thread_id: thread.clone(),
                highlight: actions.iter().any(Action::is_highlight),
                actions: serde_json::to_string(&actions)?,
                ts,
                push: s.push.has_pushers(user),
            });
        }
        Ok(())
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

/// The user in whose place the server-default rules are evaluated once per event.
const ANYONE: &str = "@_hearth_push_anyone:invalid";

/// One event being evaluated: parsed once, its room context built once, and the
/// server-default rules evaluated once for every user they treat alike.
struct EventEval<'a> {
    s: &'a Services,
    event: FlattenedJson,
    ctx: PushConditionRoomCtx,
    /// User IDs the event names (mentions, state key, sender): the default rules may single
    /// them out, so they are evaluated one by one.
    named: HashSet<String>,
    /// Members with their own rules, evaluated one by one.
    custom: HashSet<OwnedUserId>,
    /// The default rules' actions for anyone not named; computed on first use.
    anyone: Option<Option<Vec<Action>>>,
}

impl<'a> EventEval<'a> {
    fn new(
        s: &'a Services,
        pdu: &PduRef,
        content: Value,
        member_count: u64,
        power: Option<PushConditionPowerLevelsCtx>,
        custom: HashSet<OwnedUserId>,
    ) -> Result<Self> {
        let anyone = OwnedUserId::try_from(ANYONE).expect("valid user ID");
        let mut ctx = PushConditionRoomCtx::new(
            pdu.room_id.clone(),
            UInt::new_saturating(member_count),
            anyone,
            String::new(),
        );
        if let Some(levels) = power {
            ctx = ctx.with_power_levels(levels);
        }
        let raw = push_event(pdu, content)?;
        let mut named = HashSet::new();
        collect_user_ids(&serde_json::from_str(raw.json().get())?, &mut named);
        named.insert(pdu.sender.to_string());
        let event = FlattenedJson::from_raw(&raw);
        Ok(EventEval { s, event, ctx, named, custom, anyone: None })
    }

    /// Whether the default rules notify a member the event does not name.
    async fn anyone_notified(&mut self) -> bool {
        if self.named.contains(ANYONE) {
            // Someone named the stand-in: evaluate everyone one by one.
            return true;
        }
        self.anyone().await.is_some_and(|a| a.iter().any(Action::should_notify))
    }

    async fn anyone(&mut self) -> Option<Vec<Action>> {
        if self.anyone.is_none() {
            let default = Ruleset::server_default(&self.ctx.user_id);
            let actions = first_match(&default, &self.event, &self.ctx).await;
            self.anyone = Some(actions.map(<[Action]>::to_vec));
        }
        self.anyone.clone().flatten()
    }

    /// The users who may be notified when the default rules notify no one else.
    fn singled_out(&self) -> impl Iterator<Item = &UserId> + '_ {
        let named = self.named.iter().filter_map(|u| <&UserId>::try_from(u.as_str()).ok());
        named.chain(self.custom.iter().map(|u| &**u))
    }

    /// The actions of the user's first matching rule, if any.
    async fn actions_for(
        &mut self,
        user: &UserId,
        display_name: Option<&str>,
    ) -> Result<Option<Vec<Action>>> {
        let alike = !self.named.contains(user.as_str()) && !self.named.contains(ANYONE);
        if alike && !self.custom.contains(user) {
            return Ok(self.anyone().await);
        }
        match self.s.push.user_rules(user).await? {
            UserRules::Default => {
                self.one(&Ruleset::server_default(user), user, display_name).await
            }
            UserRules::Custom(rules) => self.one(&rules, user, display_name).await,
        }
    }

    async fn one(
        &self,
        rules: &Ruleset,
        user: &UserId,
        display_name: Option<&str>,
    ) -> Result<Option<Vec<Action>>> {
        let mut ctx = self.ctx.clone();
        ctx.user_id = user.to_owned();
        ctx.user_display_name = display_name.map_or_else(|| user.to_string(), str::to_owned);
        Ok(first_match(rules, &self.event, &ctx).await.map(<[Action]>::to_vec))
    }
}

/// Every string of `value` that looks like a user ID.
fn collect_user_ids(value: &Value, out: &mut HashSet<String>) {
    match value {
        Value::String(s) if s.starts_with('@') && s.contains(':') => {
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|v| collect_user_ids(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_user_ids(v, out)),
        _ => {}
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
    room.apply(target.clone(), Member { membership, display_name, pos });
    invited.then_some(target)
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
