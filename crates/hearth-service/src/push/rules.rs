//! Push rules (spec: client-server-api "Push Rules", "Push Rules: API"): each user's ruleset is
//! the `m.push_rules` account data event, `{"global": ruleset}`, server-default rules
//! included. Missing, it is the server default; stored, the server-default rules in it are
//! brought up to date on load (keeping the user's `enabled` and `actions`). Every change is an
//! account data write, so clients see it in `/sync`.

use std::{collections::HashSet, num::NonZeroUsize, sync::Arc};

use hearth_core::{Error, Result};
use http::StatusCode;
use lru::LruCache;
use ruma::{
    OwnedUserId, ServerName, UserId,
    api::client::push::PushRule,
    events::push_rules::PushRulesEventContent,
    push::{Action, InsertPushRuleError, NewPushRule, RemovePushRuleError, RuleKind, Ruleset},
};

use super::{Service, context::RoomMembers};
use crate::accounts::Session;

const PUSH_RULES: &str = "m.push_rules";

/// A user's rules as cached: the server default (most users: a few bytes in memory, and one
/// evaluation per event serves them all) or their own ruleset.
#[derive(Clone)]
pub(crate) enum UserRules {
    Default,
    Custom(Arc<Ruleset>),
}

impl UserRules {
    fn of(user_id: &UserId, ruleset: Ruleset) -> UserRules {
        let default = Ruleset::server_default(user_id);
        if serde_json::to_value(&ruleset).ok() == serde_json::to_value(&default).ok() {
            UserRules::Default
        } else {
            UserRules::Custom(Arc::new(ruleset))
        }
    }
}

/// Rule loads run at once when a big room's members are first evaluated.
const PARALLEL_LOADS: usize = 8;
/// Users known to have the default rules, kept in memory (a few bytes each).
const DEFAULT_USERS: usize = 200_000;
/// Users' own rulesets kept in memory (a few kilobytes each).
const CUSTOM_RULESETS: usize = 10_000;

/// The rules cache; a miss reads the user's account data.
pub(crate) struct RulesCache {
    defaults: LruCache<OwnedUserId, ()>,
    custom: LruCache<OwnedUserId, Arc<Ruleset>>,
    /// Every user found (since start) to have their own rules, evicted or not: the others,
    /// once loaded, have the defaults. Rules only change through this service, so it stays
    /// exact.
    custom_users: HashSet<OwnedUserId>,
}

impl RulesCache {
    pub fn new() -> Self {
        let size = |n| NonZeroUsize::new(n).expect("non-zero");
        RulesCache {
            defaults: LruCache::new(size(DEFAULT_USERS)),
            custom: LruCache::new(size(CUSTOM_RULESETS)),
            custom_users: HashSet::new(),
        }
    }

    fn get(&mut self, user_id: &UserId) -> Option<UserRules> {
        if let Some(rules) = self.custom.get(user_id) {
            return Some(UserRules::Custom(rules.clone()));
        }
        self.defaults.get(user_id).map(|()| UserRules::Default)
    }

    fn contains(&self, user_id: &UserId) -> bool {
        self.defaults.contains(user_id) || self.custom.contains(user_id)
    }

    fn put(&mut self, user_id: &UserId, rules: UserRules) {
        match rules {
            UserRules::Default => {
                self.custom.pop(user_id);
                self.custom_users.remove(user_id);
                self.defaults.put(user_id.to_owned(), ());
            }
            UserRules::Custom(rules) => {
                self.defaults.pop(user_id);
                self.custom_users.insert(user_id.to_owned());
                self.custom.put(user_id.to_owned(), rules);
            }
        }
    }
}

impl Service {
    /// The user's ruleset.
    pub(crate) async fn ruleset(&self, user_id: &UserId) -> Result<Arc<Ruleset>> {
        Ok(match self.user_rules(user_id).await? {
            UserRules::Default => Arc::new(Ruleset::server_default(user_id)),
            UserRules::Custom(rules) => rules,
        })
    }

    /// The user's rules, from the cache or their account data.
    pub(crate) async fn user_rules(&self, user_id: &UserId) -> Result<UserRules> {
        if let Some(rules) = self.rulesets.lock().get(user_id) {
            return Ok(rules.clone());
        }
        let stored = self.ctx.storage.get_account_data(user_id, None, PUSH_RULES).await?;
        let mut ruleset = match stored {
            Some(raw) => match serde_json::from_str::<PushRulesEventContent>(raw.get()) {
                Ok(content) => content.global,
                Err(e) => {
                    tracing::warn!(%user_id, "push: stored push rules unreadable ({e}); using defaults");
                    Ruleset::server_default(user_id)
                }
            },
            None => Ruleset::server_default(user_id),
        };
        ruleset.update_with_server_default(Ruleset::server_default(user_id));
        let rules = UserRules::of(user_id, ruleset);
        self.rulesets.lock().put(user_id, rules.clone());
        Ok(rules)
    }

