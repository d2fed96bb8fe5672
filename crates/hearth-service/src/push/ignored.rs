//! Ignored users (spec: "Ignoring Users"): their events never reach the user who ignores
//! them, so they notify them of nothing (Synapse); state events still do. Every local user's
//! `m.ignored_user_list` is kept in memory as an index from the ignored to those ignoring
//! them, read at startup and updated by account data writes.

use std::collections::{HashMap, HashSet};

use hearth_core::Result;
use ruma::{OwnedUserId, UserId};
use serde_json::{Value, value::RawValue};

use super::Service;

pub const IGNORED_USER_LIST: &str = "m.ignored_user_list";

#[derive(Default)]
pub(super) struct IgnoreIndex {
    /// Who each user ignores.
    lists: HashMap<OwnedUserId, HashSet<OwnedUserId>>,
    /// Who ignores each user.
    ignorers: HashMap<OwnedUserId, HashSet<OwnedUserId>>,
}

impl IgnoreIndex {
    fn set(&mut self, user: &UserId, ignored: HashSet<OwnedUserId>) {
        for old in self.lists.remove(user).unwrap_or_default() {
            if let Some(set) = self.ignorers.get_mut(&old) {
                set.remove(user);
                if set.is_empty() {
                    self.ignorers.remove(&old);
                }
            }
        }
        for target in &ignored {
            self.ignorers.entry(target.clone()).or_default().insert(user.to_owned());
        }
        if !ignored.is_empty() {
            self.lists.insert(user.to_owned(), ignored);
        }
    }
}

/// The users an `m.ignored_user_list` content names (entries that are not user IDs are
/// skipped).
pub fn ignored_users(content: &RawValue) -> HashSet<OwnedUserId> {
    let value: Value = serde_json::from_str(content.get()).unwrap_or_default();
    let Some(map) = value.get("ignored_users").and_then(Value::as_object) else {
        return HashSet::new();
    };
    map.keys().filter_map(|k| OwnedUserId::try_from(k.as_str()).ok()).collect()
}

impl Service {
    /// Read every user's ignore list (at startup).
    pub(super) async fn load_ignore_lists(&self) -> Result<()> {
        let lists = self.ctx.storage.global_account_data_of_type(IGNORED_USER_LIST).await?;
        let mut index = self.ignores.lock();
        for (user, content) in lists {
            index.set(&user, ignored_users(&content));
        }
        Ok(())
    }

    /// `user`'s ignore list is now `ignored`.
    pub(crate) fn set_ignored(&self, user: &UserId, ignored: HashSet<OwnedUserId>) {
        self.ignores.lock().set(user, ignored);
    }

    /// The local users who ignore `sender`.
    pub(super) fn ignorers_of(&self, sender: &UserId) -> HashSet<OwnedUserId> {
        self.ignores.lock().ignorers.get(sender).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use ruma::owned_user_id;

    use super::*;

    #[test]
    fn lists_replace_each_other() {
        let mut index = IgnoreIndex::default();
        let (alice, bob, carol) =
            (owned_user_id!("@alice:a"), owned_user_id!("@bob:a"), owned_user_id!("@carol:b"));
        index.set(&alice, [bob.clone(), carol.clone()].into());
        index.set(&bob, [carol.clone()].into());
        assert_eq!(index.ignorers[&carol], [alice.clone(), bob.clone()].into());
        index.set(&alice, [carol.clone()].into());
        assert!(!index.ignorers.contains_key(&bob));
        index.set(&alice, HashSet::new());
        index.set(&bob, HashSet::new());
        assert!(index.ignorers.is_empty() && index.lists.is_empty());
        let content = RawValue::from_string(
            r#"{"ignored_users": {"@bob:a": {}, "not a user": {}}}"#.to_owned(),
        )
        .unwrap();
        assert_eq!(ignored_users(&content), [bob].into());
    }
}
