//! Simplified sliding sync (MSC4186) as Element X uses it: `matrix-sdk-ui`'s `RoomListService`
//! lists the rooms, a room subscription and a `Timeline` open one, read its history back to
//! the start, send, and receive in real time; unread counts (the server's and the client's)
//! follow new messages and receipts. Its `SyncService` (room list and encryption connections)
//! starts over when the server no longer knows its `pos`.

use std::{sync::Arc, time::Duration};

use futures_util::{StreamExt, pin_mut};
use matrix_sdk::{
    Client, Room,
    ruma::{
        OwnedRoomId,
        api::{client::receipt::create_receipt::v3::ReceiptType, error::ErrorKind},
        events::room::message::RoomMessageEventContent,
    },
    sliding_sync::VersionBuilder,
};
use matrix_sdk_ui::{
    RoomListService, encryption_sync_service,
    eyeball_im::Vector,
    room_list_service::{self, RoomList, RoomListLoadingState, filters::new_filter_non_left},
    sync_service::{self, SyncService},
    timeline::{RoomExt, Timeline},
};
use serde_json::json;

use crate::common::{TestServer, User};

/// Long enough for any step on a loaded CI machine; a step that takes it has failed.
const STEP: Duration = Duration::from_secs(30);

async fn create_room(user: &User, body: serde_json::Value) -> String {
    let (status, body) = user.post("/_matrix/client/v3/createRoom", body).await;
    assert_eq!(status, 200, "createRoom: {body}");
    body["room_id"].as_str().unwrap().to_owned()
}

async fn say(user: &User, room: &str, txn: &str, text: &str) {
    let path = format!("/_matrix/client/v3/rooms/{room}/send/m.room.message/{txn}");
    let (status, body) = user.put(&path, json!({"msgtype": "m.text", "body": text})).await;
    assert_eq!(status, 200, "send: {body}");
}

async fn join(user: &User, room: &str) {
    let (status, body) = user.post(&format!("/_matrix/client/v3/join/{room}"), json!({})).await;
    assert_eq!(status, 200, "join: {body}");
}

/// A client logged in as `user` that discovers sliding sync from `/versions`, as Element X.
async fn sdk_client(server: &TestServer, user: &str) -> Client {
    let client = Client::builder()
        .homeserver_url(&server.base)
        .sliding_sync_version_builder(VersionBuilder::DiscoverNative)
        .build()
        .await
        .expect("client builds");
    client
        .matrix_auth()
        .login_username(user, "password123")
        .initial_device_display_name("sdk")
        .await
        .expect("login");
    client
}

/// Message bodies of a timeline, oldest first (remote events only).
async fn texts(timeline: &Timeline) -> Vec<String> {
    timeline
        .items()
        .await
        .iter()
        .filter_map(|item| item.as_event())
        .filter(|e| e.is_remote_event())
        .filter_map(|e| e.content().as_message().map(|m| m.body().to_owned()))
        .collect()
}

/// Wait for the timeline to satisfy `cond`, waking on each of its updates.
async fn timeline_until(timeline: &Timeline, cond: impl Fn(&[String]) -> bool) -> Vec<String> {
    let (_, stream) = timeline.subscribe().await;
    pin_mut!(stream);
    loop {
        let texts = texts(timeline).await;
        if cond(&texts) {
            return texts;
        }
        tokio::time::timeout(STEP, stream.next()).await.expect("timeline update").expect("open");
    }
}

/// Wait until the list has loaded and counts `rooms` rooms.
async fn wait_loaded(list: &RoomList, rooms: u32) {
    let mut loading = list.loading_state();
    loop {
        if let RoomListLoadingState::Loaded { maximum_number_of_rooms: Some(n) } = loading.get()
            && n == rooms
        {
            return;
        }
        tokio::time::timeout(STEP, loading.next()).await.expect("room list loads");
    }
}

