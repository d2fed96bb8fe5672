//! Filters in sync: by ID or inline, rooms, timeline/state/ephemeral/account-data/presence
//! conditions, `event_fields` and `event_format`.

use serde_json::{Value, json};

use super::*;
use crate::{common::TestServer, rooms::create_room};

fn types(events: &[&Value]) -> Vec<String> {
    events.iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeline_and_state_conditions() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = public_room(&alice).await;
    join(&bob, &room).await;
    say(&alice, &room, "a1", "from alice").await;
    say(&bob, &room, "b1", "from bob").await;
    let image = json!({"msgtype": "m.image", "body": "pic", "url": "mxc://localhost/x"});
    crate::rooms::send(&bob, &enc(&room), "b2", image).await;

    let only_messages = json!({"room": {"timeline": {"types": ["m.room.message"]}}});
    let body = filtered(&alice, only_messages).await;
    assert_eq!(bodies(&timeline(&body, &room)), ["from alice", "from bob", "pic"]);

    let no_bob =
        json!({"room": {"timeline": {"types": ["m.room.*"], "not_senders": [bob.user_id]}}});
    let events = filtered(&alice, no_bob).await;
    let events = timeline(&events, &room);
    assert!(events.iter().all(|e| e["sender"] == alice.user_id));
    assert_eq!(bodies(&events), ["from alice"]);

    let only_bob =
        json!({"room": {"timeline": {"senders": [bob.user_id], "not_types": ["m.room.member"]}}});
    let body = filtered(&alice, only_bob).await;
    assert_eq!(bodies(&timeline(&body, &room)), ["from bob", "pic"]);

    let with_url = json!({"room": {"timeline": {"contains_url": true}}});
    assert_eq!(bodies(&timeline(&filtered(&alice, with_url).await, &room)), ["pic"]);
    let without_url =
        json!({"room": {"timeline": {"contains_url": false, "types": ["m.room.message"]}}});
    let body = filtered(&alice, without_url).await;
    assert_eq!(bodies(&timeline(&body, &room)), ["from alice", "from bob"]);

    // limit: the newest events, and a `limited` timeline whose state covers the rest.
    let limit = json!({"room": {"timeline": {"limit": 1}}});
    let body = filtered(&alice, limit).await;
    assert_eq!(bodies(&timeline(&body, &room)), ["pic"]);
    assert_eq!(joined(&body, &room)["timeline"]["limited"], true);
    let state = keys(&joined(&body, &room)["state"]["events"]);
    assert!(state.contains(&("m.room.member".to_owned(), bob.user_id.clone())), "{state:?}");

    // State conditions.
    let state_types = json!({"room": {"timeline": {"limit": 1}, "state": {"types": ["m.room.create", "m.room.join_rules"]}}});
    let body = filtered(&alice, state_types).await;
    let state = keys(&joined(&body, &room)["state"]["events"]);
    assert_eq!(
        state,
        [
            ("m.room.create".to_owned(), String::new()),
            ("m.room.join_rules".to_owned(), String::new())
        ]
    );
    let not_members = json!({"room": {"timeline": {"limit": 1}, "state": {"not_types": ["m.room.member"], "not_senders": [bob.user_id]}}});
    let body = filtered(&alice, not_members).await;
    let state = keys(&joined(&body, &room)["state"]["events"]);
    assert!(!state.is_empty() && state.iter().all(|(t, _)| t != "m.room.member"), "{state:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_lists_and_other_sections() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let one = create_room(&alice, json!({})).await;
    let two = create_room(&alice, json!({})).await;
    let path =
        format!("/_matrix/client/v3/user/{}/account_data/org.example.a", enc(&alice.user_id));
    assert_eq!(alice.put(&path, json!({"x": 1})).await.0, 200);
    let path =
        format!("/_matrix/client/v3/user/{}/account_data/org.example.b", enc(&alice.user_id));
    assert_eq!(alice.put(&path, json!({"x": 2})).await.0, 200);
    let tag = format!(
        "/_matrix/client/v3/user/{}/rooms/{}/account_data/org.example.tag",
        enc(&alice.user_id),
        enc(&one)
    );
    assert_eq!(alice.put(&tag, json!({"t": 1})).await.0, 200);

    let body = filtered(&alice, json!({"room": {"rooms": [one]}})).await;
    assert!(joined(&body, &one).is_object() && joined(&body, &two).is_null(), "{body}");
    let body = filtered(&alice, json!({"room": {"not_rooms": [one]}})).await;
    assert!(joined(&body, &one).is_null() && joined(&body, &two).is_object());
    // A timeline filter's own room list empties the timeline of the others.
    let body = filtered(&alice, json!({"room": {"timeline": {"rooms": [two]}}})).await;
    assert!(timeline(&body, &one).is_empty() && !timeline(&body, &two).is_empty());

    let body = filtered(&alice, json!({"account_data": {"types": ["org.example.b"]}})).await;
    assert_eq!(
        types(&body["account_data"]["events"].as_array().unwrap().iter().collect::<Vec<_>>()),
        ["org.example.b"]
    );
    let body = filtered(&alice, json!({"account_data": {"limit": 1}})).await;
    assert_eq!(body["account_data"]["events"].as_array().unwrap().len(), 1);
    let body =
        filtered(&alice, json!({"room": {"account_data": {"not_types": ["org.example.tag"]}}}))
            .await;
    assert!(joined(&body, &one)["account_data"]["events"].as_array().unwrap().is_empty());
    let body = initial(&alice).await;
    assert_eq!(joined(&body, &one)["account_data"]["events"][0]["type"], "org.example.tag");
    // Presence: one's own, unless the filter says no.
    assert_eq!(body["presence"]["events"][0]["sender"], alice.user_id);
    let body = filtered(&alice, json!({"presence": {"not_types": ["m.presence"]}})).await;
    assert!(body.get("presence").is_none(), "{body}");
    // Ephemeral conditions.
    let typing = format!("/_matrix/client/v3/rooms/{}/typing/{}", enc(&one), enc(&alice.user_id));
    assert_eq!(alice.put(&typing, json!({"typing": true, "timeout": 30000})).await.0, 200);
    let body = initial(&alice).await;
    assert_eq!(joined(&body, &one)["ephemeral"]["events"][0]["type"], "m.typing");
    let body = filtered(&alice, json!({"room": {"ephemeral": {"not_types": ["m.typing"]}}})).await;
    assert!(joined(&body, &one)["ephemeral"]["events"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_filters_event_fields_and_federation_format() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = create_room(&alice, json!({})).await;
    let event_id = say(&alice, &room, "m1", "hello").await;
    let filter = json!({
        "event_fields": ["type", "content.body", "event_id"],
        "room": {"timeline": {"limit": 1}},
    });
    let path = format!("/_matrix/client/v3/user/{}/filter", enc(&alice.user_id));
    let (status, created) = alice.post(&path, filter).await;
    assert_eq!(status, 200, "{created}");
    let id = created["filter_id"].as_str().unwrap();
    let body = sync_with(&alice, &format!("filter={id}")).await;
    let events = timeline(&body, &room);
    assert_eq!(
        *events[0],
        json!({"type": "m.room.message", "content": {"body": "hello"}, "event_id": event_id})
    );

    let body =
        filtered(&alice, json!({"event_format": "federation", "room": {"timeline": {"limit": 1}}}))
            .await;
    let event = timeline(&body, &room)[0];
    assert_eq!(event["event_id"], event_id);
    assert_eq!(event["room_id"], room);
    for field in ["auth_events", "prev_events", "depth", "hashes", "signatures", "origin_server_ts"]
    {
        assert!(event.get(field).is_some(), "federation format lacks {field}: {event}");
    }
}
