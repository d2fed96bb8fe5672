//! The per-device sections: to-device messages, device lists, one-time key counts.

use serde_json::{Value, json};

use super::*;
use crate::{common::TestServer, crypto::Device};

async fn send_to_device(from: &User, to: &User, txn: &str, n: u64) {
    let body = json!({"messages": {&to.user_id: {&to.device_id: {"n": n}}}});
    let (status, body) =
        from.put(&format!("/_matrix/client/v3/sendToDevice/m.test/{txn}"), body).await;
    assert_eq!(status, 200, "{body}");
}

fn numbers(body: &Value) -> Vec<u64> {
    body["to_device"]["events"]
        .as_array()
        .map(|a| a.iter().map(|e| e["content"]["n"].as_u64().unwrap()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn to_device_messages_arrive_once_and_carry_over_past_a_hundred() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    send_to_device(&alice, &bob, "t0", 0).await;
    // Pending messages come with the initial sync.
    let body = initial(&bob).await;
    assert_eq!(numbers(&body), [0]);
    assert_eq!(body["to_device"]["events"][0]["sender"], alice.user_id);
    assert_eq!(body["to_device"]["events"][0]["type"], "m.test");
    // ... and not again once the client syncs on from there.
    let body = since(&bob, &body["next_batch"]).await;
    assert!(numbers(&body).is_empty(), "{body}");

    for n in 1..=101 {
        send_to_device(&alice, &bob, &format!("t{n}"), n).await;
    }
    let first = since(&bob, &body["next_batch"]).await;
    assert_eq!(numbers(&first), (1..=100).collect::<Vec<_>>());
    let second = since(&bob, &first["next_batch"]).await;
    assert_eq!(numbers(&second), [101], "the rest comes next: {second}");
    let third = since(&bob, &second["next_batch"]).await;
    assert!(numbers(&third).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_lists_and_key_counts() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = public_room(&alice).await;
    join(&bob, &room).await;
    let next = initial(&alice).await["next_batch"].clone();

    let device = Device::of(&bob);
    let upload = json!({
        "device_keys": device.device_keys(),
        "one_time_keys": device.one_time_keys(&["a", "b"]),
        "fallback_keys": device.fallback_key("f"),
    });
    let (status, body) = bob.post("/_matrix/client/v3/keys/upload", upload).await;
    assert_eq!(status, 200, "{body}");
    let body = since(&alice, &next).await;
    assert_eq!(body["device_lists"]["changed"], json!([bob.user_id]), "{body}");
    let bob_body = initial(&bob).await;
    assert_eq!(bob_body["device_one_time_keys_count"]["signed_curve25519"], 2);
    assert_eq!(bob_body["device_unused_fallback_key_types"], json!(["signed_curve25519"]));
    assert!(bob_body.get("device_lists").is_none(), "not on an initial sync");

    // Bob leaves the only room they share: alice is told in `left`.
    let next = body["next_batch"].clone();
    let (status, _) =
        bob.post(&format!("/_matrix/client/v3/rooms/{}/leave", enc(&room)), json!({})).await;
    assert_eq!(status, 200);
    let body = since(&alice, &next).await;
    assert_eq!(body["device_lists"]["left"], json!([bob.user_id]), "{body}");
}
