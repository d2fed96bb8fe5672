//! Account data (global and per room) and filters.

use serde_json::json;

use crate::common::{TestServer, assert_error};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_and_room_account_data() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let global = "/_matrix/client/v3/user/@alice:localhost/account_data/com.example.settings";
    assert_error(&alice.get(global).await, 404, "M_NOT_FOUND");
    assert_eq!(alice.put(global, json!({"theme": "dark"})).await.0, 200);
    assert_eq!(alice.get(global).await.1, json!({"theme": "dark"}));
    assert_eq!(alice.put(global, json!({"theme": "light"})).await.0, 200);
    assert_eq!(alice.get(global).await.1, json!({"theme": "light"}));

    let room = "/_matrix/client/v3/user/@alice:localhost/rooms/!room:localhost/account_data/m.tag";
    assert_eq!(alice.put(room, json!({"tags": {"u.work": {}}})).await.0, 200);
    assert_eq!(alice.get(room).await.1, json!({"tags": {"u.work": {}}}));
    let other_room =
        "/_matrix/client/v3/user/@alice:localhost/rooms/!other:localhost/account_data/m.tag";
    assert_error(&alice.get(other_room).await, 404, "M_NOT_FOUND");
    let bad_room = "/_matrix/client/v3/user/@alice:localhost/rooms/not-a-room/account_data/m.tag";
    assert_error(&alice.put(bad_room, json!({})).await, 400, "M_INVALID_PARAM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_data_rules() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let path = "/_matrix/client/v3/user/@alice:localhost/account_data/com.example.x";
    alice.put(path, json!({"a": 1})).await;
    assert_error(&bob.put(path, json!({"b": 2})).await, 403, "M_FORBIDDEN");
    assert_error(&bob.get(path).await, 403, "M_FORBIDDEN");
    for managed in ["m.fully_read", "m.push_rules"] {
        let global = format!("/_matrix/client/v3/user/@alice:localhost/account_data/{managed}");
        assert_error(&alice.put(&global, json!({})).await, 405, "M_BAD_JSON");
        let room = format!(
            "/_matrix/client/v3/user/@alice:localhost/rooms/!r:localhost/account_data/{managed}"
        );
        assert_error(&alice.put(&room, json!({})).await, 405, "M_BAD_JSON");
    }
    let not_object = alice.request(reqwest::Method::PUT, path, Some(json!([1, 2]))).await;
    assert_error(&not_object, 400, "M_BAD_JSON");
    let not_json = alice.request_raw(reqwest::Method::PUT, path, b"{oops").await;
    assert_error(&not_json, 400, "M_NOT_JSON");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_take_stream_positions_and_wake_long_polls() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let services = server.services();
    let user_id: ruma::OwnedUserId = alice.user_id.parse().unwrap();
    let before = services.ctx.storage.current_stream_pos();
    let watch = services.ctx.notifier.watch(&user_id, []);

    let path = "/_matrix/client/v3/user/@alice:localhost/account_data/com.example.x";
    alice.put(path, json!({"v": 1})).await;
    alice.put(path, json!({"v": 2})).await;
    let room = "/_matrix/client/v3/user/@alice:localhost/rooms/!r:localhost/account_data/m.tag";
    alice.put(room, json!({"tags": {}})).await;
    assert!(watch.wait(std::time::Duration::from_secs(10)).await, "the write woke the watch");

    let now = services.ctx.storage.current_stream_pos();
    let changes = services.ctx.storage.account_data_changes(&user_id, before, now).await.unwrap();
    assert_eq!(changes.len(), 2, "latest content per type");
    assert_eq!(changes[0].data_type, "com.example.x");
    assert!(changes[0].room_id.is_none());
    assert_eq!(changes[0].content.get(), r#"{"v":2}"#);
    assert_eq!(changes[1].room_id.as_ref().unwrap().as_str(), "!r:localhost");
    assert!(changes[0].pos < changes[1].pos && changes[1].pos <= now);
    let none = services.ctx.storage.account_data_changes(&user_id, now, now).await.unwrap();
    assert!(none.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let path = "/_matrix/client/v3/user/@alice:localhost/filter";
    let filter = json!({"room": {"timeline": {"limit": 10, "types": ["m.room.message"]}},
                        "event_fields": ["content.body"]});
    let (status, body) = alice.post(path, filter.clone()).await;
    assert_eq!(status, 200, "{body}");
    let id = body["filter_id"].as_str().unwrap().to_owned();
    let (status, stored) = alice.get(&format!("{path}/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(stored["room"]["timeline"]["limit"], 10);
    assert_eq!(stored["event_fields"], json!(["content.body"]));

    let (_, other) = alice.post(path, json!({"presence": {"not_types": ["m.presence"]}})).await;
    assert_ne!(other["filter_id"], id.as_str());

    assert_error(&alice.get(&format!("{path}/999")).await, 404, "M_NOT_FOUND");
    assert_error(&alice.get(&format!("{path}/abc")).await, 404, "M_NOT_FOUND");
    assert_error(&bob.get(&format!("{path}/{id}")).await, 403, "M_FORBIDDEN");
    assert_error(&bob.post(path, filter).await, 403, "M_FORBIDDEN");
    let bad = alice.post(path, json!({"room": {"timeline": {"limit": -1}}})).await;
    assert_error(&bad, 400, "M_BAD_JSON");
    let bad_type = alice.post(path, json!({"event_format": "xml"})).await;
    assert_error(&bad_type, 400, "M_BAD_JSON");
}
