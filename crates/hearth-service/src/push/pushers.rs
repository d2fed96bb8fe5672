//! Pushers (spec: client-server-api "Client behaviour", `/pushers` and `/pushers/set`): where
//! a user's notifications are delivered. Only HTTP pushers deliver; email pushers need an
//! email address bound to the account, which this server does not have (Synapse answers
//! `M_THREEPID_NOT_FOUND` then). A pusher belongs to the device that created it and goes when
//! that device is logged out.

use hearth_core::{Error, Result, utils::now_millis};
use hearth_storage::{NewPusher, PusherRecord};
use http::StatusCode;
use ruma::{
    OwnedDeviceId, UserId,
    api::client::push::{Pusher, PusherKind, set_pusher::v3::PusherAction},
};
use serde_json::json;

use super::Service;
use crate::accounts::Session;

/// The path the spec requires of a push gateway URL.
const NOTIFY_PATH: &str = "/_matrix/push/v1/notify";
/// Synapse's limit on pushkeys.
const MAX_PUSHKEY_BYTES: usize = 512;

impl Service {
    /// `GET /pushers`.
    pub async fn pushers(&self, session: &Session) -> Result<Vec<Pusher>> {
        session.forbid_guest()?;
        let records = self.ctx.storage.pushers(&session.user_id).await?;
        records.iter().map(to_ruma).collect()
    }

    /// `POST /pushers/set`: create or update a pusher, or delete it (`kind: null`).
    pub async fn set_pusher(&self, session: &Session, action: PusherAction) -> Result<()> {
        session.forbid_guest()?;
        let storage = &self.ctx.storage;
        let user = &session.user_id;
        let post = match action {
            PusherAction::Delete(ids) => {
                storage.delete_pushers(user, &ids.app_id, vec![ids.pushkey]).await?;
                return self.pushers_changed(user).await;
            }
            PusherAction::Post(post) => post,
            _ => return Err(Error::bad_json("Unknown pusher action")),
        };
        let pusher = post.pusher;
        let data = match &pusher.kind {
            PusherKind::Http(data) => {
                check_url(&data.url)?;
                serde_json::to_string(data)?
            }
            PusherKind::Email(_) => {
                return Err(Error::custom(
                    StatusCode::BAD_REQUEST,
                    "M_THREEPID_NOT_FOUND",
                    "Email not found: no email address is bound to this account",
                ));
            }
            _ => return Err(Error::invalid_param("Unknown pusher kind; use \"http\"")),
        };
        if pusher.ids.pushkey.len() > MAX_PUSHKEY_BYTES {
            return Err(Error::invalid_param("pushkey is too long"));
        }
        let record = NewPusher {
            id: 0,
            user_id: user.clone(),
            device_id: Some(session.device_id.clone()),
            kind: "http".to_owned(),
            app_id: pusher.ids.app_id,
            pushkey: pusher.ids.pushkey,
            app_display_name: pusher.app_display_name,
            device_display_name: pusher.device_display_name,
            profile_tag: pusher.profile_tag,
            lang: pusher.lang,
            data,
            pushkey_ts: now_millis() as i64,
        };
        self.with_pushers.lock().insert(user.clone());
        storage.set_pusher(record, post.append).await
    }

    /// Whether notifications of `user` may have somewhere to go.
    pub(crate) fn has_pushers(&self, user: &UserId) -> bool {
        self.with_pushers.lock().contains(user)
    }

    /// The joined local members of `room` whose notifications may have somewhere to go.
    pub(super) fn members_with_pushers(
        &self,
        room: &super::context::RoomMembers,
        server: &ruma::ServerName,
    ) -> std::collections::HashSet<ruma::OwnedUserId> {
        room.joined_local_among(&self.with_pushers.lock(), server)
    }

    /// After pushers of `user` were deleted: forget them if none is left.
    pub(crate) async fn pushers_changed(&self, user: &UserId) -> Result<()> {
        if self.ctx.storage.pushers(user).await?.is_empty() {
            self.with_pushers.lock().remove(user);
        }
        Ok(())
    }

    /// Devices were logged out or deleted: their pushers go with them (as in Synapse).
    pub(crate) async fn on_devices_deleted(
        &self,
        user_id: &UserId,
        device_ids: &[OwnedDeviceId],
    ) -> Result<()> {
        self.ctx.storage.delete_device_pushers(user_id, device_ids.to_vec()).await?;
        self.pushers_changed(user_id).await
    }

    /// A deactivated account gets no more pushes.
    pub(crate) async fn on_user_deactivated(&self, user_id: &UserId) -> Result<()> {
        self.ctx.storage.delete_user_pushers(user_id).await?;
        self.pushers_changed(user_id).await
    }
}

/// An HTTP pusher's URL must be http(s) with the spec's path (Synapse: `M_MISSING_PARAM`).
fn check_url(url: &str) -> Result<()> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| Error::missing_param(format!("'url' is not a valid URL: {url}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(Error::missing_param("'url' must be an http(s) URL"));
    }
    if parsed.path() != NOTIFY_PATH {
        return Err(Error::missing_param(format!("'url' must have a path of '{NOTIFY_PATH}'")));
    }
    Ok(())
}

fn to_ruma(record: &PusherRecord) -> Result<Pusher> {
    let data: serde_json::Value = serde_json::from_str(&record.data)?;
    let pusher = json!({
        "pushkey": record.pushkey,
        "app_id": record.app_id,
        "kind": record.kind,
        "data": data,
        "app_display_name": record.app_display_name,
        "device_display_name": record.device_display_name,
        "profile_tag": record.profile_tag,
        "lang": record.lang,
    });
    let pusher: Pusher = serde_json::from_value(pusher)
        .map_err(|e| Error::internal(format!("stored pusher {}: {e}", record.id)))?;
    Ok(pusher)
}
