//! Push in SQLite: notifications of one user (`push_notifications`) and of a room's members
//! (`push_room_notifications`, minus `push_exclusions`), read markers (`push_read`), the
//! evaluated position (`push_evaluated`), pushers and the delivery queue (`push_queue`).
//!
//! Threads are stored as their root; the main timeline as `''`; a read marker for every
//! thread (an unthreaded receipt) as `'*'`.

mod notifications;
mod pushers;
mod queue;

use super::migrations::Area;

pub(super) const AREA: Area = Area {
    name: "push",
    migrations: &[
        "
        CREATE TABLE push_notifications (
            user_id TEXT NOT NULL,
            stream_pos INTEGER NOT NULL,
            room_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            thread_id TEXT NOT NULL,
            highlight INTEGER NOT NULL,
            actions TEXT NOT NULL,
            ts INTEGER NOT NULL,
            read INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (user_id, stream_pos)
        ) WITHOUT ROWID;
        CREATE INDEX push_notifications_unread
            ON push_notifications (user_id, room_id, thread_id, stream_pos) WHERE read = 0;
        CREATE TABLE push_evaluated (pos INTEGER NOT NULL);
        -- Events stored before push existed are not notified about.
        INSERT INTO push_evaluated (pos) SELECT pos FROM stream_position;
        CREATE TABLE pushers (
            id INTEGER PRIMARY KEY,
            user_id TEXT NOT NULL,
            device_id TEXT,
            kind TEXT NOT NULL,
            app_id TEXT NOT NULL,
            pushkey TEXT NOT NULL,
            app_display_name TEXT NOT NULL,
            device_display_name TEXT NOT NULL,
            profile_tag TEXT,
            lang TEXT NOT NULL,
            data TEXT NOT NULL,
            pushkey_ts INTEGER NOT NULL,
            UNIQUE (user_id, app_id, pushkey)
        );
        CREATE INDEX pushers_by_key ON pushers (app_id, pushkey);
        CREATE TABLE push_queue (
            id INTEGER PRIMARY KEY,
            pusher_id INTEGER NOT NULL REFERENCES pushers (id) ON DELETE CASCADE,
            room_id TEXT,
            event_id TEXT,
            actions TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_ms INTEGER NOT NULL,
            claimed_until_ms INTEGER NOT NULL DEFAULT 0,
            created_ms INTEGER NOT NULL
        );
        CREATE INDEX push_queue_due ON push_queue (next_attempt_ms);
        CREATE INDEX push_queue_by_pusher ON push_queue (pusher_id);
    ",
        "
        -- Read markers replace per-row read flags; room notifications and exclusions let an
        -- event's common result be stored once per room.
        CREATE TABLE push_read (
            user_id TEXT NOT NULL,
            room_id TEXT NOT NULL,
            thread_id TEXT NOT NULL,
            up_to INTEGER NOT NULL,
            PRIMARY KEY (user_id, room_id, thread_id)
        ) WITHOUT ROWID;
        INSERT INTO push_read (user_id, room_id, thread_id, up_to)
            SELECT user_id, room_id, '*', max(stream_pos) FROM push_notifications
            WHERE read = 1 GROUP BY user_id, room_id;
        DROP INDEX push_notifications_unread;
        ALTER TABLE push_notifications DROP COLUMN read;
        CREATE INDEX push_notifications_by_room
            ON push_notifications (user_id, room_id, stream_pos);
        CREATE TABLE push_room_notifications (
            room_id TEXT NOT NULL,
            stream_pos INTEGER NOT NULL,
            event_id TEXT NOT NULL,
            sender TEXT NOT NULL,
            thread_id TEXT NOT NULL,
            highlight INTEGER NOT NULL,
            actions TEXT NOT NULL,
            ts INTEGER NOT NULL,
            PRIMARY KEY (room_id, stream_pos)
        ) WITHOUT ROWID;
        CREATE TABLE push_exclusions (
            user_id TEXT NOT NULL,
            stream_pos INTEGER NOT NULL,
            PRIMARY KEY (user_id, stream_pos)
        ) WITHOUT ROWID;
    ",
    ],
};

