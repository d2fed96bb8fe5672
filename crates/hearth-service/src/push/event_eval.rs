//! One event being evaluated: parsed and flattened once, its room context (member count, power
//! levels) built once, and the server-default rules evaluated once for every member they treat
//! alike; only members the event names (the default rules can single them out) and members
//! with their own rules are evaluated one by one.

use std::collections::HashSet;

use hearth_core::Result;
use ruma::{
    OwnedUserId, UInt, UserId,
    push::{Action, FlattenedJson, PushConditionPowerLevelsCtx, PushConditionRoomCtx, Ruleset},
    serde::Raw,
};
use serde_json::{Value, json};

use super::rules::UserRules;
use crate::{Services, rooms::PduRef};

/// The user in whose place the server-default rules are evaluated once per event.
const ANYONE: &str = "@_hearth_push_anyone:invalid";

pub(super) struct EventEval<'a> {
    s: &'a Services,
    event: FlattenedJson,
    ctx: PushConditionRoomCtx,
    /// User IDs the event names (mentions, state key, sender).
    named: HashSet<String>,
    /// Members with their own rules.
    custom: HashSet<OwnedUserId>,
}

impl<'a> EventEval<'a> {
    pub fn new(
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
        Ok(EventEval { s, event, ctx, named, custom })
    }

    /// Whether every member must be evaluated apart (someone named the stand-in user).
    pub fn everyone_apart(&self) -> bool {
        self.named.contains(ANYONE)
    }

    /// The actions the server-default rules give every member the event does not name, when
    /// they notify.
    pub async fn shared(&self) -> Option<Vec<Action>> {
        if self.everyone_apart() {
            return None;
        }
        let default = Ruleset::server_default(&self.ctx.user_id);
        let actions = first_match(&default, &self.event, &self.ctx).await?;
        actions.iter().any(Action::should_notify).then(|| actions.to_vec())
    }

    /// The members to evaluate apart: those the event names and those with their own rules.
    pub fn apart(&self) -> impl Iterator<Item = &UserId> + '_ {
        let named = self.named.iter().filter_map(|u| <&UserId>::try_from(u.as_str()).ok());
        named.chain(self.custom.iter().map(|u| &**u))
    }

    /// The actions of the user's first matching rule, if any.
    pub async fn individual(
        &self,
        user: &UserId,
        display_name: Option<&str>,
    ) -> Result<Option<Vec<Action>>> {
        let rules = match self.s.push.user_rules(user).await? {
            UserRules::Default => std::sync::Arc::new(Ruleset::server_default(user)),
            UserRules::Custom(rules) => rules,
        };
        let mut ctx = self.ctx.clone();
        ctx.user_id = user.to_owned();
        ctx.user_display_name = display_name.map_or_else(|| user.to_string(), str::to_owned);
        Ok(first_match(&rules, &self.event, &ctx).await.map(<[Action]>::to_vec))
    }
}

/// The actions of the first rule of `rules` that applies (ruma's `Ruleset::get_actions`, with
/// the event flattened once for all members).
async fn first_match<'a>(
    rules: &'a Ruleset,
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
