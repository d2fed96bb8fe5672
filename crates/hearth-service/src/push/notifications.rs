//! `GET /notifications` (spec: client-server-api "Listing Notifications"): the events the user
//! was notified about, newest first, with the actions that matched and whether they are read.

use hearth_core::{Error, Result};
use ruma::{
    MilliSecondsSinceUnixEpoch, UInt, api::client::push::get_notifications::v3::Notification,
    push::Action, serde::Raw,
};

use super::Service;
use crate::{accounts::Session, rooms::Viewer};

/// Notifications listed when the client gives no `limit` (Synapse's default).
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 1000;

pub struct NotificationsPage {
    pub notifications: Vec<Notification>,
    /// `from` for the next page; `None` on the last page.
    pub next_token: Option<String>,
}

impl Service {
    /// `from` is a token from an earlier page; `only=highlight` lists highlights only.
    pub async fn notifications(
        &self,
        session: &Session,
        from: Option<&str>,
        limit: Option<UInt>,
        only: Option<&str>,
    ) -> Result<NotificationsPage> {
        session.forbid_guest()?;
        let before =
            match from {
                Some(token) => Some(token.parse::<i64>().map_err(|_| {
                    Error::invalid_param(format!("Invalid `from` token {token:?}"))
                })?),
                None => None,
            };
        let limit = limit.map_or(DEFAULT_LIMIT, |l| u64::from(l).min(MAX_LIMIT as u64) as usize);
        let only_highlight = only == Some("highlight");
        let user = &session.user_id;
        let rooms = self.joined(user).await?;
        let storage = &self.ctx.storage;
        // Every event committed before the request is in the list.
        self.wait_evaluated(storage.current_stream_pos()).await;
        let records = storage.notifications(user, rooms, before, limit, only_highlight).await?;
        let next_token = (records.len() == limit && limit > 0)
            .then(|| records.last().map(|r| r.stream_pos.to_string()))
            .flatten();
        let services = self.services.upgrade().ok_or_else(|| Error::internal("shutting down"))?;
        let mut notifications = Vec::with_capacity(records.len());
        for record in records {
            let Some(event) = self.ctx.storage.get_event(&record.event_id).await? else { continue };
            let (event, pdu) = services.rooms.loaded(event).await?;
            let viewer = Viewer { user, device: None };
            let event = services.rooms.client_event(&event, &pdu, Some(viewer)).await?;
            let actions: Vec<Action> = serde_json::from_str(&record.actions)?;
            let ts = MilliSecondsSinceUnixEpoch(UInt::new_saturating(record.ts.max(0) as u64));
            notifications.push(Notification::new(
                actions,
                Raw::from_json(event),
                record.read,
                record.room_id,
                ts,
            ));
        }
        Ok(NotificationsPage { notifications, next_token })
    }
}