/// Wait for the room to satisfy `cond`, waking on each change of its info.
async fn room_until(room: &Room, cond: impl Fn(&Room) -> bool) {
    let mut info = room.subscribe_info();
    while !cond(room) {
        tokio::time::timeout(STEP, info.next()).await.expect("room update").expect("open");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_list_history_send_receive_and_unread_counts() {
    let server = TestServer::start().await;
    let bob = server.register("bob").await;
    let alice = server.register("alice").await;
    let mut rooms = Vec::new();
    for name in ["History", "Quiet", "General"] {
        let room = create_room(&bob, json!({"name": name, "invite": [alice.user_id]})).await;
        join(&alice, &room).await;
        rooms.push(room);
    }
    let (history, general) = (rooms[0].clone(), rooms[2].clone());
    for i in 0..30 {
        say(&bob, &history, &format!("h{i}"), &format!("h{i}")).await;
    }
    say(&bob, &general, "g1", "unread one").await;

    let client = sdk_client(&server, "alice").await;
    let service = Arc::new(RoomListService::new(client.clone()).await.expect("room list service"));
    let syncing = {
        let service = service.clone();
        tokio::spawn(async move {
            let sync = service.sync();
            pin_mut!(sync);
            while let Some(result) = sync.next().await {
                result.expect("sliding sync");
            }
        })
    };

    // The room list: every room, by name.
    let all_rooms = service.all_rooms().await.expect("all rooms");
    wait_loaded(&all_rooms, 3).await;
    let (entries, controller) = all_rooms.entries_with_dynamic_adapters(50);
    pin_mut!(entries);
    controller.set_filter(Box::new(new_filter_non_left()));
    let mut listed: Vector<Room> = Vector::new();
    while listed.len() < 3 {
        let diffs = tokio::time::timeout(STEP, entries.next()).await.expect("entries").unwrap();
        for diff in diffs {
            diff.map(|item| item.into_inner()).apply(&mut listed);
        }
    }
    let mut names: Vec<String> =
        listed.iter().map(|r| r.cached_display_name().map(|n| n.to_string()).unwrap()).collect();
    names.sort();
    assert_eq!(names, ["General", "History", "Quiet"]);

    // Unread counts, computed from the synced events and read receipts: the list's one
    // event, then a new one, then none once alice has read the room.
    // The server's notification count says the same, and drops with the receipt too.
    let general_room = client.get_room(general.as_str().try_into().unwrap()).expect("known");
    room_until(&general_room, |r| {
        r.num_unread_messages() == 1 && r.unread_notification_counts().notification_count == 1
    })
    .await;
    say(&bob, &general, "g3", "unread three").await;
    room_until(&general_room, |r| {
        r.num_unread_messages() == 2 && r.unread_notification_counts().notification_count == 2
    })
    .await;
    let general_timeline = general_room.timeline().await.expect("timeline");
    general_timeline.mark_as_read(ReceiptType::Read).await.expect("read receipt");
    room_until(&general_room, |r| {
        r.num_unread_messages() == 0 && r.unread_notification_counts().notification_count == 0
    })
    .await;

    // Open the history room: subscribe, then read back to its start.
    let history_id: matrix_sdk::ruma::OwnedRoomId = history.as_str().try_into().unwrap();
    service.subscribe_to_rooms(&[&history_id]).await;
    let room = client.get_room(&history_id).expect("known");
    let timeline = room.timeline().await.expect("timeline");
    let mut at_start = false;
    for _ in 0..10 {
        at_start = timeline.paginate_backwards(20).await.expect("paginate");
        if at_start {
            break;
        }
    }
    assert!(at_start, "the start of the room is reachable");
    let seen = texts(&timeline).await;
    let expected: Vec<String> = (0..30).map(|i| format!("h{i}")).collect();
    assert_eq!(seen, expected);

    // Receive in real time.
    say(&bob, &history, "live", "live from bob").await;
    timeline_until(&timeline, |t| t.last().is_some_and(|m| m == "live from bob")).await;

    // Send: the event comes back from the server, and bob reads it.
    timeline
        .send(RoomMessageEventContent::text_plain("hello from alice").into())
        .await
        .expect("send");
    timeline_until(&timeline, |t| t.last().is_some_and(|m| m == "hello from alice")).await;
    let (status, messages) =
        bob.get(&format!("/_matrix/client/v3/rooms/{history}/messages?dir=b&limit=1")).await;
    assert_eq!(status, 200);
    assert_eq!(messages["chunk"][0]["content"]["body"], "hello from alice");

    service.stop_sync().expect("stop");
    let _ = syncing.await;
}

/// Whether the sync service stopped because the server did not know a connection's `pos`.
fn unknown_pos(error: &sync_service::Error) -> bool {
    let sdk = match error {
        sync_service::Error::RoomList(room_list_service::Error::SlidingSync(e)) => e,
        sync_service::Error::EncryptionSync(encryption_sync_service::Error::SlidingSync(e)) => e,
        _ => return false,
    };
    sdk.client_api_error_kind() == Some(&ErrorKind::UnknownPos)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_service_starts_over_when_the_server_forgot_its_connections() {
    let server = TestServer::start().await;
    let bob = server.register("bob").await;
    let alice = server.register("alice").await;
    let lobby = create_room(&bob, json!({"name": "Lobby", "invite": [alice.user_id]})).await;
    join(&alice, &lobby).await;
    say(&bob, &lobby, "b1", "before").await;

    // Both of Element X's connections: the room list, and to-device and e2ee.
    let client = sdk_client(&server, "alice").await;
    let sync = SyncService::builder(client.clone()).build().await.expect("sync service");
    sync.start().await;
    wait_loaded(&sync.room_list_service().all_rooms().await.expect("all rooms"), 1).await;
    let lobby_id: OwnedRoomId = lobby.as_str().try_into().unwrap();
    let room = client.get_room(&lobby_id).expect("known");
    room_until(&room, |r| r.unread_notification_counts().notification_count == 1).await;

    // The app sleeps while the server forgets its connections (as when their states expire
    // or the server restarts; a restart here would also leave the SDK pooled connections to
    // retry).
    sync.stop().await;
    let device = client.device_id().expect("logged in");
    server.services().sliding_sync.forget_device(client.user_id().expect("logged in"), device);
    say(&bob, &lobby, "b2", "while away").await;

    // A request with the old `pos` gets M_UNKNOWN_POS and the service stops with that error;
    // started again, it syncs from scratch. Whether a connection still holds its old `pos`
    // depends on where `stop` cut its last request off, so the error is handled when it comes
    // rather than required (the server's answer to an unknown `pos` has its own HTTP test).
    let mut state = sync.state();
    sync.start().await;
    let deadline = tokio::time::Instant::now() + STEP;
    while room.unread_notification_counts().notification_count != 2 {
        assert!(tokio::time::Instant::now() < deadline, "the client recovers");
        let Ok(next) = tokio::time::timeout(Duration::from_millis(100), state.next()).await else {
            continue;
        };
        if let sync_service::State::Error(error) = next.expect("open") {
            assert!(unknown_pos(&error), "{error:?}");
            sync.start().await;
        }
    }
    // The new message is live; the one from before is back in history.
    let timeline = room.timeline().await.expect("timeline");
    timeline_until(&timeline, |t| t.last().is_some_and(|m| m == "while away")).await;
    let expected = ["before".to_owned(), "while away".to_owned()];
    let mut seen = texts(&timeline).await;
    while !seen.ends_with(&expected) {
        let at_start = timeline.paginate_backwards(10).await.expect("paginate");
        seen = texts(&timeline).await;
        assert!(!at_start || seen.ends_with(&expected), "{seen:?}");
    }
    sync.stop().await;
}
