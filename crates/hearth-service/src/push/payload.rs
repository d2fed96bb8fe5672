//! The body of `POST /_matrix/push/v1/notify` (spec: push-gateway-api), built with ruma's
//! push gateway types when a queued delivery is sent: the event (only its ID with
//! `format: event_id_only`), the room's name and alias, the sender's display name, the badge
//! and the device with its tweaks.
//!
//! A few fields Synapse sends and clients and SyTest rely on are added to ruma's shape: `id`
//! (the event ID, legacy), `membership` for member events, and `counts`, `data` and `tweaks`
//! even when empty or zero (a zero badge clears it). A badge update after a receipt carries no
//! event.

use hearth_core::Result;
use hearth_storage::{PusherRecord, QueuedPush};
use ruma::{
    EventId, RoomId, SecondsSinceUnixEpoch, UInt,
    api::push_gateway::send_event_notification::v1::{
        Device, Notification, NotificationCounts, NotificationPriority, PusherData,
    },
    events::TimelineEventType,
    push::{Action, HttpPusherData, PushFormat, Tweak},
};
use serde_json::{Value, json};

use super::Service;

impl Service {
    /// The gateway URL of an HTTP pusher; `None` if its stored data is unusable.
    pub(super) fn pusher_url(&self, pusher: &PusherRecord) -> Option<String> {
        http_data(pusher).map(|d| d.url)
    }

    pub(super) async fn build_notification(&self, push: &QueuedPush) -> Result<Value> {
        let badge = self.badge(&push.pusher.user_id).await?;
        let data = http_data(&push.pusher);
        let event_id_only =
            data.as_ref().is_some_and(|d| d.format == Some(PushFormat::EventIdOnly));
        let tweaks = tweaks(push.actions.as_deref());
        let mut device = Device::new(push.pusher.app_id.clone(), push.pusher.pushkey.clone());
        let secs = (push.pusher.pushkey_ts.max(0) / 1000) as u64;
        device.pushkey_ts = Some(SecondsSinceUnixEpoch(UInt::new_saturating(secs)));
        device.data = data.map(PusherData::from).unwrap_or_default();
        device.tweaks = tweaks.clone();

        let mut notification = Notification::new(vec![device]);
        notification.counts = NotificationCounts::new(UInt::new_saturating(badge), UInt::MIN);
        let mut extra = json!({});
        if let (Some(room_id), Some(event_id)) = (&push.room_id, &push.event_id) {
            notification.room_id = Some(room_id.clone());
            notification.event_id = Some(event_id.clone());
            notification.prio = priority(&tweaks);
            if !event_id_only {
                extra = self.describe_event(&mut notification, push, room_id, event_id).await?;
            }
            extra["id"] = json!(event_id);
        }
        Ok(render(notification, badge, extra))
    }

    /// Fill in what the notification says about the event and its room; returns the extra
    /// fields (`membership`).
    async fn describe_event(
        &self,
        notification: &mut Notification,
        push: &QueuedPush,
        room_id: &RoomId,
        event_id: &EventId,
    ) -> Result<Value> {
        let services =
            self.services.upgrade().ok_or_else(|| hearth_core::Error::internal("shutting down"))?;
        let Some(pdu) = services.rooms.pdu(event_id).await? else { return Ok(json!({})) };
        let storage = &self.ctx.storage;
        let content = pdu.content_value();
        notification.event_type = Some(pdu.kind.clone());
        notification.sender = Some(pdu.sender.clone());
        let sender = storage.membership(room_id, &pdu.sender).await?;
        notification.sender_display_name = sender.and_then(|m| m.display_name);
        let alias = self.state_string(room_id, "m.room.canonical_alias", "alias").await?;
        // A room without a name is called by its alias (Synapse).
        let name = self.state_string(room_id, "m.room.name", "name").await?;
        notification.room_name = name.or_else(|| alias.clone());
        notification.room_alias = alias.and_then(|a| a.try_into().ok());
        if self.ctx.config.push.include_content {
            notification.content = Some(serde_json::value::to_raw_value(&content)?);
        }
        let mut extra = json!({});
        if pdu.kind == TimelineEventType::RoomMember {
            let target = pdu.state_key.as_deref();
            notification.user_is_target = target == Some(push.pusher.user_id.as_str());
            extra["membership"] = content["membership"].clone();
        }
        Ok(extra)
    }

    /// A string field of a state event's content in the room's current state.
    async fn state_string(
        &self,
        room_id: &RoomId,
        kind: &str,
        field: &str,
    ) -> Result<Option<String>> {
        let services =
            self.services.upgrade().ok_or_else(|| hearth_core::Error::internal("shutting down"))?;
        let Some(id) = self.ctx.storage.current_state_event(room_id, kind, "").await? else {
            return Ok(None);
        };
        let Some(pdu) = services.rooms.pdu(&id).await? else { return Ok(None) };
        Ok(pdu.content_value()[field].as_str().filter(|s| !s.is_empty()).map(str::to_owned))
    }
}

fn http_data(pusher: &PusherRecord) -> Option<HttpPusherData> {
    serde_json::from_str(&pusher.data).ok()
}

/// The tweaks of the matched rule's actions.
fn tweaks(actions: Option<&str>) -> Vec<Tweak> {
    let actions: Vec<Action> =
        actions.and_then(|a| serde_json::from_str(a).ok()).unwrap_or_default();
    actions
        .into_iter()
        .filter_map(|a| match a {
            Action::SetTweak(tweak) => Some(tweak),
            _ => None,
        })
        .collect()
}

/// High when the notification makes a sound or highlights (Synapse).
fn priority(tweaks: &[Tweak]) -> NotificationPriority {
    let loud = tweaks.iter().any(|t| match t {
        Tweak::Sound(_) => true,
        Tweak::Highlight(h) => *h == ruma::push::HighlightTweakValue::Yes,
        _ => false,
    });
    if loud { NotificationPriority::High } else { NotificationPriority::Low }
}

/// ruma's notification as JSON, with the fields Synapse always sends.
fn render(notification: Notification, badge: u64, extra: Value) -> Value {
    let mut value = serde_json::to_value(&notification).unwrap_or_else(|_| json!({}));
    value["counts"]["unread"] = json!(badge);
    if let Some(devices) = value["devices"].as_array_mut() {
        for device in devices {
            for key in ["data", "tweaks"] {
                if device.get(key).is_none() {
                    device[key] = json!({});
                }
            }
        }
    }
    if let (Some(obj), Value::Object(extra)) = (value.as_object_mut(), extra) {
        obj.extend(extra);
    }
    value
}
