//! Receipts and read markers (spec: client-server-api "Receipts", "Fully read markers"):
//! `m.read` and `m.read.private`, unthreaded or per thread, stored with a stream position and
//! shown in sync as one `m.receipt` event per room; `m.fully_read` lives in room account data.

use std::{
    collections::BTreeMap,
    sync::{Arc, Weak},
};

use hearth_core::{Error, Result, utils::now_millis};
use hearth_storage::{EventRecord, NewReceipt, ReceiptRecord};
use ruma::{
    EventId, RoomId, UserId,
    api::client::receipt::create_receipt::v3::ReceiptType,
    events::{receipt::ReceiptThread, room::member::MembershipState},
};
use serde_json::{Map, Value, json, value::RawValue};

use crate::{Ctx, Services};

pub struct Service {
    ctx: Arc<Ctx>,
    services: Weak<Services>,
}

impl Service {
    pub(crate) fn new(ctx: Arc<Ctx>, services: Weak<Services>) -> Self {
        Service { ctx, services }
    }

    fn services(&self) -> Result<Arc<Services>> {
        crate::upgrade(&self.services)
    }

    /// `POST /rooms/{roomId}/receipt/{receiptType}/{eventId}`.
    pub async fn send_receipt(
        &self,
        user: &UserId,
        room_id: &RoomId,
        receipt_type: &ReceiptType,
        event_id: &EventId,
        thread: &ReceiptThread,
    ) -> Result<()> {
        let thread_id = match thread {
            ReceiptThread::Unthreaded => None,
            ReceiptThread::Main => Some("main".to_owned()),
            ReceiptThread::Thread(root) => Some(root.to_string()),
            _ => {
                return Err(Error::invalid_param(
                    "thread_id must be `main` or the event ID of a thread root",
                ));
            }
        };
        match receipt_type {
            ReceiptType::FullyRead if thread_id.is_some() => {
                Err(Error::invalid_param("m.fully_read does not take a thread_id"))
            }
            ReceiptType::FullyRead => self.set_fully_read(user, room_id, event_id).await,
            ReceiptType::Read | ReceiptType::ReadPrivate => {
                self.set_read_receipt(user, room_id, receipt_type.as_str(), event_id, thread_id)
                    .await
            }
            _ => Err(Error::invalid_param(
                "Receipt type must be m.read, m.read.private or m.fully_read",
            )),
        }
    }

    /// `POST /rooms/{roomId}/read_markers`: the fully-read marker and, as if sent to
    /// `/receipt`, the public and private read receipts.
    pub async fn set_read_markers(
        &self,
        user: &UserId,
        room_id: &RoomId,
        fully_read: Option<&EventId>,
        read: Option<&EventId>,
        read_private: Option<&EventId>,
    ) -> Result<()> {
        if let Some(event_id) = fully_read {
            self.set_fully_read(user, room_id, event_id).await?;
        }
        if let Some(event_id) = read {
            self.set_read_receipt(user, room_id, "m.read", event_id, None).await?;
        }
        if let Some(event_id) = read_private {
            self.set_read_receipt(user, room_id, "m.read.private", event_id, None).await?;
        }
        Ok(())
    }

    async fn set_read_receipt(
        &self,
        user: &UserId,
        room_id: &RoomId,
        receipt_type: &str,
        event_id: &EventId,
        thread_id: Option<String>,
    ) -> Result<()> {
        let event = self.receipt_target(user, room_id, event_id).await?;
        let receipt = NewReceipt {
            room_id: room_id.to_owned(),
            receipt_type: receipt_type.to_owned(),
            user_id: user.to_owned(),
            thread_id,
            event_id: event_id.to_owned(),
            event_pos: event.stream_pos.unwrap_or_default(),
            ts: now_millis(),
        };
        let thread_id = receipt.thread_id.clone();
        if self.ctx.storage.set_receipt(receipt).await?.is_some() {
            // Counts first: the sync this wakes must see them reset.
            self.reset_notification_counts(user, room_id, thread_id.as_deref(), event_id).await?;
            self.ctx.notifier.notify_room(room_id);
        }
        Ok(())
    }

    /// The fully-read marker: room account data `m.fully_read`, which only moves forward
    /// (Synapse); clients cannot write it directly (spec: "Server behaviour").
    async fn set_fully_read(
        &self,
        user: &UserId,
        room_id: &RoomId,
        event_id: &EventId,
    ) -> Result<()> {
        let event = self.receipt_target(user, room_id, event_id).await?;
        let storage = &self.ctx.storage;
        let current = storage.get_account_data(user, Some(room_id), "m.fully_read").await?;
        let current_id = current
            .and_then(|c| serde_json::from_str::<Value>(c.get()).ok())
            .and_then(|c| c["event_id"].as_str().and_then(|id| EventId::parse(id).ok()));
        if let Some(current_id) = current_id {
            let current = storage.get_event(&current_id).await?.and_then(|e| e.stream_pos);
            if current.is_some_and(|pos| Some(pos) >= event.stream_pos) {
                return Ok(());
            }
        }
        let content = serde_json::value::to_raw_value(&json!({ "event_id": event_id }))?;
        self.services()?.account_data.set(user, Some(room_id), "m.fully_read", content).await
    }

    /// The event a receipt points at: in this room, seen by the user, who must be joined.
    async fn receipt_target(
        &self,
        user: &UserId,
        room_id: &RoomId,
        event_id: &EventId,
    ) -> Result<EventRecord> {
        let membership = self.ctx.storage.membership(room_id, user).await?;
        if membership.is_none_or(|m| m.membership != MembershipState::Join) {
            return Err(Error::forbidden("You are not in this room"));
        }
        let not_found = || Error::not_found(format!("Event {event_id} not found in this room"));
        let event = self.ctx.storage.get_event(event_id).await?.ok_or_else(not_found)?;
        if event.room_id != room_id || event.stream_pos.is_none() || event.rejected {
            return Err(not_found());
        }
        if !self.services()?.rooms.can_see_event(user, &event).await? {
            return Err(not_found());
        }
        Ok(event)
    }

    /// A read receipt resets the notification counts up to its event (spec: "Receiving
    /// notifications").
    async fn reset_notification_counts(
        &self,
        user: &UserId,
        room_id: &RoomId,
        thread_id: Option<&str>,
        event_id: &EventId,
    ) -> Result<()> {
        self.services()?.push.on_receipt(user, room_id, thread_id, event_id).await
    }
}

/// The `m.receipt` event of one room for `viewer`: the given receipts grouped by event, type
/// and user; others' private receipts left out (spec: "Private read receipts"). `None` when
/// nothing is left.
pub fn receipt_event(records: &[ReceiptRecord], viewer: &UserId) -> Option<Box<RawValue>> {
    let mut content: BTreeMap<&str, BTreeMap<&str, Map<String, Value>>> = BTreeMap::new();
    for r in records {
        if r.receipt_type == "m.read.private" && r.user_id != viewer {
            continue;
        }
        let mut receipt = Map::new();
        receipt.insert("ts".into(), json!(r.ts));
        if let Some(thread) = &r.thread_id {
            receipt.insert("thread_id".into(), json!(thread));
        }
        content
            .entry(r.event_id.as_str())
            .or_default()
            .entry(r.receipt_type.as_str())
            .or_default()
            .insert(r.user_id.to_string(), Value::Object(receipt));
    }
    if content.is_empty() {
        return None;
    }
    serde_json::value::to_raw_value(&json!({ "type": "m.receipt", "content": content })).ok()
}
