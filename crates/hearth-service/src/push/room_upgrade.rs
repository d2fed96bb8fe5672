//! A room upgrade carries the members' push rules about the old room over to the new one, as
//! Synapse does (the spec asks that room settings follow the room; a muted room stays muted).

use hearth_core::Result;
use ruma::{
    RoomId, UserId,
    push::{
        ConditionalPushRule, NewConditionalPushRule, NewPushRule, NewSimplePushRule, PushCondition,
        RuleKind, Ruleset,
    },
};

use super::{Service, rules::UserRules};

impl Service {
    /// Copy the user's rules about `old` for `new`: the room rule, and override and underride
    /// rules with a `room_id` condition on `old` (named after the new room, the condition
    /// moved to it). Rules already there are left alone; nothing is written without a change.
    pub(crate) async fn copy_room_rules(
        &self,
        user_id: &UserId,
        old: &RoomId,
        new: &RoomId,
    ) -> Result<()> {
        // Users with the server-default rules have no rule about any room.
        if let UserRules::Default = self.user_rules(user_id).await? {
            return Ok(());
        }
        let _guard = self.rules_write.lock().await;
        let mut rules = (*self.ruleset(user_id).await?).clone();
        if copy(&mut rules, old, new) {
            self.save(user_id, rules).await?;
        }
        Ok(())
    }
}

/// Whether anything was copied.
fn copy(rules: &mut Ruleset, old: &RoomId, new: &RoomId) -> bool {
    let mut copies: Vec<(NewPushRule, bool)> = Vec::new();
    let room_rule = rules.room.iter().find(|r| !r.default && r.rule_id.as_str() == old.as_str());
    if let Some(rule) = room_rule.filter(|_| rules.get(RuleKind::Room, new.as_str()).is_none()) {
        let copy = NewSimplePushRule::new(new.to_owned(), rule.actions.clone());
        copies.push((NewPushRule::Room(copy), rule.enabled));
    }
    for (kind, list) in
        [(RuleKind::Override, &rules.override_), (RuleKind::Underride, &rules.underride)]
    {
        if rules.get(kind.clone(), new.as_str()).is_some() {
            continue;
        }
        let Some(rule) = list.iter().find(|r| !r.default && names_room(r, old)) else { continue };
        let conditions = rule.conditions.iter().cloned().map(|c| moved(c, old, new)).collect();
        let copy = NewConditionalPushRule::new(new.to_string(), conditions, rule.actions.clone());
        let copy = match kind {
            RuleKind::Override => NewPushRule::Override(copy),
            _ => NewPushRule::Underride(copy),
        };
        copies.push((copy, rule.enabled));
    }
    let copied = !copies.is_empty();
    for (rule, enabled) in copies {
        let kind = rule.kind();
        if rules.insert(rule, None, None).is_ok() && !enabled {
            let _ = rules.set_enabled(kind, new.as_str(), false);
        }
    }
    copied
}

fn names_room(rule: &ConditionalPushRule, room: &RoomId) -> bool {
    rule.conditions.iter().any(|c| {
        matches!(c, PushCondition::EventMatch(m) if m.key == "room_id" && m.pattern == room.as_str())
    })
}

fn moved(condition: PushCondition, old: &RoomId, new: &RoomId) -> PushCondition {
    match condition {
        PushCondition::EventMatch(mut m) if m.key == "room_id" && m.pattern == old.as_str() => {
            m.pattern = new.to_string();
            PushCondition::EventMatch(m)
        }
        other => other,
    }
}
