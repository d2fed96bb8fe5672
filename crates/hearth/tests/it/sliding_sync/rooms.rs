//! Room results: `required_state` (wildcards, `$LAZY`, `$ME`), name, heroes and counts,
//! incremental deltas, timeline expansion and room subscriptions.

use serde_json::{Value, json};

use super::*;
use crate::{
    common::TestServer,
    rooms::create_room,
    sync::{join, public_room, put_state, say},
};

fn subscription(room: &str, timeline_limit: u64, required_state: Value) -> Value {
    json!({"room_subscriptions": {
        room: {"timeline_limit": timeline_limit, "required_state": required_state}
    }})
}

fn key(kind: &str, state_key: &str) -> (String, String) {
    (kind.to_owned(), state_key.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lazy_members_are_those_the_timeline_needs_once() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let room = public_room(&alice).await;
    join(&bob, &room).await;
    join(&carol, &room).await;
    say(&bob, &room, "b1", "hi from bob").await;
    let lazy = json!([["m.room.member", "$LAZY"], ["m.room.create", ""]]);

    // The timeline's one event is bob's: his member event, not carol's nor alice's.
    let first = ss(&alice, None, subscription(&room, 1, lazy.clone())).await;
    assert_eq!(texts(&first, &room), ["hi from bob"]);
    assert_eq!(
        state_keys(&first, &room),
        [key("m.room.create", ""), key("m.room.member", &bob.user_id)]
    );

    // Carol speaks: her member event now; bob's, already sent, not again.
    say(&carol, &room, "c1", "carol here").await;
    say(&bob, &room, "b2", "bob again").await;
    let second = ss(&alice, Some(&first["pos"]), subscription(&room, 1, lazy.clone())).await;
    assert_eq!(texts(&second, &room), ["bob again"]);
    assert_eq!(result(&second, &room)["limited"], true);
    assert_eq!(result(&second, &room)["num_live"], 1);
    let keys = state_keys(&second, &room);
    assert!(!keys.contains(&key("m.room.member", &bob.user_id)), "bob resent: {keys:?}");
    assert!(!keys.contains(&key("m.room.create", "")), "unchanged state resent: {keys:?}");

    // A wider timeline shows carol's message: her member event comes with it.
    let third = ss(&alice, Some(&second["pos"]), subscription(&room, 3, lazy)).await;
    assert_eq!(texts(&third, &room), ["hi from bob", "carol here", "bob again"]);
    assert_eq!(state_keys(&third, &room), [key("m.room.member", &carol.user_id)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_state_wildcards_and_me() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room =
        create_room(&alice, json!({"name": "Den", "topic": "t", "invite": [bob.user_id]})).await;
    join(&bob, &room).await;
    put_state(&alice, &room, "org.example.thing", "a", json!({"n": 1})).await;
    put_state(&alice, &room, "org.example.thing", "b", json!({"n": 2})).await;

    let get = |required: Value| {
        let alice = &alice;
        let room = room.clone();
        async move { state_keys(&ss(alice, None, subscription(&room, 0, required)).await, &room) }
    };
    assert_eq!(
        get(json!([["m.room.member", "$ME"]])).await,
        [key("m.room.member", &alice.user_id)]
    );
    assert_eq!(
        get(json!([["m.room.member", "*"]])).await,
        sorted_keys(&[key("m.room.member", &alice.user_id), key("m.room.member", &bob.user_id)])
    );
    assert_eq!(
        get(json!([["org.example.thing", "*"], ["m.room.name", ""]])).await,
        [key("m.room.name", ""), key("org.example.thing", "a"), key("org.example.thing", "b")]
    );
    assert_eq!(get(json!([["*", "b"]])).await, [key("org.example.thing", "b")]);
    let all = get(json!([["*", "*"]])).await;
    for expected in
        [key("m.room.create", ""), key("m.room.topic", ""), key("org.example.thing", "a")]
    {
        assert!(all.contains(&expected), "{expected:?} missing from {all:?}");
    }
    assert!(get(json!([])).await.is_empty());
}

fn sorted_keys(keys: &[(String, String)]) -> Vec<(String, String)> {
    let mut keys = keys.to_vec();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_responses_carry_only_the_changes() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = create_room(&alice, json!({"topic": "old topic"})).await;
    let quiet = create_room(&alice, json!({"name": "Quiet"})).await;
    let required = json!([["m.room.name", ""], ["m.room.topic", ""], ["m.room.member", "$LAZY"]]);
    let body = json!({"lists": {"all": list(json!([[0, 9]]), 5, required)}});

    let first = ss(&alice, None, body.clone()).await;
    let r = result(&first, &room);
    assert_eq!(r["initial"], true);
    assert!(r.get("name").is_none(), "no name set: {r}");
    // No name: heroes describe the room (alice alone: none but herself, who is left out).
    assert_eq!(r["heroes"], json!([]));
    assert_eq!(r["joined_count"], 1);
    assert_eq!(r["invited_count"], 0);
    assert_eq!(r["notification_count"], 0);
    assert!(r["prev_batch"].is_string());
    assert_eq!(result(&first, &quiet)["name"], "Quiet");
    assert!(result(&first, &quiet).get("heroes").is_none());

    // Nothing new: nothing sent.
    let idle = ss(&alice, Some(&first["pos"]), body.clone()).await;
    assert!(idle.get("rooms").is_none(), "{idle}");

    put_state(&alice, &room, "m.room.name", "", json!({"name": "Renamed"})).await;
    let invite = format!("/_matrix/client/v3/rooms/{}/invite", crate::rooms::enc(&room));
    let (status, _) = alice.post(&invite, json!({"user_id": bob.user_id})).await;
    assert_eq!(status, 200);
    say(&alice, &room, "m1", "after the rename").await;
    let second = ss(&alice, Some(&idle["pos"]), body).await;
    assert_eq!(room_ids(&second), [room.as_str()], "only the changed room");
    let r = result(&second, &room);
    assert!(r.get("initial").is_none(), "{r}");
    assert_eq!(r["name"], "Renamed");
    assert_eq!(r["invited_count"], 1);
    assert_eq!(r["num_live"], 3);
    let kinds: Vec<&str> =
        r["timeline"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["m.room.name", "m.room.member", "m.room.message"]);
    // The new name; the topic did not change; bob's invite is in the timeline and, lazily
    // loaded with no gap, in the state.
    assert_eq!(
        state_keys(&second, &room),
        [key("m.room.member", &bob.user_id), key("m.room.name", "")]
    );
    assert!(r.get("heroes").is_none(), "named now: {r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_larger_timeline_limit_resends_history_and_subscriptions_add_rooms() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = create_room(&alice, json!({})).await;
    for i in 0..4 {
        say(&alice, &room, &format!("t{i}"), &format!("m{i}")).await;
    }
    let older = create_room(&alice, json!({})).await;
    say(&alice, &older, "o", "older").await;
    let newest = create_room(&alice, json!({})).await;
    let forbidden = create_room(&bob, json!({})).await;

    let lists = json!({"all": list(json!([[0, 0]]), 1, json!([]))});
    let first = ss(&alice, None, json!({"lists": lists})).await;
    assert_eq!(room_ids(&first), [newest.as_str()]);

    // Subscribing adds a room outside the window with its own config; rooms the user may not
    // see, or that do not exist, are ignored.
    let mut body = json!({"lists": lists, "room_subscriptions": {
        &room: {"timeline_limit": 2, "required_state": []},
        &forbidden: {"timeline_limit": 2, "required_state": []},
        "!nowhere:localhost": {"timeline_limit": 2, "required_state": []},
    }});
    let second = ss(&alice, Some(&first["pos"]), body.clone()).await;
    assert_eq!(room_ids(&second), [room.as_str()]);
    assert_eq!(texts(&second, &room), ["m2", "m3"]);
    assert_eq!(result(&second, &room)["limited"], true);

    // A larger limit sends the latest events again, though none is new.
    body["room_subscriptions"][&room]["timeline_limit"] = json!(4);
    let third = ss(&alice, Some(&second["pos"]), body.clone()).await;
    assert_eq!(texts(&third, &room), ["m0", "m1", "m2", "m3"]);
    assert!(result(&third, &room).get("initial").is_none());
    // The same limit again: nothing to send.
    let fourth = ss(&alice, Some(&third["pos"]), body).await;
    assert!(fourth.get("rooms").is_none(), "{fourth}");
    let _ = older;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_counts_follow_messages_mentions_and_read_receipts() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = public_room(&alice).await;
    join(&bob, &room).await;
    let body = json!({"lists": {"all": list(json!([[0, 9]]), 1, json!([]))}});
    let first = ss(&alice, None, body.clone()).await;
    assert_eq!(result(&first, &room)["notification_count"], 0);

    say(&bob, &room, "b1", "hello").await;
    let mention = json!({"msgtype": "m.text", "body": "hey alice",
        "m.mentions": {"user_ids": [alice.user_id]}});
    let last = crate::rooms::send(&bob, &crate::rooms::enc(&room), "b2", mention).await;
    let second = ss(&alice, Some(&first["pos"]), body.clone()).await;
    assert_eq!(result(&second, &room)["notification_count"], 2, "{second}");
    assert_eq!(result(&second, &room)["highlight_count"], 1, "{second}");

    // Alice reads the room (from anywhere): the counts drop without a new event, and a
    // long-poll wakes with only them.
    let waiting = spawn_wait(&alice, &second["pos"], body.clone(), 60_000);
    let receipt = format!(
        "/_matrix/client/v3/rooms/{}/receipt/m.read/{}",
        crate::rooms::enc(&room),
        crate::rooms::enc(&last)
    );
    let (status, response) = alice.post(&receipt, json!({})).await;
    assert_eq!(status, 200, "{response}");
    let woken = waiting.await.unwrap();
    let r = result(&woken, &room);
    assert_eq!(r["notification_count"], 0, "{woken}");
    assert_eq!(r["highlight_count"], 0, "{woken}");
    assert!(r.get("timeline").is_none() && r.get("initial").is_none(), "{r}");

    // Counts already sent are not sent again.
    let idle = ss(&alice, Some(&woken["pos"]), body).await;
    assert!(idle.get("rooms").is_none(), "{idle}");
}
