//! Connections: `pos` tokens, unknown and expired positions, retries, long-polling and bad
//! requests.

use serde_json::{Value, json};

use super::*;
use crate::{
    common::{TestServer, assert_error},
    rooms::create_room,
    sync::{join, public_room, say},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_advertise_simplified_sliding_sync() {
    let server = TestServer::start().await;
    let (status, body) = server.client().get("/_matrix/client/versions").await;
    assert_eq!(status, 200);
    assert_eq!(body["unstable_features"]["org.matrix.simplified_msc3575"], true, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_wakes_on_a_message_in_a_room_in_scope() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let shared = public_room(&alice).await;
    join(&bob, &shared).await;
    let elsewhere = create_room(&alice, json!({})).await;
    let body = json!({"lists": {"all": list(json!([[0, 9]]), 1, json!([]))}});
    let first = ss(&bob, None, body.clone()).await;

    // A message in a room bob is not in: the wait runs out with nothing.
    let waiting = spawn_wait(&bob, &first["pos"], body.clone(), 300);
    say(&alice, &elsewhere, "e1", "not for bob").await;
    let idle = waiting.await.unwrap();
    assert!(idle.get("rooms").is_none(), "woken for another room: {idle}");
    assert_eq!(idle["lists"]["all"]["count"], 1);

    // A message in the shared room wakes him with it.
    let waiting = spawn_wait(&bob, &idle["pos"], body, 60_000);
    say(&alice, &shared, "s1", "hello bob").await;
    let woken = waiting.await.unwrap();
    assert_eq!(texts(&woken, &shared), ["hello bob"]);
    assert_eq!(result(&woken, &shared)["num_live"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_wakes_for_a_new_invite_and_to_device() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let body = json!({
        "lists": {"all": list(json!([[0, 9]]), 1, json!([]))},
        "extensions": {"to_device": {"enabled": true}},
    });
    let first = ss(&bob, None, body.clone()).await;
    let waiting = spawn_wait(&bob, &first["pos"], body.clone(), 60_000);
    let invited = create_room(&alice, json!({"invite": [bob.user_id]})).await;
    let woken = waiting.await.unwrap();
    assert!(result(&woken, &invited)["invite_state"].is_array(), "{woken}");

    let waiting = spawn_wait(&bob, &woken["pos"], body, 60_000);
    let message = json!({"messages": {&bob.user_id: {&bob.device_id: {"hi": 1}}}});
    let (status, _) = alice.put("/_matrix/client/v3/sendToDevice/m.test/t1", message).await;
    assert_eq!(status, 200);
    let woken = waiting.await.unwrap();
    assert_eq!(woken["extensions"]["to_device"]["events"][0]["content"]["hi"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_stale_positions_start_the_connection_over() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = create_room(&alice, json!({})).await;
    let body = json!({"conn_id": "main", "lists": {"all": list(json!([[0, 9]]), 1, json!([]))}});
    let first = ss(&alice, None, body.clone()).await;

    // A retry with the same `pos` is answered again, as often as needed.
    say(&alice, &room, "m1", "one").await;
    let retry_a = ss(&alice, Some(&first["pos"]), body.clone()).await;
    let retry_b = ss(&alice, Some(&first["pos"]), body.clone()).await;
    assert_eq!(texts(&retry_a, &room), ["one"]);
    assert_eq!(texts(&retry_b, &room), ["one"]);
    // Once the client moved on, the older position is forgotten.
    ss(&alice, Some(&retry_b["pos"]), body.clone()).await;
    let stale = alice.post(&path(Some(&first["pos"]), 0), body.clone()).await;
    assert_error(&stale, 400, "M_UNKNOWN_POS");

    // Another connection's position, a made-up one, and one from before a restart of the
    // connection are all unknown.
    let other = json!({"conn_id": "other", "lists": {}});
    assert_error(&alice.post(&path(Some(&retry_b["pos"]), 0), other).await, 400, "M_UNKNOWN_POS");
    let made_up = json!("12345/s1_1");
    assert_error(&alice.post(&path(Some(&made_up), 0), body.clone()).await, 400, "M_UNKNOWN_POS");
    let restarted = ss(&alice, None, body.clone()).await;
    assert_eq!(result(&restarted, &room)["initial"], true);
    let old = alice.post(&path(Some(&retry_b["pos"]), 0), body.clone()).await;
    assert_error(&old, 400, "M_UNKNOWN_POS");
    // Another user cannot use it either.
    let bob = server.register("bob").await;
    let theirs = bob.post(&path(Some(&restarted["pos"]), 0), body).await;
    assert_error(&theirs, 400, "M_UNKNOWN_POS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let missing = server.client().post(&path(None, 0), json!({})).await;
    assert_error(&missing, 401, "M_MISSING_TOKEN");
    let garbage = alice.post(&path(Some(&json!("garbage")), 0), json!({})).await;
    assert_error(&garbage, 400, "M_INVALID_PARAM");
    let backwards = json!({"lists": {"all": list(json!([[5, 2]]), 1, json!([]))}});
    assert_error(&alice.post(&path(None, 0), backwards).await, 400, "M_INVALID_PARAM");
    let bad_key = json!({"lists": {"no spaces please": list(json!([[0, 1]]), 1, json!([]))}});
    assert_error(&alice.post(&path(None, 0), bad_key).await, 400, "M_INVALID_PARAM");
    let too_many: serde_json::Map<String, Value> =
        (0..101).map(|i| (format!("l{i}"), list(json!([[0, 1]]), 1, json!([])))).collect();
    let body = json!({"lists": too_many});
    assert_error(&alice.post(&path(None, 0), body).await, 400, "M_INVALID_PARAM");
    let wrong_type = json!({"lists": {"all": {"ranges": "all of them", "timeline_limit": 1}}});
    assert_error(&alice.post(&path(None, 0), wrong_type).await, 400, "M_BAD_JSON");
    let not_json = alice.request_raw(reqwest::Method::POST, &path(None, 0), b"{nope").await;
    assert_error(&not_json, 400, "M_NOT_JSON");
    // Nothing asked: only a position.
    let empty = ss(&alice, None, json!({})).await;
    assert!(empty.get("rooms").is_none() && empty.get("lists").is_none(), "{empty}");
}
