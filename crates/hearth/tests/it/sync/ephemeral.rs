//! Typing notifications, receipts and read markers in sync.

use serde_json::{Value, json};

use super::*;
use crate::{
    common::{TestServer, assert_error},
    rooms::create_room,
};

fn ephemeral<'a>(body: &'a Value, room: &str, kind: &str) -> Option<&'a Value> {
    joined(body, room)["ephemeral"]["events"].as_array()?.iter().find(|e| e["type"] == kind)
}

async fn typing(user: &User, room: &str, body: Value) -> (reqwest::StatusCode, Value) {
    let path = format!("/_matrix/client/v3/rooms/{}/typing/{}", enc(room), enc(&user.user_id));
    user.put(&path, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_starts_stops_and_times_out() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = public_room(&alice).await;
    join(&bob, &room).await;
    let next = initial(&bob).await["next_batch"].clone();

    assert_eq!(typing(&alice, &room, json!({"typing": true, "timeout": 30000})).await.0, 200);
    let body = since(&bob, &next).await;
    let event = ephemeral(&body, &room, "m.typing").expect("typing event");
    assert_eq!(event["content"]["user_ids"], json!([alice.user_id]));
    // In an initial sync too, while it lasts.
    let fresh = initial(&bob).await;
    assert_eq!(
        ephemeral(&fresh, &room, "m.typing").unwrap()["content"]["user_ids"][0],
        alice.user_id
    );
    // Typing again changes nothing others see.
    let next = body["next_batch"].clone();
    assert_eq!(typing(&alice, &room, json!({"typing": true, "timeout": 30000})).await.0, 200);
    assert!(ephemeral(&since(&bob, &next).await, &room, "m.typing").is_none());
    // Stopping: an empty list.
    assert_eq!(typing(&alice, &room, json!({"typing": false})).await.0, 200);
    let body = since(&bob, &next).await;
    assert_eq!(ephemeral(&body, &room, "m.typing").unwrap()["content"]["user_ids"], json!([]));

    // A short timeout: the expiry itself wakes bob's long-poll with the empty list.
    assert_eq!(typing(&alice, &room, json!({"typing": true, "timeout": 100})).await.0, 200);
    let mut token = body["next_batch"].clone();
    let mut expired = false;
    for _ in 0..20 {
        let query = format!("since={}&timeout=30000", q(token.as_str().unwrap()));
        let body = sync_with(&bob, &query).await;
        token = body["next_batch"].clone();
        let typing = ephemeral(&body, &room, "m.typing").map(|e| e["content"]["user_ids"].clone());
        if typing == Some(json!([])) {
            expired = true;
            break;
        }
    }
    assert!(expired, "the typing notification never expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_errors() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = create_room(&alice, json!({})).await;
    // Not in the room.
    assert_error(
        &typing(&bob, &room, json!({"typing": true, "timeout": 1000})).await,
        403,
        "M_FORBIDDEN",
    );
    // For someone else.
    let path = format!("/_matrix/client/v3/rooms/{}/typing/{}", enc(&room), enc(&bob.user_id));
    assert_error(
        &alice.put(&path, json!({"typing": true, "timeout": 1000})).await,
        403,
        "M_FORBIDDEN",
    );
    // Malformed bodies.
    assert_error(&typing(&alice, &room, json!({"typing": "yes"})).await, 400, "M_BAD_JSON");
    assert_error(&typing(&alice, &room, json!({"timeout": 1000})).await, 400, "M_BAD_JSON");
    // Without a timeout, Synapse's default applies: accepted.
    let (status, body) = typing(&alice, &room, json!({"typing": true})).await;
    assert_eq!(status, 200, "{body}");
}

async fn receipt(
    user: &User,
    room: &str,
    kind: &str,
    event: &str,
    body: Value,
) -> (reqwest::StatusCode, Value) {
    let path = format!("/_matrix/client/v3/rooms/{}/receipt/{kind}/{}", enc(room), enc(event));
    user.post(&path, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_public_private_and_threaded() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = public_room(&alice).await;
    join(&bob, &room).await;
    let first = say(&alice, &room, "m1", "one").await;
    let second = say(&alice, &room, "m2", "two").await;
    let alice_next = initial(&alice).await["next_batch"].clone();
    let bob_next = initial(&bob).await["next_batch"].clone();

    assert_eq!(receipt(&bob, &room, "m.read", &second, json!({})).await.0, 200);
    assert_eq!(receipt(&bob, &room, "m.read.private", &second, json!({})).await.0, 200);
    assert_eq!(receipt(&bob, &room, "m.read", &first, json!({"thread_id": "main"})).await.0, 200);

    let body = since(&alice, &alice_next).await;
    let content = &ephemeral(&body, &room, "m.receipt").expect("receipts")["content"];
    assert!(content[&second]["m.read"][&bob.user_id]["ts"].is_u64(), "{content}");
    assert!(content[&second]["m.read"][&bob.user_id].get("thread_id").is_none());
    assert_eq!(content[&first]["m.read"][&bob.user_id]["thread_id"], "main");
    assert!(content[&second].get("m.read.private").is_none(), "private receipts stay private");

    let body = since(&bob, &bob_next).await;
    let content = &ephemeral(&body, &room, "m.receipt").expect("own receipts")["content"];
    assert!(content[&second]["m.read.private"][&bob.user_id]["ts"].is_u64(), "{content}");

    // Initial syncs carry the latest receipts; others' private ones still left out.
    let body = initial(&alice).await;
    let content = &ephemeral(&body, &room, "m.receipt").unwrap()["content"];
    assert!(content[&second]["m.read"][&bob.user_id].is_object());
    assert!(content[&second].get("m.read.private").is_none());

    // A receipt never moves back: an older event changes nothing.
    let next = body["next_batch"].clone();
    assert_eq!(receipt(&bob, &room, "m.read", &first, json!({})).await.0, 200);
    assert!(ephemeral(&since(&alice, &next).await, &room, "m.receipt").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipt_errors() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = create_room(&alice, json!({})).await;
    let event = say(&alice, &room, "m1", "one").await;
    let other_room = create_room(&alice, json!({})).await;
    let elsewhere = say(&alice, &other_room, "m2", "two").await;
    assert_error(&receipt(&bob, &room, "m.read", &event, json!({})).await, 403, "M_FORBIDDEN");
    assert_error(&receipt(&alice, &room, "m.read", "$nope", json!({})).await, 404, "M_NOT_FOUND");
    assert_error(
        &receipt(&alice, &room, "m.read", &elsewhere, json!({})).await,
        404,
        "M_NOT_FOUND",
    );
    assert_error(
        &receipt(&alice, &room, "m.unknown", &event, json!({})).await,
        400,
        "M_INVALID_PARAM",
    );
    let empty = json!({"thread_id": ""});
    assert_error(&receipt(&alice, &room, "m.read", &event, empty).await, 400, "M_INVALID_PARAM");
    let main = json!({"thread_id": "main"});
    assert_error(
        &receipt(&alice, &room, "m.fully_read", &event, main).await,
        400,
        "M_INVALID_PARAM",
    );
    let path = format!("/_matrix/client/v3/rooms/{}/read_markers", enc(&room));
    assert_error(&bob.post(&path, json!({"m.fully_read": event})).await, 403, "M_FORBIDDEN");
    assert_error(&alice.post(&path, json!({"m.read": "$nope"})).await, 404, "M_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_markers_set_fully_read_and_receipts() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = public_room(&alice).await;
    join(&bob, &room).await;
    let first = say(&alice, &room, "m1", "one").await;
    let second = say(&alice, &room, "m2", "two").await;
    let bob_next = initial(&bob).await["next_batch"].clone();
    let alice_next = initial(&alice).await["next_batch"].clone();

    let path = format!("/_matrix/client/v3/rooms/{}/read_markers", enc(&room));
    let markers = json!({"m.fully_read": second, "m.read": second, "m.read.private": first});
    assert_eq!(bob.post(&path, markers).await.0, 200);
    let body = since(&bob, &bob_next).await;
    let data = &joined(&body, &room)["account_data"]["events"];
    assert_eq!(data[0]["type"], "m.fully_read", "{body}");
    assert_eq!(data[0]["content"]["event_id"], second);
    let content = &ephemeral(&body, &room, "m.receipt").unwrap()["content"];
    assert!(content[&second]["m.read"][&bob.user_id].is_object());
    assert!(content[&first]["m.read.private"][&bob.user_id].is_object());
    // The fully-read marker through /receipt, and it does not move back.
    assert_eq!(receipt(&bob, &room, "m.fully_read", &first, json!({})).await.0, 200);
    let body = initial(&bob).await;
    let data = &joined(&body, &room)["account_data"]["events"];
    assert_eq!(data[0]["content"]["event_id"], second, "{body}");
    // Alice sees the public receipt only.
    let body = since(&alice, &alice_next).await;
    let content = &ephemeral(&body, &room, "m.receipt").unwrap()["content"];
    assert!(content[&second]["m.read"][&bob.user_id].is_object());
    assert!(content.get(&first).is_none(), "{content}");
    assert!(joined(&body, &room)["account_data"]["events"].as_array().unwrap().is_empty());
    // Clients cannot write m.fully_read directly.
    let direct = format!(
        "/_matrix/client/v3/user/{}/rooms/{}/account_data/m.fully_read",
        enc(&bob.user_id),
        enc(&room)
    );
    assert_error(&bob.put(&direct, json!({"event_id": first})).await, 405, "M_BAD_JSON");
}
