//! Profiles (spec: client-server-api "Profiles", extended profile fields of v1.16).

use std::sync::{Arc, Weak};

use hearth_core::{Error, Result};
use http::StatusCode;
use ruma::{
    UserId,
    api::client::profile::get_profile,
    profile::{ProfileFieldName, ProfileFieldValue},
};
use serde_json::Value;

use crate::{Ctx, Services, accounts::Session};

/// The spec's limit on a whole profile.
const MAX_PROFILE_BYTES: usize = 64 * 1024;
/// The spec's limit on a field name.
const MAX_KEY_BYTES: usize = 255;
/// Synapse's limits on the two historical fields.
const MAX_DISPLAYNAME_CHARS: usize = 256;
const MAX_AVATAR_URL_CHARS: usize = 1000;

pub struct Service {
    ctx: Arc<Ctx>,
    services: Weak<Services>,
}

impl Service {
    pub(crate) fn new(ctx: Arc<Ctx>, services: Weak<Services>) -> Self {
        Service { ctx, services }
    }

    /// `GET /profile/{userId}`.
    pub async fn profile(&self, user_id: &UserId) -> Result<get_profile::v3::Response> {
        self.check_known(user_id).await?;
        let fields = self.ctx.storage.get_profile(user_id).await?;
        Ok(fields.into_iter().collect())
    }

    /// `GET /profile/{userId}/{keyName}`: `M_NOT_FOUND` when a custom field is not set.
    /// `None` for an unset `displayname` or `avatar_url` of a known user, which Synapse
    /// answers with `{}` rather than 404 (and clients and SyTest rely on it).
    pub async fn field(
        &self,
        user_id: &UserId,
        field: &ProfileFieldName,
    ) -> Result<Option<ProfileFieldValue>> {
        self.check_known(user_id).await?;
        let fields = self.ctx.storage.get_profile(user_id).await?;
        let Some(value) = fields.get(field.as_str()) else {
            return match field {
                ProfileFieldName::DisplayName | ProfileFieldName::AvatarUrl => Ok(None),
                _ => Err(Error::not_found(format!("No profile field {field}"))),
            };
        };
        ProfileFieldValue::new(field.as_str(), value.clone())
            .map(Some)
            .map_err(|e| Error::internal(format!("stored profile field {field}: {e}")))
    }

    /// `PUT /profile/{userId}/{keyName}`: only the user themself.
    pub async fn set_field(
        &self,
        sender: &Session,
        user_id: &UserId,
        value: ProfileFieldValue,
    ) -> Result<()> {
        let field = value.field_name();
        check_may_change(sender, user_id, &field)?;
        check_key(&field)?;
        check_value(&value)?;
        let json = value.value().into_owned();
        let stored =
            self.ctx.storage.set_profile_field(user_id, field.as_str(), json, MAX_PROFILE_BYTES);
        if !stored.await? {
            return Err(Error::custom(
                StatusCode::BAD_REQUEST,
                "M_PROFILE_TOO_LARGE",
                "The profile would exceed 64 KiB",
            ));
        }
        self.changed(user_id, &field).await
    }

    /// `DELETE /profile/{userId}/{keyName}`: removing a field that is not set is fine.
    pub async fn delete_field(
        &self,
        sender: &Session,
        user_id: &UserId,
        field: &ProfileFieldName,
    ) -> Result<()> {
        check_may_change(sender, user_id, field)?;
        check_key(field)?;
        if self.ctx.storage.delete_profile_field(user_id, field.as_str()).await? {
            self.changed(user_id, field).await?;
        }
        Ok(())
    }

    /// Forget the whole profile (account deactivation).
    pub async fn clear(&self, user_id: &UserId) -> Result<()> {
        self.ctx.storage.clear_profile(user_id).await?;
        // One call updates both fields in the rooms.
        self.changed(user_id, &ProfileFieldName::DisplayName).await
    }

    /// The display name, for other areas (member events, notifications, the directory).
    pub async fn displayname(&self, user_id: &UserId) -> Result<Option<String>> {
        let fields = self.ctx.storage.get_profile(user_id).await?;
        Ok(fields.get("displayname").and_then(Value::as_str).map(str::to_owned))
    }

