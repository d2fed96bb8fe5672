//! Initial and incremental syncs, gaps, state deltas, `full_state`, `state_after`, tokens.

use serde_json::{Value, json};

use super::*;
use crate::{
    common::{TestServer, assert_error},
    rooms::{create_room, enc},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_then_incremental() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = create_room(&alice, json!({"name": "Den"})).await;
    let first = say(&alice, &room, "t1", "one").await;

    let body = initial(&alice).await;
    let next = body["next_batch"].clone();
    assert!(next.as_str().unwrap().starts_with('s'), "{body}");
    let events = timeline(&body, &room);
    assert_eq!(events[0]["type"], "m.room.create", "the whole short room is in the timeline");
    assert_eq!(events.last().unwrap()["event_id"], first);
    assert_eq!(events.last().unwrap()["unsigned"]["transaction_id"], "t1", "own device's txn");
    assert!(events.iter().all(|e| e.get("room_id").is_none()), "sync events omit room_id");
    let room_body = joined(&body, &room);
    assert_eq!(room_body["timeline"]["limited"], false);
    assert!(room_body["timeline"]["prev_batch"].is_string());
    assert_eq!(room_body["state"]["events"], json!([]), "state before the create event: none");
    assert_eq!(room_body["summary"]["m.joined_member_count"], 1);
    assert_eq!(room_body["unread_notifications"]["notification_count"], 0);

    let second = say(&alice, &room, "t2", "two").await;
    let body = since(&alice, &next).await;
    let events = timeline(&body, &room);
    assert_eq!(events.len(), 1, "{body}");
    assert_eq!(events[0]["event_id"], second);
    assert_eq!(joined(&body, &room)["timeline"]["limited"], false);
    assert_eq!(joined(&body, &room)["state"]["events"], json!([]));

    // Nothing new: no rooms at all, and the token still works.
    let again = since(&alice, &body["next_batch"]).await;
    assert!(again.get("rooms").is_none(), "{again}");
    assert!(again["device_one_time_keys_count"].is_object());
    assert!(again["device_unused_fallback_key_types"].is_array());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gappy_sync_is_limited_and_prev_batch_fills_the_gap() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = create_room(&alice, json!({})).await;
    let next = initial(&alice).await["next_batch"].clone();
    for i in 0..3 {
        say(&alice, &room, &format!("a{i}"), &format!("a{i}")).await;
    }
    put_state(&alice, &room, "m.room.topic", "", json!({"topic": "gap"})).await;
    for i in 0..4 {
        say(&alice, &room, &format!("b{i}"), &format!("b{i}")).await;
    }
    let limit2 = json!({"room": {"timeline": {"limit": 2}}});
    let body = since_filtered(&alice, &next, limit2).await;
    let room_body = joined(&body, &room);
    assert_eq!(room_body["timeline"]["limited"], true, "{body}");
    assert_eq!(bodies(&timeline(&body, &room)), ["b2", "b3"]);
    // The topic changed in the gap: it is in the state delta.
    assert_eq!(keys(&room_body["state"]["events"]), [("m.room.topic".to_owned(), String::new())]);
    // Backwards from prev_batch: the rest of the gap, then what the client had before.
    let prev = room_body["timeline"]["prev_batch"].as_str().unwrap();
    let base = format!("/_matrix/client/v3/rooms/{}/messages", enc(&room));
    let (status, page) = alice.get(&format!("{base}?dir=b&limit=3&from={}", q(prev))).await;
    assert_eq!(status, 200, "{page}");
    let chunk: Vec<&Value> = page["chunk"].as_array().unwrap().iter().collect();
    assert_eq!(bodies(&chunk), ["b1", "b0"]);
    assert_eq!(chunk[2]["type"], "m.room.topic");
    // Exactly the gap: forwards from the old token to prev_batch.
    let since_token = next.as_str().unwrap();
    let (_, page) =
        alice.get(&format!("{base}?dir=f&from={}&to={}", q(since_token), q(prev))).await;
    let chunk: Vec<&Value> = page["chunk"].as_array().unwrap().iter().collect();
    assert_eq!(bodies(&chunk), ["a0", "a1", "a2", "b0", "b1"], "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_state_and_state_after() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = create_room(&alice, json!({"name": "Den"})).await;
    let next = initial(&alice).await["next_batch"].clone();
    put_state(&alice, &room, "m.room.topic", "", json!({"topic": "new"})).await;

    // full_state: every state event before the timeline, though the client had them.
    let token = q(next.as_str().unwrap());
    let body = sync_with(&alice, &format!("since={token}&full_state=true")).await;
    let state = keys(&joined(&body, &room)["state"]["events"]);
    assert!(state.contains(&("m.room.name".to_owned(), String::new())), "{state:?}");
    assert!(state.contains(&("m.room.create".to_owned(), String::new())));
    assert!(!state.contains(&("m.room.topic".to_owned(), String::new())), "it is in the timeline");
    assert_eq!(bodies(&timeline(&body, &room)).len(), 0);
    assert_eq!(timeline(&body, &room).len(), 1, "the timeline is still only what is new");

    // use_state_after: `state_after` up to the end of the timeline, and no `state`.
    let body = sync_with(&alice, &format!("since={token}&use_state_after=true")).await;
    let room_body = joined(&body, &room);
    assert!(room_body.get("state").is_none(), "{room_body}");
    assert_eq!(
        keys(&room_body["state_after"]["events"]),
        [("m.room.topic".to_owned(), String::new())]
    );
    // Initially: state_after is the whole current state.
    let body = sync_with(&alice, "use_state_after=true").await;
    let state = keys(&joined(&body, &room)["state_after"]["events"]);
    assert!(state.contains(&("m.room.topic".to_owned(), String::new())));
    assert!(state.contains(&("m.room.create".to_owned(), String::new())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_old_and_future_tokens() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = create_room(&alice, json!({})).await;
    for bad in ["garbage", "s", "s1", "sx_1", "t5", "s1_2_3_4", "s1_2_9"] {
        let response = alice.get(&format!("/_matrix/client/v3/sync?since={}", q(bad))).await;
        assert_error(&response, 400, "M_INVALID_PARAM");
    }
    let old = initial(&alice).await["next_batch"].clone();
    say(&alice, &room, "t", "later").await;
    // A token from the future (another database): treated as now, never a 500.
    let body = sync_with(&alice, "since=s999999999_99999999999999").await;
    assert!(body["next_batch"].is_string());
    // An old token still works.
    let body = since(&alice, &old).await;
    assert_eq!(bodies(&timeline(&body, &room)), ["later"]);
    // Sync tokens work where clients hand them back: /messages, /members `at`, /keys/changes.
    let token = q(body["next_batch"].as_str().unwrap());
    let base = format!("/_matrix/client/v3/rooms/{}", enc(&room));
    let (status, page) = alice.get(&format!("{base}/messages?dir=b&limit=1&from={token}")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["chunk"][0]["content"]["body"], "later");
    let (status, members) = alice.get(&format!("{base}/members?at={token}")).await;
    assert_eq!(status, 200, "{members}");
    let old = q(old.as_str().unwrap());
    let (status, changes) =
        alice.get(&format!("/_matrix/client/v3/keys/changes?from={old}&to={token}")).await;
    assert_eq!(status, 200, "{changes}");
    // Unknown filter ID and bad inline filters.
    assert_error(&alice.get("/_matrix/client/v3/sync?filter=12345").await, 404, "M_NOT_FOUND");
    let bad = q(r#"{"room": {"timeline": {"limit": "ten"}}}"#);
    assert_error(
        &alice.get(&format!("/_matrix/client/v3/sync?filter={bad}")).await,
        400,
        "M_BAD_JSON",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redactions_memberships_and_bundled_aggregations() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = public_room(&alice).await;
    join(&bob, &room).await;
    let first = say(&alice, &room, "m1", "soon gone").await;
    let body = initial(&alice).await;
    let event = timeline(&body, &room).into_iter().find(|e| e["event_id"] == first).unwrap();
    assert_eq!(event["content"]["body"], "soon gone");
    assert_eq!(event["unsigned"]["membership"], "join", "MSC4115: {event}");
    assert!(event["unsigned"]["age"].is_u64());

    // Redacted after it was first served: served redacted from then on.
    let path = format!("/_matrix/client/v3/rooms/{}/redact/{}/r1", enc(&room), enc(&first));
    assert_eq!(alice.put(&path, json!({"reason": "oops"})).await.0, 200);
    let body = initial(&alice).await;
    let event = timeline(&body, &room).into_iter().find(|e| e["event_id"] == first).unwrap();
    assert_eq!(event["content"], json!({}), "{event}");
    assert_eq!(event["unsigned"]["redacted_because"]["content"]["reason"], "oops");

    // A thread root whose reply is not in the limited timeline carries the thread summary.
    for i in 0..3 {
        say(&alice, &room, &format!("f{i}"), "filler").await;
    }
    let root = say(&alice, &room, "root", "thread root").await;
    let reply = json!({"msgtype": "m.text", "body": "in thread",
        "m.relates_to": {"rel_type": "m.thread", "event_id": root}});
    crate::rooms::send(&bob, &enc(&room), "reply", reply).await;
    let filter = json!({"room": {"timeline": {"limit": 1, "not_senders": [bob.user_id]}}});
    let body = filtered(&alice, filter).await;
    let events = timeline(&body, &room);
    assert_eq!(events[0]["event_id"], root, "{body}");
    assert_eq!(joined(&body, &room)["timeline"]["limited"], true);
    assert_eq!(events[0]["unsigned"]["m.relations"]["m.thread"]["count"], 1, "{}", events[0]);
}
