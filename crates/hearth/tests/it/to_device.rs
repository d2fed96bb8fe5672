//! Send-to-device messaging: `PUT /sendToDevice/{eventType}/{txnId}`, and delivery through the
//! service API that `/sync` uses.

use std::time::Duration;

use hearth_service::e2ee::ToDeviceBatch;
use ruma::{OwnedDeviceId, OwnedUserId};
use serde_json::{Value, json};

use crate::{
    common::{TestServer, User, assert_error},
    e2ee_support::{delete_device, login},
};

fn send_path(event_type: &str, txn: &str) -> String {
    format!("/_matrix/client/v3/sendToDevice/{event_type}/{txn}")
}

fn ids(user: &User) -> (OwnedUserId, OwnedDeviceId) {
    (user.user_id.as_str().try_into().unwrap(), user.device_id.as_str().into())
}

/// What the device would get from `/sync` now.
async fn pending(server: &TestServer, user: &User) -> ToDeviceBatch {
    let (user_id, device_id) = ids(user);
    let now = server.services().ctx.storage.current_stream_pos();
    server.services().e2ee.to_device_messages(&user_id, &device_id, 0, now, 100).await.unwrap()
}

fn contents(batch: &ToDeviceBatch) -> Vec<Value> {
    batch.events.iter().map(|e| serde_json::from_str::<Value>(e.json().get()).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_arrive_in_order_once_per_transaction() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.register("alice").await, server.register("bob").await);
    let (bob_id, _) = ids(&bob);
    let watch = server.services().ctx.notifier.watch(&bob_id, []);

    for (txn, n) in [("t1", 1), ("t1", 99), ("t2", 2)] {
        let body = json!({"messages": {&bob.user_id: {&bob.device_id: {"n": n}}}});
        let (status, body) = alice.put(&send_path("m.test", txn), body).await;
        assert_eq!(status, 200, "{body}");
    }
    assert!(watch.wait(Duration::from_secs(10)).await, "bob's long-poll is woken");

    let batch = pending(&server, &bob).await;
    let events = contents(&batch);
    assert_eq!(events.len(), 2, "the repeated transaction was not sent again: {events:?}");
    assert_eq!(events[0], json!({"sender": alice.user_id, "type": "m.test", "content": {"n": 1}}));
    assert_eq!(events[1]["content"], json!({"n": 2}));
    assert!(!batch.limited);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn star_reaches_every_device_and_unknown_devices_are_dropped() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let bob2 = login(&server, "bob").await;
    let body = json!({"messages": {
        &bob.user_id: {"*": {"all": true}},
        &alice.user_id: {"NODEVICE": {"lost": true}},
        "@carol:remote.example": {"DEV": {"remote": true}},
    }});
    let (status, body) = alice.put(&send_path("m.test", "1"), body).await;
    assert_eq!(status, 200, "{body}");
    for device in [&bob, &bob2] {
        assert_eq!(contents(&pending(&server, device).await)[0]["content"], json!({"all": true}));
    }
    assert!(pending(&server, &alice).await.events.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmed_messages_are_deleted_and_batches_are_limited() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.register("alice").await, server.register("bob").await);
    for n in 0..3 {
        let body = json!({"messages": {&bob.user_id: {&bob.device_id: {"n": n}}}});
        assert_eq!(alice.put(&send_path("m.test", &n.to_string()), body).await.0, 200);
    }
    let (bob_id, bob_device) = ids(&bob);
    let e2ee = &server.services().e2ee;
    let now = server.services().ctx.storage.current_stream_pos();
    let first = e2ee.to_device_messages(&bob_id, &bob_device, 0, now, 2).await.unwrap();
    assert_eq!(first.events.len(), 2);
    assert!(first.limited);
    let seen = first.last_pos.unwrap();

    // Not confirmed yet: still there.
    assert_eq!(pending(&server, &bob).await.events.len(), 3);
    e2ee.confirm_to_device(&bob_id, &bob_device, seen).await.unwrap();
    let rest = pending(&server, &bob).await;
    assert_eq!(
        contents(&rest).iter().map(|e| e["content"]["n"].clone()).collect::<Vec<_>>(),
        [json!(2)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_device_drops_its_messages() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.register("alice").await, server.register("bob").await);
    let bob2 = login(&server, "bob").await;
    let body = json!({"messages": {&bob.user_id: {&bob2.device_id: {"n": 1}}}});
    assert_eq!(alice.put(&send_path("m.test", "1"), body.clone()).await.0, 200);
    delete_device(&bob, &bob2.device_id).await;
    assert!(pending(&server, &bob2).await.events.is_empty());
    assert_eq!(alice.put(&send_path("m.test", "2"), body).await.0, 200);
    assert!(pending(&server, &bob2).await.events.is_empty(), "a deleted device gets nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_or_malformed_messages_are_refused_whole() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.register("alice").await, server.register("bob").await);
    let big = "x".repeat(hearth_service::e2ee::MAX_TO_DEVICE_EVENT_BYTES);
    let body = json!({"messages": {&bob.user_id: {
        "*": {"small": true},
        &bob.device_id: {"big": big},
    }}});
    assert_error(&alice.put(&send_path("m.test", "1"), body).await, 413, "M_TOO_LARGE");
    let body = json!({"messages": {&bob.user_id: {&bob.device_id: "not an object"}}});
    assert_error(&alice.put(&send_path("m.test", "2"), body).await, 400, "M_BAD_JSON");
    let body = json!({"messages": {"bob": {"D": {}}}});
    assert_error(&alice.put(&send_path("m.test", "3"), body).await, 400, "M_BAD_JSON");
    assert_error(&alice.put(&send_path("m.test", "4"), json!({})).await, 400, "M_BAD_JSON");
    assert!(pending(&server, &bob).await.events.is_empty());
    let unauthenticated =
        server.client().put(&send_path("m.test", "5"), json!({"messages": {}})).await;
    assert_error(&unauthenticated, 401, "M_MISSING_TOKEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_key_requests_to_others_beyond_the_limit_are_dropped() {
    let server = TestServer::start_with(|c| {
        c.rate_limits.enabled = true;
        c.rate_limits.key_requests_per_device =
            hearth_core::config::Rate { per_second: 0.001, burst: 2 };
    })
    .await;
    let (alice, bob) = (server.register("alice").await, server.register("bob").await);
    let bob2 = login(&server, "bob").await;
    let request = |user: &User, device: &str, n: u32| json!({"messages": {&user.user_id: {device: {"action": "request", "n": n}}}});
    for n in 0..4 {
        let (status, body) = bob
            .put(
                &send_path("m.room_key_request", &format!("a{n}")),
                request(&alice, &alice.device_id, n),
            )
            .await;
        assert_eq!(status, 200, "the sender is not told: {body}");
    }
    let got: Vec<Value> = contents(&pending(&server, &alice).await)
        .iter()
        .map(|e| e["content"]["n"].clone())
        .collect();
    assert_eq!(got, [json!(0), json!(1)], "two within the burst, the rest dropped");

    // Requests to one's own devices are not limited, nor are other message types.
    for n in 0..3 {
        let path = send_path("m.room_key_request", &format!("b{n}"));
        assert_eq!(bob.put(&path, request(&bob2, &bob2.device_id, n)).await.0, 200);
    }
    assert_eq!(pending(&server, &bob2).await.events.len(), 3);
    let body = json!({"messages": {&alice.user_id: {&alice.device_id: {"other": true}}}});
    assert_eq!(bob.put(&send_path("m.test", "c"), body).await.0, 200);
    assert_eq!(pending(&server, &alice).await.events.len(), 3);
}
