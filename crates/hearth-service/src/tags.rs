//! Room tags (spec: client-server-api "Room Tagging"): the `m.tag` room account data of a user,
//! `{"tags": {name: {"order": n}}}`, changed one tag at a time.

use std::sync::{Arc, Weak};

use hearth_core::{Error, Result};
use ruma::{RoomId, UserId};
use serde_json::{Map, Value, json};

use crate::{Ctx, Services, accounts::Session};

/// The spec's limit on tag names.
const MAX_TAG_BYTES: usize = 255;

pub struct Service {
    ctx: Arc<Ctx>,
    services: Weak<Services>,
}

impl Service {
    pub(crate) fn new(ctx: Arc<Ctx>, services: Weak<Services>) -> Self {
        Service { ctx, services }
    }

    /// `GET /user/{userId}/rooms/{roomId}/tags`.
    pub async fn tags(
        &self,
        session: &Session,
        user: &UserId,
        room_id: &RoomId,
    ) -> Result<Map<String, Value>> {
        check_owner(session, user)?;
        self.current(user, room_id).await
    }

    /// `PUT /user/{userId}/rooms/{roomId}/tags/{tag}`: `order` must lie in [0, 1] (spec).
    pub async fn set_tag(
        &self,
        session: &Session,
        user: &UserId,
        room_id: &RoomId,
        tag: &str,
        order: Option<f64>,
    ) -> Result<()> {
        check_owner(session, user)?;
        if tag.len() > MAX_TAG_BYTES {
            return Err(Error::invalid_param("Tag names must not exceed 255 bytes"));
        }
        if order.is_some_and(|o| !(0.0..=1.0).contains(&o)) {
            return Err(Error::invalid_param("Tag order must be a number between 0 and 1"));
        }
        let mut tags = self.current(user, room_id).await?;
        let info = match order {
            Some(order) => json!({"order": order}),
            None => json!({}),
        };
        tags.insert(tag.to_owned(), info);
        self.store(user, room_id, tags).await
    }

    /// `DELETE /user/{userId}/rooms/{roomId}/tags/{tag}`: removing an absent tag is a no-op.
    pub async fn delete_tag(
        &self,
        session: &Session,
        user: &UserId,
        room_id: &RoomId,
        tag: &str,
    ) -> Result<()> {
        check_owner(session, user)?;
        let mut tags = self.current(user, room_id).await?;
        if tags.remove(tag).is_some() {
            self.store(user, room_id, tags).await?;
        }
        Ok(())
    }

    async fn current(&self, user: &UserId, room_id: &RoomId) -> Result<Map<String, Value>> {
        let data = self.ctx.storage.get_account_data(user, Some(room_id), "m.tag").await?;
        let content: Value = match data {
            Some(raw) => serde_json::from_str(raw.get()).unwrap_or_default(),
            None => Value::Null,
        };
        Ok(content.get("tags").and_then(Value::as_object).cloned().unwrap_or_default())
    }

    /// Written as account data, so sync sees the change.
    async fn store(&self, user: &UserId, room_id: &RoomId, tags: Map<String, Value>) -> Result<()> {
        let content = serde_json::value::to_raw_value(&json!({"tags": tags}))?;
        let services = crate::upgrade(&self.services)?;
        services.account_data.set(user, Some(room_id), "m.tag", content).await
    }
}

/// Only one's own tags, and not as a guest (spec: "Guest access" does not list tags).
fn check_owner(session: &Session, user: &UserId) -> Result<()> {
    if session.user_id != user {
        return Err(Error::forbidden("Cannot read or change other users' tags"));
    }
    session.forbid_guest()
}
