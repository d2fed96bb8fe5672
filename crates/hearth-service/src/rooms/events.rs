//! Sending events from clients (spec: client-server-api "Sending events to a room",
//! "Redactions"): messages, state, redactions, with transaction-ID idempotency.

use std::sync::Arc;

use hearth_core::{Error, Result};
use ruma::{
    DeviceId, EventId, OwnedEventId, RoomId, TransactionId, UserId, events::TimelineEventType,
};
use serde_json::Value;

use super::{EventTemplate, Service, content};

impl Service {
    /// `PUT /rooms/{roomId}/send/{eventType}/{txnId}`: the same transaction ID from the same
    /// device in the same room returns the first event's ID and stores nothing new. Without
    /// a transaction ID (the deprecated `POST /send/{eventType}` Synapse still serves) every
    /// request is a new event.
    pub async fn send_message(
        &self,
        sender: &UserId,
        device: &DeviceId,
        room_id: &RoomId,
        kind: &str,
        txn_id: Option<&TransactionId>,
        content: Value,
    ) -> Result<OwnedEventId> {
        let _txn = match txn_id {
            Some(txn_id) => Some(self.txn_lock(room_id, sender, device, txn_id).await),
            None => None,
        };
        if let Some(txn_id) = txn_id
            && let Some(id) =
                self.ctx.storage.event_for_txn(room_id, sender, device, txn_id).await?
        {
            return Ok(id);
        }
        self.send_limit.check(&sender.to_owned())?;
        let mut template = EventTemplate::new(kind, content);
        if template.kind == TimelineEventType::RoomRedaction {
            template.redacts = template
                .content
                .get("redacts")
                .and_then(Value::as_str)
                .map(EventId::parse)
                .transpose()?;
            let target = template
                .redacts
                .clone()
                .ok_or_else(|| Error::bad_json("Redaction without `redacts`"))?;
            self.check_redaction(sender, room_id, &target).await?;
        }
        content::validate(&template)?;
        self.services()?.relations.validate_relation(sender, room_id, &template.content).await?;
        let txn = txn_id.map(|txn_id| (device.to_owned(), txn_id.to_owned()));
        let event_id = self.send_event(room_id, sender, &template, txn).await?;
        // Sending is a pro-active action (spec: "Last active ago").
        if let Some(services) = self.services.upgrade() {
            services.presence.bump_active(sender);
        }
        Ok(event_id)
    }

    /// `PUT /rooms/{roomId}/state/{eventType}/{stateKey}`.
    pub async fn send_state(
        &self,
        sender: &UserId,
        room_id: &RoomId,
        kind: &str,
        state_key: &str,
        content: Value,
    ) -> Result<OwnedEventId> {
        if kind == "m.room.create" {
            return Err(Error::forbidden("The create event cannot be replaced"));
        }
        if kind == "m.room.canonical_alias" {
            // Before the schema check: malformed aliases are `M_INVALID_PARAM` there.
            self.services()?.directory.check_canonical_alias(room_id, &content).await?;
        }
        let template = match ruma::UserId::parse(state_key) {
            Ok(target) if kind == "m.room.member" => self.member_template(&target, content).await?,
            _ => {
                // Membership changes are not messages (Synapse limits them separately).
                self.send_limit.check(&sender.to_owned())?;
                EventTemplate::state(kind, state_key, content)
            }
        };
        content::validate(&template)?;
        if let Some((_, rules)) = self.room_version(room_id).await? {
            content::validate_for_version(&template, &rules.authorization)?;
        }
        if let Some(existing) = self.duplicate_state(room_id, sender, &template).await? {
            return Ok(existing);
        }
        let event_id = self.send_event(room_id, sender, &template, None).await?;
        if kind == "m.room.guest_access" && template.content["guest_access"] != "can_join" {
            self.guests_leave(room_id).await?;
        }
        Ok(event_id)
    }

