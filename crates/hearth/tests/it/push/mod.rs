//! Push: rules, notification counts, `/notifications`, pushers and delivery to a push gateway
//! the tests run on loopback.

mod counts;
mod delivery;
mod gateway;
mod notifications;
mod pushers;
mod rules;

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    common::{TestServer, User},
    rooms::{create_room, enc, send},
};

/// Alice's room with Bob joined; returns the room ID.
pub(crate) async fn room_with(alice: &User, bob: &User) -> String {
    let room = create_room(alice, json!({"preset": "public_chat"})).await;
    let (status, body) =
        bob.post(&format!("/_matrix/client/v3/rooms/{}/join", enc(&room)), json!({})).await;
    assert_eq!(status, 200, "join: {body}");
    room
}

/// Send a text message; returns its event ID.
pub(crate) async fn say(user: &User, room: &str, body: &str) -> String {
    let txn = format!("t{}", rand_suffix());
    send(user, &enc(room), &txn, json!({"msgtype": "m.text", "body": body})).await
}

/// Send a message with this content; returns its event ID.
pub(crate) async fn send_content(user: &User, room: &str, content: Value) -> String {
    send(user, &enc(room), &format!("t{}", rand_suffix()), content).await
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The unread counts of `user` in `room` as `/sync` will report them (through the service:
/// `/sync` belongs to the sync work).
pub(crate) async fn counts(
    server: &TestServer,
    user: &User,
    room: &str,
) -> hearth_service::push::RoomCounts {
    let services = server.services();
    let up_to = services.ctx.storage.current_stream_pos();
    let user_id = ruma::UserId::parse(&user.user_id).unwrap();
    let room_id = ruma::RoomId::parse(room).unwrap();
    services.push.room_counts(&user_id, &room_id, up_to).await.unwrap()
}

/// A read receipt through the hook the receipt endpoint calls.
pub(crate) async fn receipt(
    server: &TestServer,
    user: &User,
    room: &str,
    thread: Option<&str>,
    event: &str,
) {
    let user_id = ruma::UserId::parse(&user.user_id).unwrap();
    let room_id = ruma::RoomId::parse(room).unwrap();
    let event_id = ruma::EventId::parse(event).unwrap();
    server.services().push.on_receipt(&user_id, &room_id, thread, &event_id).await.unwrap();
}

/// Retry `check` until it holds (for effects of background work), failing after 10 s.
pub(crate) async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