    /// Those of `users` whose rules are not in memory.
    pub(crate) fn rules_missing<'a>(
        &self,
        users: impl Iterator<Item = &'a OwnedUserId>,
    ) -> Vec<OwnedUserId> {
        let cache = self.rulesets.lock();
        users.filter(|u| !cache.contains(u)).cloned().collect()
    }

    /// The joined local members of `room` with their own rules (all must have been loaded
    /// once).
    pub(super) fn custom_members(
        &self,
        room: &RoomMembers,
        server: &ServerName,
    ) -> HashSet<OwnedUserId> {
        room.joined_local_among(&self.rulesets.lock().custom_users, server)
    }

    /// Load these users' rules into memory, several at a time.
    pub(crate) async fn load_rules(&self, users: Vec<OwnedUserId>) -> Result<()> {
        for chunk in users.chunks(PARALLEL_LOADS) {
            let loads = chunk.iter().map(|user| self.user_rules(user));
            for loaded in futures_util::future::join_all(loads).await {
                loaded?;
            }
        }
        Ok(())
    }

    /// A new account starts with the server-default rules in its account data, so its first
    /// `/sync` carries `m.push_rules`.
    pub(crate) async fn on_user_registered(&self, user_id: &UserId) -> Result<()> {
        self.save(user_id, Ruleset::server_default(user_id)).await
    }

    /// `GET /pushrules/` and `GET /pushrules/global/`.
    pub async fn rules(&self, session: &Session) -> Result<Ruleset> {
        session.forbid_guest()?;
        Ok((*self.ruleset(&session.user_id).await?).clone())
    }

    /// `GET /pushrules/global/{kind}/`: the rules of one kind, in priority order (Synapse; the
    /// spec has no such endpoint).
    pub async fn rules_of_kind(&self, session: &Session, kind: &RuleKind) -> Result<Vec<PushRule>> {
        session.forbid_guest()?;
        known_kind(kind)?;
        let rules = self.ruleset(&session.user_id).await?;
        let rules = rules.as_ref().clone();
        Ok(match kind {
            RuleKind::Override => rules.override_.into_iter().map(Into::into).collect(),
            RuleKind::Underride => rules.underride.into_iter().map(Into::into).collect(),
            RuleKind::Sender => rules.sender.into_iter().map(Into::into).collect(),
            RuleKind::Room => rules.room.into_iter().map(Into::into).collect(),
            _ => rules.content.into_iter().map(Into::into).collect(),
        })
    }

    /// `GET /pushrules/global/{kind}/{ruleId}`.
    pub async fn rule(
        &self,
        session: &Session,
        kind: &RuleKind,
        rule_id: &str,
    ) -> Result<PushRule> {
        session.forbid_guest()?;
        known_kind(kind)?;
        let rules = self.ruleset(&session.user_id).await?;
        let rule = rules.get(kind.clone(), rule_id).ok_or_else(rule_not_found)?;
        Ok(rule.into())
    }

    /// `PUT /pushrules/global/{kind}/{ruleId}`: create or replace a user rule, placed per
    /// `before`/`after` (spec: a bad `before`/`after` is `M_UNKNOWN`).
    pub async fn set_rule(
        &self,
        session: &Session,
        rule: NewPushRule,
        before: Option<&str>,
        after: Option<&str>,
    ) -> Result<()> {
        session.forbid_guest()?;
        check_actions(new_rule_actions(&rule))?;
        self.modify(&session.user_id, |rules| {
            rules.insert(rule, after, before).map_err(insert_error)
        })
        .await
    }

    /// `DELETE /pushrules/global/{kind}/{ruleId}`: user rules only.
    pub async fn delete_rule(
        &self,
        session: &Session,
        kind: &RuleKind,
        rule_id: &str,
    ) -> Result<()> {
        session.forbid_guest()?;
        known_kind(kind)?;
        self.modify(&session.user_id, |rules| {
            rules.remove(kind.clone(), rule_id).map_err(|e| match e {
                RemovePushRuleError::ServerDefault => {
                    Error::invalid_param("Server-default push rules cannot be deleted")
                }
                _ => rule_not_found(),
            })
        })
        .await
    }

    /// `PUT /pushrules/global/{kind}/{ruleId}/enabled`.
    pub async fn set_rule_enabled(
        &self,
        session: &Session,
        kind: &RuleKind,
        rule_id: &str,
        enabled: bool,
    ) -> Result<()> {
        session.forbid_guest()?;
        known_kind(kind)?;
        self.modify(&session.user_id, |rules| {
            rules.set_enabled(kind.clone(), rule_id, enabled).map_err(|_| rule_not_found())
        })
        .await
    }

    /// `PUT /pushrules/global/{kind}/{ruleId}/actions`.
    pub async fn set_rule_actions(
        &self,
        session: &Session,
        kind: &RuleKind,
        rule_id: &str,
        actions: Vec<Action>,
    ) -> Result<()> {
        session.forbid_guest()?;
        known_kind(kind)?;
        check_actions(&actions)?;
        self.modify(&session.user_id, |rules| {
            rules.set_actions(kind.clone(), rule_id, actions).map_err(|_| rule_not_found())
        })
        .await
    }

    /// Change the user's ruleset and store it; nothing is stored if `change` fails.
    async fn modify(
        &self,
        user_id: &UserId,
        change: impl FnOnce(&mut Ruleset) -> Result<()>,
    ) -> Result<()> {
        let _guard = self.rules_write.lock().await;
        let mut rules = (*self.ruleset(user_id).await?).clone();
        change(&mut rules)?;
        self.save(user_id, rules).await
    }

    pub(super) async fn save(&self, user_id: &UserId, rules: Ruleset) -> Result<()> {
        let content = serde_json::value::to_raw_value(&PushRulesEventContent::new(rules.clone()))?;
        let services = self.services.upgrade().ok_or_else(|| Error::internal("shutting down"))?;
        services.account_data.set(user_id, None, PUSH_RULES, content).await?;
        self.rulesets.lock().put(user_id, UserRules::of(user_id, rules));
        Ok(())
    }
}

