//! User profiles: `displayname`, `avatar_url` and the extended fields of spec v1.16, each a
//! JSON value under its key.

use std::collections::BTreeMap;

use async_trait::async_trait;
use hearth_core::Result;
use ruma::UserId;
use serde_json::Value;

#[async_trait]
pub trait ProfileStore {
    /// Every field of the user's profile.
    async fn get_profile(&self, user_id: &UserId) -> Result<BTreeMap<String, Value>>;

    /// Set one field, unless the profile would then exceed `max_bytes` (keys and JSON values
    /// counted): `Ok(false)` and nothing written in that case.
    async fn set_profile_field(
        &self,
        user_id: &UserId,
        field: &str,
        value: Value,
        max_bytes: usize,
    ) -> Result<bool>;

    /// Remove one field; `Ok(false)` if it was not set.
    async fn delete_profile_field(&self, user_id: &UserId, field: &str) -> Result<bool>;

    /// Remove every field (deactivation).
    async fn clear_profile(&self, user_id: &UserId) -> Result<()>;
}