/// The stored form of a thread: `''` for the main timeline.
fn thread_key(thread: Option<&ruma::EventId>) -> &str {
    thread.map(|t| t.as_str()).unwrap_or("")
}

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{OwnedDeviceId, OwnedUserId, UserId};

use super::SqliteStore;
use crate::push::*;

#[async_trait]
impl PushStore for SqliteStore {
    async fn push_evaluated_pos(&self) -> Result<i64> {
        self.db.read(notifications::evaluated_pos).await
    }

    async fn store_evaluation(&self, batch: EvaluatedBatch) -> Result<usize> {
        self.db.write(move |c| notifications::store_evaluation(c, &batch)).await
    }

    async fn mark_read(&self, mark: ReadMark) -> Result<bool> {
        self.db.write(move |c| notifications::mark_read(c, &mark)).await
    }

    async fn unread_counts(
        &self,
        user_id: &UserId,
        rooms: Vec<MemberSince>,
        up_to: i64,
    ) -> Result<Vec<UnreadCount>> {
        let user_id = user_id.to_owned();
        self.db.read(move |c| notifications::unread_counts(c, &user_id, &rooms, up_to)).await
    }

    async fn notifications(
        &self,
        user_id: &UserId,
        rooms: Vec<MemberSince>,
        before: Option<i64>,
        limit: usize,
        only_highlight: bool,
    ) -> Result<Vec<NotificationRecord>> {
        let user_id = user_id.to_owned();
        let page =
            notifications::Page { before: before.unwrap_or(i64::MAX), limit, only_highlight };
        self.db.read(move |c| notifications::notifications(c, &user_id, &rooms, &page)).await
    }

    async fn pushers(&self, user_id: &UserId) -> Result<Vec<PusherRecord>> {
        let user_id = user_id.to_owned();
        self.db.read(move |c| pushers::pushers(c, &user_id)).await
    }

    async fn users_with_pushers(&self) -> Result<Vec<OwnedUserId>> {
        self.db.read(pushers::users_with_pushers).await
    }

    async fn set_pusher(&self, pusher: NewPusher, append: bool) -> Result<()> {
        self.db.write(move |c| pushers::set_pusher(c, &pusher, append)).await
    }

    async fn delete_pushers(
        &self,
        user_id: &UserId,
        app_id: &str,
        pushkeys: Vec<String>,
    ) -> Result<usize> {
        let (user_id, app_id) = (user_id.to_owned(), app_id.to_owned());
        self.db.write(move |c| pushers::delete_pushers(c, &user_id, &app_id, &pushkeys)).await
    }

    async fn delete_device_pushers(
        &self,
        user_id: &UserId,
        device_ids: Vec<OwnedDeviceId>,
    ) -> Result<()> {
        let user_id = user_id.to_owned();
        self.db.write(move |c| pushers::delete_device_pushers(c, &user_id, &device_ids)).await
    }

    async fn delete_user_pushers(&self, user_id: &UserId) -> Result<()> {
        let user_id = user_id.to_owned();
        self.db.write(move |c| pushers::delete_user_pushers(c, &user_id)).await
    }

    async fn queue_badge_update(&self, user_id: &UserId, now_ms: i64) -> Result<usize> {
        let user_id = user_id.to_owned();
        self.db.write(move |c| queue::queue_badge_update(c, &user_id, now_ms)).await
    }

    async fn release_push_claims(&self) -> Result<()> {
        self.db.write(|c| queue::release_claims(c)).await
    }

    async fn claim_pushes(
        &self,
        now_ms: i64,
        claimed_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<QueuedPush>> {
        self.db.write(move |c| queue::claim(c, now_ms, claimed_until_ms, limit)).await
    }

    async fn next_push_due(&self) -> Result<Option<i64>> {
        self.db.read(queue::next_due).await
    }

    async fn remove_push(&self, id: i64) -> Result<()> {
        self.db.write(move |c| queue::remove(c, id)).await
    }

    async fn retry_push(&self, id: i64, next_attempt_ms: i64) -> Result<()> {
        self.db.write(move |c| queue::retry(c, id, next_attempt_ms)).await
    }
}
