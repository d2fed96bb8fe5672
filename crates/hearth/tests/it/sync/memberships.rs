//! Joins, invites, knocks, leaves and bans as sync reports them.

use serde_json::{Value, json};

use super::*;
use crate::{common::TestServer, rooms::create_room};

async fn membership(user: &User, room: &str, action: &str, body: Value) {
    let path = format!("/_matrix/client/v3/rooms/{}/{action}", enc(room));
    let (status, response) = user.post(&path, body).await;
    assert_eq!(status, 200, "{action}: {response}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_then_join_then_leave() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = create_room(&alice, json!({"name": "Den", "topic": "talk"})).await;
    say(&alice, &room, "a1", "before bob").await;
    let next = initial(&bob).await["next_batch"].clone();

    membership(&alice, &room, "invite", json!({"user_id": bob.user_id})).await;
    let body = since(&bob, &next).await;
    let invite = &body["rooms"]["invite"][&room]["invite_state"]["events"];
    let kinds: Vec<&str> =
        invite.as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    for kind in ["m.room.create", "m.room.name", "m.room.topic", "m.room.join_rules"] {
        assert!(kinds.contains(&kind), "{kind} missing from {invite}");
    }
    let own = invite.as_array().unwrap().iter().find(|e| e["state_key"] == bob.user_id).unwrap();
    assert_eq!(own["content"]["membership"], "invite");
    assert_eq!(own["sender"], alice.user_id);
    assert!(invite.as_array().unwrap().iter().any(|e| e["state_key"] == alice.user_id), "inviter");
    // Also in an initial sync, and not again in the next incremental one.
    assert!(initial(&bob).await["rooms"]["invite"][&room].is_object());
    let next = body["next_batch"].clone();
    assert!(since(&bob, &next).await.get("rooms").is_none());

    // Newly joined: the full state, and the timeline up to now.
    membership(&bob, &room, "join", json!({})).await;
    let body = since(&bob, &next).await;
    let room_body = joined(&body, &room);
    assert!(room_body.is_object(), "{body}");
    let mut all = keys(&room_body["state"]["events"]);
    all.extend(keys(&Value::Array(
        timeline(&body, &room)
            .into_iter()
            .filter(|e| e.get("state_key").is_some())
            .cloned()
            .collect(),
    )));
    for key in [("m.room.create", ""), ("m.room.name", ""), ("m.room.topic", "")] {
        assert!(
            all.contains(&(key.0.to_owned(), key.1.to_owned())),
            "{key:?} missing: {room_body}"
        );
    }
    assert_eq!(timeline(&body, &room).last().unwrap()["state_key"], bob.user_id);
    assert_eq!(room_body["summary"]["m.joined_member_count"], 2);
    assert!(body["rooms"]["invite"].get(&room).is_none());

    // Leaving: the room moves to `leave`, with the leave as the last event.
    let next = body["next_batch"].clone();
    say(&alice, &room, "a2", "bye bob").await;
    membership(&bob, &room, "leave", json!({})).await;
    say(&alice, &room, "a3", "after bob").await;
    let body = since(&bob, &next).await;
    assert!(joined(&body, &room).is_null());
    let left = &body["rooms"]["leave"][&room];
    let events: Vec<&Value> = left["timeline"]["events"].as_array().unwrap().iter().collect();
    assert_eq!(bodies(&events), ["bye bob"], "{left}");
    assert_eq!(events.last().unwrap()["content"]["membership"], "leave");
    assert!(left["state"]["events"].as_array().unwrap().is_empty());
    // Left rooms stay out of later syncs, unless asked for with include_leave.
    let next = body["next_batch"].clone();
    assert!(since(&bob, &next).await.get("rooms").is_none());
    assert!(initial(&bob).await.get("rooms").is_none());
    let body = filtered(&bob, json!({"room": {"include_leave": true}})).await;
    let events: Vec<&Value> =
        body["rooms"]["leave"][&room]["timeline"]["events"].as_array().unwrap().iter().collect();
    assert!(!bodies(&events).contains(&"after bob".to_owned()), "history after the leave: {body}");
    assert_eq!(events.last().unwrap()["content"]["membership"], "leave");
    // Forgotten rooms are gone even then.
    membership(&bob, &room, "forget", json!({})).await;
    let body = filtered(&bob, json!({"room": {"include_leave": true}})).await;
    assert!(body["rooms"]["leave"].get(&room).is_none(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bans_rejections_and_restricted_history() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = public_room(&alice).await;
    put_state(
        &alice,
        &room,
        "m.room.history_visibility",
        "",
        json!({"history_visibility": "joined"}),
    )
    .await;
    join(&bob, &room).await;
    let next = initial(&bob).await["next_batch"].clone();
    membership(&alice, &room, "ban", json!({"user_id": bob.user_id, "reason": "test"})).await;
    let body = since(&bob, &next).await;
    let events = &body["rooms"]["leave"][&room]["timeline"]["events"];
    assert_eq!(
        events.as_array().unwrap().last().unwrap()["content"]["membership"],
        "ban",
        "{body}"
    );

    // A rejected invite, under restricted history: the user sees their own leave.
    let other = create_room(&alice, json!({})).await;
    put_state(
        &alice,
        &other,
        "m.room.history_visibility",
        "",
        json!({"history_visibility": "joined"}),
    )
    .await;
    membership(&alice, &other, "invite", json!({"user_id": bob.user_id})).await;
    let next = since(&bob, &body["next_batch"]).await["next_batch"].clone();
    membership(&bob, &other, "leave", json!({})).await;
    let body = since(&bob, &next).await;
    let events = &body["rooms"]["leave"][&other]["timeline"]["events"];
    assert_eq!(events.as_array().unwrap().len(), 1, "{body}");
    assert_eq!(events[0]["content"]["membership"], "leave");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knocks_carry_knock_state() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = create_room(&alice, json!({"name": "Door"})).await;
    put_state(&alice, &room, "m.room.join_rules", "", json!({"join_rule": "knock"})).await;
    let next = initial(&bob).await["next_batch"].clone();
    let (status, body) = bob
        .post(&format!("/_matrix/client/v3/knock/{}", enc(&room)), json!({"reason": "hi"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let body = since(&bob, &next).await;
    let state = &body["rooms"]["knock"][&room]["knock_state"]["events"];
    let kinds: Vec<&str> =
        state.as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"m.room.name") && kinds.contains(&"m.room.join_rules"), "{body}");
    let own = state.as_array().unwrap().iter().find(|e| e["state_key"] == bob.user_id).unwrap();
    assert_eq!(own["content"]["membership"], "knock");
    assert!(initial(&bob).await["rooms"]["knock"][&room].is_object());
}