    /// `PUT /rooms/{roomId}/redact/{eventId}/{txnId}`.
    pub async fn redact(
        &self,
        sender: &UserId,
        device: &DeviceId,
        room_id: &RoomId,
        event_id: &EventId,
        txn_id: &TransactionId,
        reason: Option<String>,
    ) -> Result<OwnedEventId> {
        let _txn = self.txn_lock(room_id, sender, device, txn_id).await;
        if let Some(id) = self.ctx.storage.event_for_txn(room_id, sender, device, txn_id).await? {
            return Ok(id);
        }
        self.send_limit.check(&sender.to_owned())?;
        self.check_redaction(sender, room_id, event_id).await?;
        let (_, rules) =
            self.room_version(room_id).await?.ok_or_else(|| Error::not_found("Unknown room"))?;
        let mut content = serde_json::Map::new();
        if let Some(reason) = reason {
            content.insert("reason".into(), Value::String(reason));
        }
        if rules.redaction.content_field_redacts {
            content.insert("redacts".into(), Value::String(event_id.to_string()));
        }
        let mut template =
            EventTemplate::new(TimelineEventType::RoomRedaction, Value::Object(content));
        template.redacts = Some(event_id.to_owned());
        let txn = Some((device.to_owned(), txn_id.to_owned()));
        self.send_event(room_id, sender, &template, txn).await
    }

    /// What a client may redact (spec: client-server-api "Redactions"; Synapse's checks). The
    /// room version's authorization rules run when the redaction is persisted: before v3 they
    /// hold the redact level and the same-domain rule, since v3 they accept any redaction and
    /// a server applies one only from the event's own server or the redact level (rooms/v3
    /// "Handling redactions"). So here: without the redact level, only one's own events;
    /// never the create event or the server ACL; an event this server does not have (it may
    /// arrive later) only with the redact level.
    async fn check_redaction(
        &self,
        sender: &UserId,
        room_id: &RoomId,
        target: &EventId,
    ) -> Result<()> {
        let not_found = || Error::not_found("Event not found");
        let event = self.pdu(target).await?;
        if let Some(event) = &event {
            if event.room_id != room_id {
                // Synapse: 400, the request names an event of another room.
                return Err(Error::invalid_param("The event is in another room"));
            }
            if event.kind == TimelineEventType::RoomCreate {
                return Err(Error::forbidden("Redacting the create event is not permitted"));
            }
            if event.kind == TimelineEventType::RoomServerAcl {
                return Err(Error::forbidden("Redacting the server ACL is not permitted"));
            }
        }
        if self.has_power(room_id, sender, "redact").await? {
            return Ok(());
        }
        match event {
            None => Err(not_found()),
            Some(event) if event.sender != sender => {
                Err(Error::forbidden("You may not redact other users' events in this room"))
            }
            Some(_) => Ok(()),
        }
    }

    /// Serialize sends of one transaction ID, so a retry racing the first attempt waits for it.
    async fn txn_lock(
        &self,
        room_id: &RoomId,
        sender: &UserId,
        device: &DeviceId,
        txn_id: &TransactionId,
    ) -> TxnGuard<'_> {
        let key = format!("{room_id}\u{0}{sender}\u{0}{device}\u{0}{txn_id}");
        let lock = self.txn_locks.lock().entry(key.clone()).or_default().clone();
        let guard = lock.clone().lock_owned().await;
        TxnGuard { service: self, key, _guard: guard, lock }
    }
}

pub(crate) struct TxnGuard<'a> {
    service: &'a Service,
    key: String,
    _guard: tokio::sync::OwnedMutexGuard<()>,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Drop for TxnGuard<'_> {
    fn drop(&mut self) {
        let mut locks = self.service.txn_locks.lock();
        // The map's reference, ours and our guard's: nobody else waits.
        if Arc::strong_count(&self.lock) <= 3 {
            locks.remove(&self.key);
        }
    }
}
