//! Room creation, sending events, reading state and events.

use serde_json::{Value, json};

use crate::common::{TestServer, User, assert_error};

pub(crate) async fn create_room(user: &User, body: Value) -> String {
    let (status, body) = user.post("/_matrix/client/v3/createRoom", body).await;
    assert_eq!(status, 200, "createRoom: {body}");
    body["room_id"].as_str().expect("room_id").to_owned()
}

pub(crate) async fn send(user: &User, room: &str, txn: &str, body: Value) -> String {
    let path = format!("/_matrix/client/v3/rooms/{room}/send/m.room.message/{txn}");
    let (status, body) = user.put(&path, body).await;
    assert_eq!(status, 200, "send: {body}");
    body["event_id"].as_str().expect("event_id").to_owned()
}

pub(crate) fn enc(s: &str) -> String {
    s.replace('%', "%25")
        .replace('/', "%2F")
        .replace('+', "%2B")
        .replace('#', "%23")
        .replace('!', "%21")
        .replace('$', "%24")
        .replace(':', "%3A")
        .replace('@', "%40")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_room_sets_up_state_in_spec_order() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = create_room(
        &alice,
        json!({
            "name": "Hearth", "topic": "fire", "preset": "public_chat",
            "room_alias_name": "hearth", "invite": [bob.user_id],
            "initial_state": [{"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}],
            "power_level_content_override": {"events_default": 10},
            "creation_content": {"m.federate": false},
        }),
    )
    .await;
    // v12 by default: the room ID is the create event's hash, without a server part.
    assert!(!room.contains(':'), "{room}");
    let (status, state) =
        alice.get(&format!("/_matrix/client/v3/rooms/{}/state", enc(&room))).await;
    assert_eq!(status, 200, "{state}");
    let find = |kind: &str, key: &str| {
        state
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["type"] == kind && e["state_key"] == key)
            .cloned()
    };
    let create = find("m.room.create", "").expect("create");
    assert_eq!(create["content"]["room_version"], "12");
    assert_eq!(create["content"]["m.federate"], false);
    assert_eq!(find("m.room.name", "").unwrap()["content"]["name"], "Hearth");
    assert_eq!(find("m.room.topic", "").unwrap()["content"]["topic"], "fire");
    assert_eq!(find("m.room.join_rules", "").unwrap()["content"]["join_rule"], "public");
    assert_eq!(
        find("m.room.canonical_alias", "").unwrap()["content"]["alias"],
        "#hearth:localhost"
    );
    assert_eq!(find("m.room.power_levels", "").unwrap()["content"]["events_default"], 10);
    assert!(find("m.room.encryption", "").is_some());
    assert_eq!(find("m.room.member", &bob.user_id).unwrap()["content"]["membership"], "invite");
    assert_eq!(find("m.room.member", &alice.user_id).unwrap()["content"]["membership"], "join");

    // public_chat's `guest_access: forbidden` is a room without the event.
    assert!(find("m.room.guest_access", "").is_none());
    // The order the spec lists: create, creator's join, power levels, alias, preset, ...
    let (status, page) = alice
        .get(&format!("/_matrix/client/v3/rooms/{}/messages?dir=f&limit=50", enc(&room)))
        .await;
    assert_eq!(status, 200, "{page}");
    let kinds: Vec<&str> =
        page["chunk"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "m.room.create",
            "m.room.member",
            "m.room.power_levels",
            "m.room.canonical_alias",
            "m.room.join_rules",
            "m.room.history_visibility",
            "m.room.encryption",
            "m.room.name",
            "m.room.topic",
            "m.room.member"
        ]
    );
    // The alias resolves for joining.
    let (status, body) = bob.post("/_matrix/client/v3/join/%23hearth:localhost", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["room_id"], room);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_rooms_created_at_once_get_distinct_ids() {
    // Since v12 the room ID is the create event's hash: identical createRoom requests by one
    // user in the same millisecond must still make distinct rooms.
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let body = json!({"preset": "private_chat"});
    let rooms =
        futures_util::future::join_all((0..40).map(|_| create_room(&alice, body.clone()))).await;
    let distinct: std::collections::HashSet<&String> = rooms.iter().collect();
    assert_eq!(distinct.len(), rooms.len(), "{rooms:?}");
    let (status, joined) = alice.get("/_matrix/client/v3/joined_rooms").await;
    assert_eq!(status, 200, "{joined}");
    let joined: std::collections::HashSet<&str> =
        joined["joined_rooms"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(rooms.iter().all(|r| joined.contains(r.as_str())), "{joined:?}");
    for room in &rooms {
        let path = format!("/_matrix/client/v3/rooms/{}/state/m.room.create/", enc(room));
        let (status, create) = alice.get(&path).await;
        assert_eq!(status, 200, "{create}");
        assert_eq!(create["room_version"], "12");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_room_refuses_bad_input() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let path = "/_matrix/client/v3/createRoom";
    assert_error(
        &alice.post(path, json!({"room_version": "999"})).await,
        400,
        "M_UNSUPPORTED_ROOM_VERSION",
    );
    create_room(&alice, json!({"room_alias_name": "taken"})).await;
    assert_error(
        &alice.post(path, json!({"room_alias_name": "taken"})).await,
        400,
        "M_ROOM_IN_USE",
    );
    assert_error(
        &alice.post(path, json!({"room_alias_name": "a b"})).await,
        400,
        "M_INVALID_PARAM",
    );
    let bad_state = json!({"initial_state": [{"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": 5}}]});
    assert_error(&alice.post(path, bad_state).await, 400, "M_BAD_JSON");
    // Nothing half-made: alice is in exactly the one room created above.
    let (_, rooms) = alice.get("/_matrix/client/v3/joined_rooms").await;
    assert_eq!(rooms["joined_rooms"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_room_version_can_be_created_and_used() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    for version in 1..=12 {
        let room =
            create_room(&alice, json!({"room_version": version.to_string(), "name": "v"})).await;
        let event = send(
            &alice,
            &enc(&room),
            &format!("t{version}"),
            json!({"msgtype": "m.text", "body": "hi"}),
        )
        .await;
        let (status, body) = alice
            .get(&format!("/_matrix/client/v3/rooms/{}/event/{}", enc(&room), enc(&event)))
            .await;
        assert_eq!(status, 200, "v{version}: {body}");
        assert_eq!(body["content"]["body"], "hi");
        assert_eq!(body["unsigned"]["transaction_id"], format!("t{version}"));
        if version < 3 {
            assert!(
                event.ends_with(":localhost"),
                "v{version} event IDs carry the server: {event}"
            );
        } else {
            assert!(!event.contains(':'), "v{version} event IDs are hashes: {event}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_is_idempotent_per_device_and_txn() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = enc(&create_room(&alice, json!({})).await);
    let first = send(&alice, &room, "same", json!({"msgtype": "m.text", "body": "one"})).await;
    let again = send(&alice, &room, "same", json!({"msgtype": "m.text", "body": "two"})).await;
    assert_eq!(first, again);
    let other = send(&alice, &room, "other", json!({"msgtype": "m.text", "body": "two"})).await;
    assert_ne!(first, other);
    // Transaction IDs are scoped to the request path: another room is another request.
    let elsewhere = enc(&create_room(&alice, json!({})).await);
    let there = send(&alice, &elsewhere, "same", json!({"msgtype": "m.text", "body": "one"})).await;
    assert_ne!(first, there);
    let (_, page) =
        alice.get(&format!("/_matrix/client/v3/rooms/{room}/messages?dir=b&limit=10")).await;
    let bodies: Vec<&Value> = page["chunk"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "m.room.message")
        .collect();
    assert_eq!(bodies.len(), 2, "stored once: {page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_send_without_txn_and_canonical_json() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = enc(&create_room(&alice, json!({"room_version": "6"})).await);
    let path = format!("/_matrix/client/v3/rooms/{room}/send/m.room.message");
    let text = json!({"msgtype": "m.text", "body": "hi"});
    let (status, one) = alice.post(&path, text.clone()).await;
    assert_eq!(status, 200, "{one}");
    let (_, two) =
        alice.post(&format!("/_matrix/client/r0/rooms/{room}/send/m.room.message"), text).await;
    assert_ne!(one["event_id"], two["event_id"], "no transaction ID: two events");
    let (status, event) = alice
        .get(&format!(
            "/_matrix/client/v3/rooms/{room}/event/{}",
            enc(one["event_id"].as_str().unwrap())
        ))
        .await;
    assert_eq!((status.as_u16(), &event["content"]["body"]), (200, &json!("hi")));
    // Canonical JSON: no floats, no integers beyond ±(2^53 - 1).
    for body in
        [json!({"n": 1.5}), json!({"n": 9007199254740992_i64}), json!({"n": -9007199254740992_i64})]
    {
        assert_error(&alice.post(&path, body).await, 400, "M_BAD_JSON");
    }
    assert_error(
        &alice.request_raw(reqwest::Method::POST, &path, b"{\"n\": NaN}").await,
        400,
        "M_NOT_JSON",
    );
    assert_error(&server.client().post(&path, json!({})).await, 401, "M_MISSING_TOKEN");
    assert_error(
        &alice
            .post("/_matrix/client/v3/rooms/%21nope%3Alocalhost/send/m.room.message", json!({}))
            .await,
        404,
        "M_NOT_FOUND",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_state_is_not_a_new_event() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = enc(&create_room(&alice, json!({"preset": "public_chat"})).await);
    let path = format!("/_matrix/client/v3/rooms/{room}/state/org.example.test");
    let (_, first) = alice.put(&path, json!({"a": 1})).await;
    let (_, again) = alice.put(&path, json!({"a": 1})).await;
    assert_eq!(first["event_id"], again["event_id"]);
    let (_, changed) = alice.put(&path, json!({"a": 2})).await;
    assert_ne!(first["event_id"], changed["event_id"]);
    // Joining twice is one join; a join with other content is a new event.
    let join = format!("/_matrix/client/v3/rooms/{room}/join");
    let member = format!(
        "/_matrix/client/v3/rooms/{room}/state/m.room.member/{}?format=event",
        enc(&bob.user_id)
    );
    assert_eq!(bob.post(&join, json!({})).await.0, 200);
    let (_, joined) = bob.get(&member).await;
    assert_eq!(bob.post(&join, json!({})).await.0, 200);
    assert_eq!(bob.get(&member).await.1["event_id"], joined["event_id"]);
    assert_eq!(bob.post(&join, json!({"displayname": "Robert"})).await.0, 200);
    let (_, renamed) = bob.get(&member).await;
    assert_ne!(renamed["event_id"], joined["event_id"]);
    assert_eq!(renamed["content"]["displayname"], "Robert");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_put_and_get() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = enc(&create_room(&alice, json!({"preset": "public_chat"})).await);
    let path = format!("/_matrix/client/v3/rooms/{room}/state/m.room.topic");
    let (status, body) = alice.put(&path, json!({"topic": "one"})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = alice.put(&format!("{path}/"), json!({"topic": "two"})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = alice.get(&path).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"topic": "two"}));
    let (status, body) = alice.get(&format!("{path}?format=event")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["unsigned"]["prev_content"]["topic"], "one");
    assert!(body["unsigned"]["replaces_state"].is_string());

    // Custom state with a key, and errors.
    let (status, _) = alice
        .put(&format!("/_matrix/client/v3/rooms/{room}/state/org.example/k"), json!({"a": 1}))
        .await;
    assert_eq!(status, 200);
    assert_error(
        &alice.get(&format!("/_matrix/client/v3/rooms/{room}/state/org.example/nope")).await,
        404,
        "M_NOT_FOUND",
    );
    assert_error(&bob.get(&path).await, 403, "M_FORBIDDEN");
    assert_error(&bob.put(&path, json!({"topic": "x"})).await, 403, "M_FORBIDDEN");
    let bad = alice
        .put(
            &format!("/_matrix/client/v3/rooms/{room}/state/m.room.member/not-a-user"),
            json!({"membership": "join"}),
        )
        .await;
    assert_error(&bad, 400, "M_BAD_JSON");
    let bad = alice
        .put(
            &format!("/_matrix/client/v3/rooms/{room}/state/m.room.member/{}", enc(&alice.user_id)),
            json!({"membership": "dancing"}),
        )
        .await;
    assert_error(&bad, 400, "M_BAD_JSON");
    // Bob joins; he lacks the power to change the topic.
    let (status, _) = bob.post(&format!("/_matrix/client/v3/rooms/{room}/join"), json!({})).await;
    assert_eq!(status, 200);
    let denied = bob.put(&path, json!({"topic": "x"})).await;
    assert_error(&denied, 403, "M_FORBIDDEN");
    assert!(denied.1["error"].as_str().unwrap().contains("power"), "{}", denied.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_acl_with_a_non_boolean_allow_ip_literals() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = enc(&create_room(&alice, json!({})).await);
    let path = format!("/_matrix/client/v3/rooms/{room}/state/m.room.server_acl");
    // Not a boolean: it counts as `true` (spec), and Synapse stores it as sent.
    let acl = json!({"allow": ["*"], "allow_ip_literals": "false", "deny": ["evil.com"]});
    let (status, body) = alice.put(&path, acl.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(alice.get(&path).await.1, acl);
    // The lists keep their schema.
    let bad = alice.put(&path, json!({"allow": "*"})).await;
    assert_error(&bad, 400, "M_BAD_JSON");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_rooms_and_events_and_oversized_events() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = enc(&create_room(&alice, json!({})).await);
    let unknown = "%21nope%3Alocalhost";
    assert_error(
        &alice
            .put(&format!("/_matrix/client/v3/rooms/{unknown}/send/m.room.message/1"), json!({}))
            .await,
        404,
        "M_NOT_FOUND",
    );
    assert_error(
        &alice.get(&format!("/_matrix/client/v3/rooms/{room}/event/%24nope")).await,
        404,
        "M_NOT_FOUND",
    );
    let big = json!({"msgtype": "m.text", "body": "x".repeat(70_000)});
    assert_error(
        &alice.put(&format!("/_matrix/client/v3/rooms/{room}/send/m.room.message/big"), big).await,
        413,
        "M_TOO_LARGE",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_are_rate_limited_per_user() {
    let slow = hearth_core::config::Rate { per_second: 0.001, burst: 3 };
    let server = TestServer::start_with(|c| {
        c.rate_limits.enabled = true;
        c.rate_limits.messages_per_user = slow;
    })
    .await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = enc(&create_room(&alice, json!({"preset": "public_chat"})).await);
    assert_eq!(bob.post(&format!("/_matrix/client/v3/rooms/{room}/join"), json!({})).await.0, 200);
    let text = json!({"msgtype": "m.text", "body": "hi"});
    let first = send(&alice, &room, "1", text.clone()).await;
    send(&alice, &room, "2", text.clone()).await;
    send(&alice, &room, "3", text.clone()).await;
    let path = format!("/_matrix/client/v3/rooms/{room}/send/m.room.message/4");
    let limited = alice.put(&path, text.clone()).await;
    assert_error(&limited, 429, "M_LIMIT_EXCEEDED");
    assert!(limited.1["retry_after_ms"].as_u64().unwrap() > 0, "{}", limited.1);
    // State events and redactions count too; retrying a sent transaction does not.
    let topic = format!("/_matrix/client/v3/rooms/{room}/state/m.room.topic");
    assert_error(&alice.put(&topic, json!({"topic": "t"})).await, 429, "M_LIMIT_EXCEEDED");
    let redact = format!("/_matrix/client/v3/rooms/{room}/redact/{}/r", enc(&first));
    assert_error(&alice.put(&redact, json!({})).await, 429, "M_LIMIT_EXCEEDED");
    assert_eq!(send(&alice, &room, "1", text.clone()).await, first);
    // Limits are per user; membership changes are not messages.
    send(&bob, &room, "1", text.clone()).await;
    assert_eq!(bob.post(&format!("/_matrix/client/v3/rooms/{room}/leave"), json!({})).await.0, 200);

    // With rate limits off, the same rate limits nothing.
    let server = TestServer::start_with(|c| c.rate_limits.messages_per_user = slow).await;
    let alice = server.register("alice").await;
    let room = enc(&create_room(&alice, json!({})).await);
    for txn in 0..5 {
        send(&alice, &room, &txn.to_string(), text.clone()).await;
    }
}