fn rule_not_found() -> Error {
    Error::not_found("The push rule was not found")
}

/// Kinds outside the spec's five are a malformed path (Synapse answers 400).
fn known_kind(kind: &RuleKind) -> Result<()> {
    match kind {
        RuleKind::Override
        | RuleKind::Underride
        | RuleKind::Sender
        | RuleKind::Room
        | RuleKind::Content => Ok(()),
        _ => Err(Error::unrecognized(StatusCode::BAD_REQUEST, format!("Unknown rule kind {kind}"))),
    }
}

fn new_rule_actions(rule: &NewPushRule) -> &[Action] {
    match rule {
        NewPushRule::Override(r) | NewPushRule::Underride(r) => &r.actions,
        NewPushRule::Content(r) => &r.actions,
        NewPushRule::Room(r) => &r.actions,
        NewPushRule::Sender(r) => &r.actions,
        _ => &[],
    }
}

/// The spec's actions: `notify`, `set_tweak`, and the historical `dont_notify` and `coalesce`
/// (kept as given, ignored when evaluating). Anything else is refused, as Synapse does.
fn check_actions(actions: &[Action]) -> Result<()> {
    for action in actions {
        let ok = match action {
            Action::Notify | Action::SetTweak(_) => true,
            other => matches!(
                serde_json::to_value(other),
                Ok(serde_json::Value::String(s)) if s == "dont_notify" || s == "coalesce"
            ),
        };
        if !ok {
            let shown = serde_json::to_string(action).unwrap_or_default();
            return Err(Error::invalid_param(format!("Unrecognised action {shown}")));
        }
    }
    Ok(())
}

fn insert_error(e: InsertPushRuleError) -> Error {
    match e {
        InsertPushRuleError::ServerDefaultRuleId => {
            Error::invalid_param("Rule IDs starting with '.' are reserved for server-default rules")
        }
        InsertPushRuleError::InvalidRuleId => {
            Error::invalid_param("Rule IDs may not contain slashes or backslashes")
        }
        InsertPushRuleError::RelativeToServerDefaultRule => Error::unknown(
            StatusCode::BAD_REQUEST,
            "A rule cannot be placed relative to a server-default rule",
        ),
        InsertPushRuleError::UnknownRuleId => {
            Error::unknown(StatusCode::BAD_REQUEST, "before/after rule not found")
        }
        InsertPushRuleError::BeforeHigherThanAfter => Error::unknown(
            StatusCode::BAD_REQUEST,
            "The `before` rule has a higher priority than the `after` rule",
        ),
        _ => Error::unknown(StatusCode::BAD_REQUEST, format!("Cannot add the rule: {e}")),
    }
}
