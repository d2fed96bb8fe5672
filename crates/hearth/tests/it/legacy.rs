//! The deprecated v1 sync endpoints: `/events`, `/events/{eventId}`, `/initialSync` and
//! `/rooms/{roomId}/initialSync`.

use serde_json::{Value, json};

use crate::{
    common::{TestServer, User, assert_error},
    rooms::{create_room, enc, send},
};

/// `GET /events` from `from` without waiting; returns the page.
async fn events(user: &User, query: &str) -> Value {
    let (status, page) = user.get(&format!("/_matrix/client/v3/events?timeout=0&{query}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page["start"].is_string() && page["end"].is_string(), "{page}");
    page
}

fn of_type<'a>(page: &'a Value, kind: &str) -> Vec<&'a Value> {
    page["chunk"].as_array().unwrap().iter().filter(|e| e["type"] == kind).collect()
}

fn text(body: &str) -> Value {
    json!({"msgtype": "m.text", "body": body})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_stream_pages_in_order() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = create_room(&alice, json!({})).await;
    // Without `from`: nothing yet, from now.
    let first = events(&alice, "").await;
    assert!(first["chunk"].as_array().unwrap().is_empty(), "{first}");
    let from = first["end"].as_str().unwrap().to_owned();
    let mut sent = Vec::new();
    for i in 0..3 {
        sent.push(send(&alice, &enc(&room), &i.to_string(), text(&format!("m{i}"))).await);
    }
    let page = events(&alice, &format!("from={from}&limit=2")).await;
    let ids: Vec<&Value> =
        of_type(&page, "m.room.message").iter().map(|e| &e["event_id"]).collect();
    assert_eq!(ids, [&json!(sent[0]), &json!(sent[1])], "{page}");
    let message = of_type(&page, "m.room.message")[0];
    // The v1 format: the sender also as `user_id`, `age` at the top level, the room named.
    assert_eq!(message["user_id"], alice.user_id);
    assert_eq!(message["room_id"], room);
    assert!(message["age"].is_u64(), "{message}");
    let page = events(&alice, &format!("from={}", page["end"].as_str().unwrap())).await;
    let ids: Vec<&Value> =
        of_type(&page, "m.room.message").iter().map(|e| &e["event_id"]).collect();
    assert_eq!(ids, [&json!(sent[2])], "the rest, nothing twice: {page}");
    let page = events(&alice, &format!("from={}", page["end"].as_str().unwrap())).await;
    assert!(page["chunk"].as_array().unwrap().is_empty(), "{page}");

    // Bad parameters.
    for query in ["limit=hello", "limit=-2", "timeout=hello", "from=nonsense"] {
        let path = format!("/_matrix/client/v3/events?{query}");
        assert_error(&alice.get(&path).await, 400, "M_INVALID_PARAM");
    }
    assert_error(&server.client().get("/_matrix/client/r0/events").await, 401, "M_MISSING_TOKEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_stream_waits_for_new_events() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = enc(&create_room(&alice, json!({})).await);
    let from = events(&alice, "").await["end"].as_str().unwrap().to_owned();
    let waiting = {
        let client = alice.client.clone();
        tokio::spawn(async move {
            client.get(&format!("/_matrix/client/r0/events?timeout=20000&from={from}")).await
        })
    };
    // The long-poll returns with the event once it is sent (the test does not wait 20 s);
    // sent before the request arrives, it is found at once since it follows `from`.
    let sent = send(&alice, &room, "1", text("wake up")).await;
    let (status, page) = waiting.await.unwrap();
    assert_eq!(status, 200, "{page}");
    assert_eq!(of_type(&page, "m.room.message")[0]["event_id"], sent, "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_stream_carries_invites_account_data_receipts_and_typing() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let from = events(&bob, "").await["end"].as_str().unwrap().to_owned();
    let room = create_room(&alice, json!({"invite": [bob.user_id]})).await;
    let page = events(&bob, &format!("from={from}")).await;
    let invites = of_type(&page, "m.room.member");
    assert_eq!(invites.len(), 1, "only the invite of bob's room: {page}");
    assert_eq!(invites[0]["content"]["membership"], "invite");

    let room_path = format!("/_matrix/client/v3/rooms/{}", enc(&room));
    assert_eq!(bob.post(&format!("{room_path}/join"), json!({})).await.0, 200);
    let from = events(&bob, &format!("from={from}")).await["end"].as_str().unwrap().to_owned();
    let event = send(&alice, &enc(&room), "1", text("hello")).await;
    let user = enc(&bob.user_id);
    let data = format!("/_matrix/client/v3/user/{user}/account_data/org.example.global");
    assert_eq!(bob.put(&data, json!({"a": 1})).await.0, 200);
    let room_data = format!(
        "/_matrix/client/v3/user/{user}/rooms/{}/account_data/org.example.room",
        enc(&room)
    );
    assert_eq!(bob.put(&room_data, json!({"b": 2})).await.0, 200);
    let receipt = format!("{room_path}/receipt/m.read/{}", enc(&event));
    assert_eq!(bob.post(&receipt, json!({})).await.0, 200);
    let typing = format!("{room_path}/typing/{}", enc(&alice.user_id));
    assert_eq!(alice.put(&typing, json!({"typing": true, "timeout": 30000})).await.0, 200);

    let page = events(&bob, &format!("from={from}")).await;
    assert_eq!(of_type(&page, "org.example.global")[0]["content"], json!({"a": 1}), "{page}");
    let room_data = of_type(&page, "org.example.room");
    assert_eq!(
        (&room_data[0]["content"], &room_data[0]["room_id"]),
        (&json!({"b": 2}), &json!(room))
    );
    let receipts = of_type(&page, "m.receipt");
    assert_eq!(receipts[0]["room_id"], room);
    assert!(receipts[0]["content"][&event]["m.read"][&bob.user_id]["ts"].is_u64(), "{page}");
    let typing = of_type(&page, "m.typing");
    assert_eq!(typing[0]["content"]["user_ids"], json!([alice.user_id]), "{page}");
    assert!(of_type(&page, "m.push_rules").is_empty(), "push rules are not account data here");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peeking_at_world_readable_rooms() {
    let server = TestServer::start_with(|c| c.registration.allow_guests = true).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (_, guest) =
        server.client().post("/_matrix/client/v3/register?kind=guest", json!({})).await;
    let guest = server.client().with_token(guest["access_token"].as_str().unwrap());
    let room = create_room(&alice, json!({"preset": "public_chat"})).await;
    send(&alice, &enc(&room), "1", text("before")).await;

    // Guests stream one room only; nobody streams a room they may not read.
    let global = guest.get("/_matrix/client/v3/events?timeout=0").await;
    assert_error(&global, 403, "M_GUEST_ACCESS_FORBIDDEN");
    let room_query = format!("/_matrix/client/v3/events?timeout=0&room_id={}", enc(&room));
    assert_error(&bob.get(&room_query).await, 403, "M_FORBIDDEN");
    let initial = format!("/_matrix/client/v3/rooms/{}/initialSync", enc(&room));
    assert_error(&guest.get(&initial).await, 403, "M_FORBIDDEN");

    let visibility =
        format!("/_matrix/client/v3/rooms/{}/state/m.room.history_visibility", enc(&room));
    assert_eq!(
        alice.put(&visibility, json!({"history_visibility": "world_readable"})).await.0,
        200
    );
    send(&alice, &enc(&room), "2", text("public")).await;
    let (status, snapshot) = guest.get(&initial).await;
    assert_eq!(status, 200, "{snapshot}");
    // Only what followed the change, and the change itself (the more permissive visibility of
    // the two counts for it).
    let chunk = snapshot["messages"]["chunk"].as_array().unwrap();
    let kinds: Vec<&Value> = chunk.iter().map(|e| &e["type"]).collect();
    assert_eq!(
        kinds,
        [&json!("m.room.history_visibility"), &json!("m.room.message")],
        "{snapshot}"
    );
    assert!(snapshot["presence"].is_array() && snapshot["state"].is_array(), "{snapshot}");

    let from = snapshot["messages"]["end"].as_str().unwrap().to_owned();
    let sent = send(&alice, &enc(&room), "3", text("news")).await;
    let (status, page) = guest.get(&format!("{room_query}&from={from}")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(of_type(&page, "m.room.message")[0]["event_id"], sent, "{page}");
    let (_, page) =
        guest.get(&format!("{room_query}&from={}", page["end"].as_str().unwrap())).await;
    assert!(page["chunk"].as_array().unwrap().is_empty(), "no loop on old events: {page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_sync_lists_rooms_state_messages_and_more() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = create_room(
        &alice,
        json!({"preset": "public_chat", "topic": "tea", "visibility": "public"}),
    )
    .await;
    let event = send(&alice, &enc(&room), "1", text("hello")).await;
    let receipt = format!("/_matrix/client/v3/rooms/{}/receipt/m.read/{}", enc(&room), enc(&event));
    assert_eq!(alice.post(&receipt, json!({})).await.0, 200);
    let user = enc(&alice.user_id);
    let global = format!("/_matrix/client/v3/user/{user}/account_data/org.example.cats");
    assert_eq!(alice.put(&global, json!({"cats": true})).await.0, 200);
    let tags = format!("/_matrix/client/v3/user/{user}/rooms/{}/tags/u.work", enc(&room));
    assert_eq!(alice.put(&tags, json!({"order": 1})).await.0, 200);
    let invited = create_room(&bob, json!({"invite": [alice.user_id]})).await;

    let (status, body) = alice.get("/_matrix/client/v3/initialSync?limit=2").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["end"].is_string());
    let rooms = body["rooms"].as_array().unwrap();
    let joined = rooms.iter().find(|r| r["room_id"] == room).expect("joined room");
    assert_eq!((&joined["membership"], &joined["visibility"]), (&json!("join"), &json!("public")));
    let topic = joined["state"].as_array().unwrap().iter().find(|e| e["type"] == "m.room.topic");
    assert_eq!(topic.unwrap()["content"]["topic"], "tea");
    let chunk = joined["messages"]["chunk"].as_array().unwrap();
    assert_eq!(chunk.len(), 2, "{joined}");
    assert_eq!(chunk[1]["event_id"], event, "oldest first");
    assert!(joined["messages"]["start"].is_string() && joined["messages"]["end"].is_string());
    assert_eq!(joined["account_data"][0]["type"], "m.tag");
    let invite = rooms.iter().find(|r| r["room_id"] == invited).expect("invite");
    assert_eq!(
        (&invite["membership"], &invite["inviter"]),
        (&json!("invite"), &json!(bob.user_id))
    );
    assert_eq!(invite["invite"]["content"]["membership"], "invite");
    assert_eq!(
        body["account_data"],
        json!([{"type": "org.example.cats", "content": {"cats": true}}])
    );
    let receipt = &body["receipts"][0];
    assert_eq!(receipt["room_id"], room);
    assert!(receipt["content"][&event]["m.read"][&alice.user_id].is_object(), "{receipt}");

    // `limit=0`: no messages; a bad limit is refused.
    let (_, body) = alice.get("/_matrix/client/v3/initialSync?limit=0").await;
    let joined = body["rooms"].as_array().unwrap().iter().find(|r| r["room_id"] == room).cloned();
    assert_eq!(joined.unwrap()["messages"]["chunk"], json!([]));
    assert_error(
        &alice.get("/_matrix/client/v3/initialSync?limit=x").await,
        400,
        "M_INVALID_PARAM",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn departed_rooms_are_described_as_they_were_on_leaving() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = create_room(&alice, json!({"preset": "public_chat"})).await;
    let path = format!("/_matrix/client/v3/rooms/{}", enc(&room));
    assert_eq!(bob.post(&format!("{path}/join"), json!({})).await.0, 200);
    assert_eq!(
        alice.put(&format!("{path}/state/m.room.name"), json!({"name": "before"})).await.0,
        200
    );
    send(&alice, &enc(&room), "1", text("before bob left")).await;
    assert_eq!(bob.post(&format!("{path}/leave"), json!({})).await.0, 200);
    send(&alice, &enc(&room), "2", text("after bob left")).await;
    assert_eq!(
        alice.put(&format!("{path}/state/m.room.name"), json!({"name": "after"})).await.0,
        200
    );

    let (_, body) = bob.get("/_matrix/client/v3/initialSync").await;
    assert!(body["rooms"].as_array().unwrap().is_empty(), "left rooms only when archived: {body}");
    let (_, body) = bob.get("/_matrix/client/v3/initialSync?archived=true&limit=2").await;
    let left = &body["rooms"][0];
    assert_eq!(left["membership"], "leave");
    let check = |room: &Value| {
        let name = room["state"].as_array().unwrap().iter().find(|e| e["type"] == "m.room.name");
        assert_eq!(name.unwrap()["content"]["name"], "before", "{room}");
        let chunk = room["messages"]["chunk"].as_array().unwrap();
        assert_eq!(chunk[0]["content"]["body"], "before bob left", "{room}");
        assert_eq!(chunk[1]["content"]["membership"], "leave", "{room}");
    };
    check(left);
    let (status, room_body) = bob.get(&format!("{path}/initialSync?limit=2")).await;
    assert_eq!(status, 200, "{room_body}");
    check(&room_body);
    assert_eq!((&room_body["presence"], &room_body["receipts"]), (&json!([]), &json!([])));

    // Someone never in the room (and it not world-readable) may not look.
    let carol = server.register("carol").await;
    assert_error(&carol.get(&format!("{path}/initialSync")).await, 403, "M_FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_initial_sync_for_members_and_single_events() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let status = format!("/_matrix/client/v3/presence/{}/status", enc(&alice.user_id));
    assert_eq!(
        alice.put(&status, json!({"presence": "online", "status_msg": "Online"})).await.0,
        200
    );
    let room = create_room(&alice, json!({"preset": "public_chat"})).await;
    let event = send(&alice, &enc(&room), "1", text("hello")).await;
    let (code, body) =
        alice.get(&format!("/_matrix/client/v3/rooms/{}/initialSync", enc(&room))).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["membership"], "join");
    let members: Vec<&Value> =
        body["state"].as_array().unwrap().iter().filter(|e| e["type"] == "m.room.member").collect();
    assert_eq!(members[0]["user_id"], alice.user_id, "v1 events name their sender as user_id");
    let presence = body["presence"].as_array().unwrap();
    let own = presence.iter().find(|p| p["content"]["user_id"] == alice.user_id).expect("presence");
    assert_eq!(own["content"]["presence"], "online");
    assert_eq!(own["content"]["status_msg"], "Online");

    // One event by ID, for those who may see it.
    let path = format!("/_matrix/client/v3/events/{}", enc(&event));
    let (code, got) = alice.get(&path).await;
    assert_eq!(
        (code.as_u16(), &got["content"]["body"], &got["user_id"]),
        (200, &json!("hello"), &json!(alice.user_id))
    );
    assert_error(&bob.get(&path).await, 404, "M_NOT_FOUND");
    assert_error(&alice.get("/_matrix/client/v3/events/%24nope").await, 404, "M_NOT_FOUND");
}
