//! Push: the notifications push rules produce (for unread counts, `/notifications` and
//! delivery), the pushers of each user, and the queue of deliveries to push gateways.
//!
//! Notifications are evaluated after events commit, in stream order; the position evaluated up
//! to is stored with the notifications it produced, so evaluation resumes exactly after a
//! restart. Deliveries are queued in the same transaction.
//!
//! Most members of a room get the same result from an event (those with the server-default
//! rules whom the event does not name): that result is stored once, as a room notification
//! for every local member joined before it. Members evaluated apart get their own
//! notification, and an exclusion from the room notification when their result differs. So a
//! message in a 10,000-member room writes a handful of rows, not 10,000. Read state is a read
//! marker per user, room and thread, moved by receipts.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{OwnedDeviceId, OwnedEventId, OwnedRoomId, OwnedUserId, UserId};

/// Which notifications a read receipt covers (spec: client-server-api "Threaded read
/// receipts").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptScope {
    /// An unthreaded receipt: every thread and the main timeline.
    All,
    /// The main timeline (`thread_id: "main"`).
    Main,
    /// One thread, by its root.
    Thread(OwnedEventId),
}

/// A notification from one event: for one user, or (`user_id: None`) for every local member
/// joined before it and not excluded.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub user_id: Option<OwnedUserId>,
    pub room_id: OwnedRoomId,
    pub event_id: OwnedEventId,
    /// Never notified by a room notification.
    pub sender: OwnedUserId,
    pub stream_pos: i64,
    /// The thread root; `None` for the main timeline.
    pub thread_id: Option<OwnedEventId>,
    pub highlight: bool,
    /// The push rule's actions, as JSON.
    pub actions: String,
    pub ts: i64,
}

/// A notification to deliver to each HTTP pusher of a user.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub user_id: OwnedUserId,
    pub room_id: OwnedRoomId,
    pub event_id: OwnedEventId,
    pub actions: String,
}

/// Notifications of `user` in `room` at or before `up_to` become read (the read marker only
/// moves forward).
#[derive(Debug, Clone)]
pub struct ReadMark {
    pub user_id: OwnedUserId,
    pub room_id: OwnedRoomId,
    pub scope: ReceiptScope,
    pub up_to: i64,
}

/// What evaluating the events up to `evaluated_up_to` produced, stored atomically.
#[derive(Debug, Clone, Default)]
pub struct EvaluatedBatch {
    pub notifications: Vec<NewNotification>,
    /// Users not covered by the room notification at a position: (user, position).
    pub exclusions: Vec<(OwnedUserId, i64)>,
    pub deliveries: Vec<NewDelivery>,
    pub reads: Vec<ReadMark>,
    pub evaluated_up_to: i64,
    /// When the queued deliveries are first due (ms since the epoch).
    pub now_ms: i64,
}

/// A room the user is joined to, and the position of their join.
#[derive(Debug, Clone)]
pub struct MemberSince {
    pub room_id: OwnedRoomId,
    pub joined_at: i64,
}

/// A notification, as `/notifications` lists it.
#[derive(Debug, Clone)]
pub struct NotificationRecord {
    pub room_id: OwnedRoomId,
    pub event_id: OwnedEventId,
    pub stream_pos: i64,
    pub highlight: bool,
    pub actions: String,
    pub ts: i64,
    pub read: bool,
}

/// Unread notifications of one user in one room and thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadCount {
    pub room_id: OwnedRoomId,
    /// `None` for the main timeline.
    pub thread_id: Option<OwnedEventId>,
    pub notifications: u64,
    pub highlights: u64,
}

/// A pusher as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PusherRecord {
    pub id: i64,
    pub user_id: OwnedUserId,
    /// The device whose access token created it; deleting the device deletes the pusher.
    pub device_id: Option<OwnedDeviceId>,
    pub kind: String,
    pub app_id: String,
    pub pushkey: String,
    pub app_display_name: String,
    pub device_display_name: String,
    pub profile_tag: Option<String>,
    pub lang: String,
    /// The pusher's `data` object, as JSON.
    pub data: String,
    /// When the pushkey was set, in ms since the epoch.
    pub pushkey_ts: i64,
}

