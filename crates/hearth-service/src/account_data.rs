//! Account data (spec: client-server-api "Client Config"): per-user JSON objects, global or
//! per room. Each write takes a stream position and wakes the user's long-polls; sync reads
//! changes with `AccountDataStore::account_data_changes`.

use std::sync::{Arc, Weak};

use hearth_core::{Error, Result};
use http::StatusCode;
use ruma::{RoomId, UserId};
use serde_json::value::RawValue;

use crate::{Ctx, Services, accounts::Session};

/// Types the server manages; clients may read but not set them (spec: "Server Behaviour").
const SERVER_MANAGED: &[&str] = &["m.fully_read", "m.push_rules"];

pub struct Service {
    ctx: Arc<Ctx>,
    services: Weak<Services>,
}

impl Service {
    pub(crate) fn new(ctx: Arc<Ctx>, services: Weak<Services>) -> Self {
        Service { ctx, services }
    }

    /// A client's write: only for itself, never a server-managed type (405 `M_BAD_JSON`),
    /// content a JSON object.
    pub async fn set_by_client(
        &self,
        sender: &Session,
        user_id: &UserId,
        room_id: Option<&RoomId>,
        data_type: &str,
        content: Box<RawValue>,
    ) -> Result<()> {
        check_owner(sender, user_id, "add account data for")?;
        if SERVER_MANAGED.contains(&data_type) {
            return Err(Error::new(
                StatusCode::METHOD_NOT_ALLOWED,
                ruma::api::error::ErrorKind::BadJson,
                format!("Cannot set {data_type} through this API"),
            ));
        }
        if serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(content.get())
            .is_err()
        {
            return Err(Error::bad_json("Account data content must be a JSON object"));
        }
        self.set(user_id, room_id, data_type, content).await
    }

    /// Any write, including server-managed types (read markers, push rules): other services
    /// call this.
    pub async fn set(
        &self,
        user_id: &UserId,
        room_id: Option<&RoomId>,
        data_type: &str,
        content: Box<RawValue>,
    ) -> Result<()> {
        let ignored = (room_id.is_none() && data_type == crate::push::IGNORED_USER_LIST)
            .then(|| crate::push::ignored_users(&content));
        self.ctx.storage.set_account_data(user_id, room_id, data_type, content).await?;
        if let (Some(ignored), Some(services)) = (ignored, self.services.upgrade()) {
            // Push stops notifying of ignored senders from the next event on.
            services.push.set_ignored(user_id, ignored);
        }
        self.ctx.notifier.notify_user(user_id);
        Ok(())
    }

    /// The account was deactivated: its account data goes, global and per room (spec:
    /// "Account deactivation" asks it with `erase`; Synapse does it on every deactivation).
    pub(crate) async fn on_user_deactivated(&self, user_id: &UserId) -> Result<()> {
        self.ctx.storage.delete_user_account_data(user_id).await
    }

    /// `M_NOT_FOUND` when nothing of that type is stored.
    pub async fn get(
        &self,
        sender: &Session,
        user_id: &UserId,
        room_id: Option<&RoomId>,
        data_type: &str,
    ) -> Result<Box<RawValue>> {
        check_owner(sender, user_id, "read account data of")?;
        self.ctx
            .storage
            .get_account_data(user_id, room_id, data_type)
            .await?
            .ok_or_else(|| Error::not_found(format!("No account data of type {data_type}")))
    }
}

/// Only the user's own data, and not for guests (spec: "Guest access" does not list it).
fn check_owner(sender: &Session, user_id: &UserId, what: &str) -> Result<()> {
    if sender.user_id != user_id {
        return Err(Error::forbidden(format!("Cannot {what} other users")));
    }
    sender.forbid_guest()
}