    /// The display name and avatar URL together, for `m.room.member` events.
    pub async fn member_fields(
        &self,
        user_id: &UserId,
    ) -> Result<(Option<String>, Option<String>)> {
        let fields = self.ctx.storage.get_profile(user_id).await?;
        let text = |k: &str| fields.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok((text("displayname"), text("avatar_url")))
    }

    /// Local users must exist; remote profiles would need federation, which is not built yet.
    async fn check_known(&self, user_id: &UserId) -> Result<()> {
        if user_id.server_name() != self.ctx.config.server_name {
            // TODO(federation): query the user's server (`/_matrix/federation/v1/query/profile`).
            return Err(Error::not_found("Profiles of remote users are not available yet"));
        }
        if self.ctx.storage.get_user(user_id).await?.is_none() {
            return Err(Error::not_found("No such user"));
        }
        Ok(())
    }

    /// A field changed: a new `displayname` or `avatar_url` is sent as a new `m.room.member`
    /// event in every room the user has joined (spec: "Events on Change of Profile
    /// Information").
    async fn changed(&self, user_id: &UserId, field: &ProfileFieldName) -> Result<()> {
        tracing::debug!(%user_id, %field, "profile changed");
        if !matches!(field, ProfileFieldName::DisplayName | ProfileFieldName::AvatarUrl) {
            return Ok(());
        }
        let Some(services) = self.services.upgrade() else { return Ok(()) };
        services.rooms.profile_changed(user_id).await
    }
}

/// Only the user changes their profile; guests only their display name (spec: "Guest access").
fn check_may_change(sender: &Session, user_id: &UserId, field: &ProfileFieldName) -> Result<()> {
    if sender.user_id != user_id {
        return Err(Error::forbidden("You cannot change another user's profile"));
    }
    if *field != ProfileFieldName::DisplayName {
        sender.forbid_guest()?;
    }
    Ok(())
}

/// Field names follow the spec's grammar and are at most 255 bytes.
fn check_key(field: &ProfileFieldName) -> Result<()> {
    let key = field.as_str();
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::custom(
            StatusCode::BAD_REQUEST,
            "M_KEY_TOO_LARGE",
            "Profile keys are limited to 255 bytes",
        ));
    }
    let known = matches!(key, "avatar_url" | "displayname" | "m.tz");
    if !known && !is_namespaced(key) {
        return Err(Error::invalid_param(format!(
            "Invalid profile key {key:?}: use a namespaced name like com.example.field"
        )));
    }
    Ok(())
}

/// `[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+`: the spec's pattern for custom profile keys.
fn is_namespaced(key: &str) -> bool {
    let parts: Vec<&str> = key.split('.').collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            let mut chars = p.chars();
            chars.next().is_some_and(|c| c.is_ascii_lowercase())
                && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

fn check_value(value: &ProfileFieldValue) -> Result<()> {
    let too_long = |what: &str, max: usize| {
        Error::custom(
            StatusCode::BAD_REQUEST,
            "M_TOO_LARGE",
            format!("The {what} is limited to {max} characters"),
        )
    };
    match value {
        ProfileFieldValue::DisplayName(name) if name.chars().count() > MAX_DISPLAYNAME_CHARS => {
            Err(too_long("display name", MAX_DISPLAYNAME_CHARS))
        }
        ProfileFieldValue::AvatarUrl(url)
            if url.as_str().chars().count() > MAX_AVATAR_URL_CHARS =>
        {
            Err(too_long("avatar URL", MAX_AVATAR_URL_CHARS))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_keys_follow_the_grammar() {
        for ok in ["com.example.field", "m.tz2", "org.a_b.c9"] {
            assert!(is_namespaced(ok), "{ok}");
        }
        for bad in ["field", "Com.example", "com..x", "com.9x", "com.ex-ample", ".a.b"] {
            assert!(!is_namespaced(bad), "{bad}");
        }
    }
}