/// A pusher to create or update (`id` is ignored).
pub type NewPusher = PusherRecord;

/// A delivery claimed from the queue: a notification of an event, or (without an event) a
/// badge update after a receipt.
#[derive(Debug, Clone)]
pub struct QueuedPush {
    pub id: i64,
    pub pusher: PusherRecord,
    pub room_id: Option<OwnedRoomId>,
    pub event_id: Option<OwnedEventId>,
    /// The actions (JSON) of the rule that matched.
    pub actions: Option<String>,
    pub attempts: u32,
    pub created_ms: i64,
}

#[async_trait]
pub trait PushStore {
    /// The stream position notifications have been evaluated up to.
    async fn push_evaluated_pos(&self) -> Result<i64>;

    /// Store an evaluated batch: notifications, exclusions, one queued delivery per delivery
    /// and HTTP pusher of its user, read marks, and the new evaluated position (never
    /// lowered). Returns the number of deliveries queued.
    async fn store_evaluation(&self, batch: EvaluatedBatch) -> Result<usize>;

    /// Move a read marker; returns whether it moved.
    async fn mark_read(&self, mark: ReadMark) -> Result<bool>;

    /// Unread notifications of the user in these rooms at positions up to `up_to`, per room
    /// and thread (rooms and threads without any are left out).
    async fn unread_counts(
        &self,
        user_id: &UserId,
        rooms: Vec<MemberSince>,
        up_to: i64,
    ) -> Result<Vec<UnreadCount>>;

    /// The user's notifications in these rooms, newest first, at positions below `before`
    /// (all if `None`).
    async fn notifications(
        &self,
        user_id: &UserId,
        rooms: Vec<MemberSince>,
        before: Option<i64>,
        limit: usize,
        only_highlight: bool,
    ) -> Result<Vec<NotificationRecord>>;

    async fn pushers(&self, user_id: &UserId) -> Result<Vec<PusherRecord>>;

    /// Every user with an HTTP pusher.
    async fn users_with_pushers(&self) -> Result<Vec<OwnedUserId>>;

    /// Create or update the user's pusher with this app ID and pushkey. Unless `append`, the
    /// pushers of other users with the same app ID and pushkey are deleted.
    async fn set_pusher(&self, pusher: NewPusher, append: bool) -> Result<()>;

    /// Delete the user's pushers with this app ID and any of these pushkeys; returns how many.
    async fn delete_pushers(
        &self,
        user_id: &UserId,
        app_id: &str,
        pushkeys: Vec<String>,
    ) -> Result<usize>;

    /// Delete the pushers created by these devices.
    async fn delete_device_pushers(
        &self,
        user_id: &UserId,
        device_ids: Vec<OwnedDeviceId>,
    ) -> Result<()>;

    /// Delete all pushers of the user.
    async fn delete_user_pushers(&self, user_id: &UserId) -> Result<()>;

    /// Queue a badge update (no event) for each HTTP pusher of the user; returns how many.
    async fn queue_badge_update(&self, user_id: &UserId, now_ms: i64) -> Result<usize>;

    /// Release every claim (at startup: no worker of an earlier run is alive).
    async fn release_push_claims(&self) -> Result<()>;

    /// Claim up to `limit` deliveries due at `now_ms`, until `claimed_until_ms`, oldest first.
    async fn claim_pushes(
        &self,
        now_ms: i64,
        claimed_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<QueuedPush>>;

    /// When the next unclaimed delivery is due, if any is queued.
    async fn next_push_due(&self) -> Result<Option<i64>>;

    /// A delivery succeeded (or is given up): remove it.
    async fn remove_push(&self, id: i64) -> Result<()>;

    /// A delivery failed: try again at `next_attempt_ms`.
    async fn retry_push(&self, id: i64, next_attempt_ms: i64) -> Result<()>;
}
