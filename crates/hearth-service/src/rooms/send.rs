//! Sending a local event: build it on the room head, check and prepare it, queue the write,
//! advance the head, then wait for the commit outside the room lock.

use std::future::Future;

use hearth_core::Result;
use hearth_storage::RoomRecord;
use ruma::{
    OwnedDeviceId, OwnedEventId, OwnedRoomId, OwnedTransactionId, RoomId, UserId,
    events::TimelineEventType,
};

use super::{
    PduRef, Service,
    build::EventTemplate,
    head::{HeadSlot, RoomHead},
    persist::{GroupedState, Prepared},
};

impl Service {
    /// Build, check and queue a local event; the returned future resolves once it commits.
    /// Events of one room queued one after the other are written in that order.
    pub(crate) async fn submit(
        &self,
        room_id: &RoomId,
        sender: &UserId,
        template: &EventTemplate,
        txn: Option<(OwnedDeviceId, OwnedTransactionId)>,
    ) -> Result<impl Future<Output = Result<OwnedEventId>> + '_> {
        let slot = self.slot(room_id);
        let mut guard = slot.clone().lock_owned().await;
        let head = self.loaded_head(&mut guard, room_id).await?.clone();
        let pdu = self.build_pdu(&head, sender, template).await?;
        let before = GroupedState {
            map: head.state.clone(),
            group: head.state_group,
            chain_len: head.chain_len,
        };
        let prepared = self.prepare_persist(&head, &pdu, before, txn).await?;
        let generation = guard.generation;
        let groups = prepared.groups.clone();
        let commit = self.queue(prepared, &pdu, &mut guard.head);
        drop(guard);
        Ok(async move {
            let result = commit.await;
            self.pending.lock().remove(&pdu.event_id);
            match result {
                Ok(_) => {
                    self.committed(&pdu, groups);
                    Ok(pdu.event_id.clone())
                }
                Err(e) => {
                    let mut guard = slot.lock().await;
                    if guard.generation == generation {
                        guard.head = None;
                        guard.generation += 1;
                    }
                    Err(e)
                }
            }
        })
    }

    /// Persist the create event of a new room and make `head` the room's head; `None` if a
    /// room with that ID exists already (nothing is written then).
    pub(crate) async fn persist_new_room(
        &self,
        head: RoomHead,
        pdu: PduRef,
        public: bool,
    ) -> Result<Option<OwnedRoomId>> {
        let room_id = head.room_id.clone();
        let slot = self.slot(&room_id);
        let mut guard = slot.lock().await;
        if guard.head.is_some() || self.ctx.storage.get_room(&room_id).await?.is_some() {
            return Ok(None);
        }
        let before = GroupedState { map: head.state.clone(), group: None, chain_len: 0 };
        let mut prepared = self.prepare_persist(&head, &pdu, before, None).await?;
        prepared.event.new_room = Some(RoomRecord {
            room_id: room_id.clone(),
            version: head.version.to_string(),
            public,
        });
        self.commit_locked(&mut guard, prepared, &pdu).await?;
        self.versions.lock().insert(room_id.clone(), (head.version.clone(), head.rules.clone()));
        Ok(Some(room_id))
    }

    /// Queue a prepared event and wait for its commit while holding the room's lock.
    pub(crate) async fn commit_locked(
        &self,
        guard: &mut HeadSlot,
        prepared: Prepared,
        pdu: &PduRef,
    ) -> Result<()> {
        let groups = prepared.groups.clone();
        let result = self.queue(prepared, pdu, &mut guard.head).await;
        self.pending.lock().remove(&pdu.event_id);
        if let Err(e) = result {
            guard.head = None;
            guard.generation += 1;
            return Err(e);
        }
        self.committed(pdu, groups);
        Ok(())
    }

    /// Send a local event and wait for it to commit.
    pub(crate) async fn send_event(
        &self,
        room_id: &RoomId,
        sender: &UserId,
        template: &EventTemplate,
        txn: Option<(OwnedDeviceId, OwnedTransactionId)>,
    ) -> Result<OwnedEventId> {
        self.submit(room_id, sender, template, txn).await?.await
    }

    /// Hand a prepared event to the writer and advance the head (before the commit).
    fn queue(
        &self,
        prepared: Prepared,
        pdu: &PduRef,
        head: &mut Option<RoomHead>,
    ) -> hearth_storage::BoxFuture<Result<i64>> {
        self.pending.lock().insert(pdu.event_id.clone(), (pdu.clone(), prepared.after));
        let commit = self.ctx.storage.persist_event(prepared.event);
        *head = Some(prepared.head);
        commit
    }

    /// After a commit: cache the event and its state groups, wake whoever waits on the room or
    /// the member.
    fn committed(&self, pdu: &PduRef, groups: Vec<(i64, super::StateMap, u32)>) {
        for (id, map, chain) in groups {
            self.cache_group(id, map, chain);
        }
        self.events.lock().put(pdu.event_id.clone(), pdu.clone());
        self.ctx.notifier.notify_room(&pdu.room_id);
        if let Some(services) = self.services.upgrade() {
            services.push.wake();
            services.search.wake();
        }
        if pdu.kind == TimelineEventType::RoomMember
            && let Some(Ok(user)) = pdu.state_key.as_deref().map(UserId::parse)
        {
            self.ctx.notifier.notify_user(&user);
        }
    }
}
