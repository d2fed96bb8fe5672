//! Redactions at send time across room versions (v1-v2: the redact level is an authorization
//! rule; v3+: the server's check; v11+: `redacts` in content), and the event size limit.

use serde_json::{Value, json};

use crate::{
    common::{TestServer, User, assert_error},
    rooms::{create_room, enc, send},
};

async fn redact(user: &User, room: &str, event: &str, txn: &str) -> (reqwest::StatusCode, Value) {
    let path = format!("/_matrix/client/v3/rooms/{room}/redact/{}/{txn}", enc(event));
    user.put(&path, json!({"reason": "r"})).await
}

async fn event(user: &User, room: &str, event: &str) -> Value {
    let (status, body) =
        user.get(&format!("/_matrix/client/v3/rooms/{room}/event/{}", enc(event))).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redaction_checks_per_room_version() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let moderator = server.register("mod").await;
    let text = |body: &str| json!({"msgtype": "m.text", "body": body});
    for version in ["1", "2", "3", "10", "11", "12"] {
        let mut users = json!({ moderator.user_id.clone(): 50 });
        if version != "12" {
            users[&alice.user_id] = json!(100);
        }
        let body = json!({"preset": "public_chat", "room_version": version,
            "power_level_content_override": {"users": users}});
        let room = enc(&create_room(&alice, body).await);
        for user in [&bob, &moderator] {
            let path = format!("/_matrix/client/v3/rooms/{room}/join");
            assert_eq!(user.post(&path, json!({})).await.0, 200);
        }
        let ctx = format!("v{version}");
        let by_alice = send(&alice, &room, "a", text("alice")).await;
        let by_bob = send(&bob, &room, "b", text("bob")).await;

        // Without the redact level only one's own events; with it, anyone's.
        assert_error(&redact(&bob, &room, &by_alice, "1").await, 403, "M_FORBIDDEN");
        assert_eq!(redact(&bob, &room, &by_bob, "2").await.0, 200, "{ctx}");
        assert_eq!(event(&alice, &room, &by_bob).await["content"], json!({}), "{ctx}");
        assert_eq!(redact(&moderator, &room, &by_alice, "3").await.0, 200, "{ctx}");
        let redacted = event(&bob, &room, &by_alice).await;
        assert_eq!(redacted["unsigned"]["redacted_because"]["sender"], moderator.user_id);

        // Never the create event or the server ACL, whatever one's power.
        let (_, state) = alice.get(&format!("/_matrix/client/v3/rooms/{room}/state")).await;
        let create = state.as_array().unwrap().iter().find(|e| e["type"] == "m.room.create");
        let create = create.unwrap()["event_id"].as_str().unwrap().to_owned();
        assert_error(&redact(&alice, &room, &create, "4").await, 403, "M_FORBIDDEN");
        let acl = json!({"allow": ["*"], "deny": [], "allow_ip_literals": false});
        let path = format!("/_matrix/client/v3/rooms/{room}/state/m.room.server_acl");
        let (status, acl) = alice.put(&path, acl).await;
        assert_eq!(status, 200, "{acl}");
        let acl = acl["event_id"].as_str().unwrap().to_owned();
        assert_error(&redact(&alice, &room, &acl, "5").await, 403, "M_FORBIDDEN");

        // An event this server does not have: only with the redact level (Synapse).
        let unknown = "$unknownunknownunknownunknownunknownunknown0";
        assert_error(&redact(&bob, &room, unknown, "6").await, 404, "M_NOT_FOUND");
        assert_eq!(redact(&moderator, &room, unknown, "7").await.0, 200, "{ctx}");

        // Through /send: `redacts` in content; served at the top level too, and in content
        // since v11, where it lives.
        let own = send(&bob, &room, "c", text("again")).await;
        let path = format!("/_matrix/client/v3/rooms/{room}/send/m.room.redaction/8");
        let (status, body) = bob.put(&path, json!({"redacts": own})).await;
        assert_eq!(status, 200, "{ctx}: {body}");
        let redaction = event(&bob, &room, body["event_id"].as_str().unwrap()).await;
        assert_eq!(redaction["redacts"], own, "{ctx}");
        if version == "11" || version == "12" {
            assert_eq!(redaction["content"]["redacts"], own, "{ctx}");
        }
        assert_eq!(event(&alice, &room, &own).await["content"], json!({}), "{ctx}");
        let missing = bob.put(&format!("{path}x"), json!({})).await;
        assert_error(&missing, 400, "M_BAD_JSON");

        // The power to send redactions at all is an ordinary event power.
        let path = format!("/_matrix/client/v3/rooms/{room}/state/m.room.power_levels");
        let (_, mut levels) = alice.get(&path).await;
        levels["events"]["m.room.redaction"] = json!(100);
        assert_eq!(alice.put(&path, levels).await.0, 200, "{ctx}");
        let last = send(&bob, &room, "d", text("last")).await;
        assert_error(&redact(&bob, &room, &last, "9").await, 403, "M_FORBIDDEN");
        assert_error(&redact(&moderator, &room, &last, "10").await, 403, "M_FORBIDDEN");
        assert_eq!(event(&alice, &room, &last).await["content"]["body"], "last");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redacting_through_another_room_is_refused() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let alices = enc(&create_room(&alice, json!({})).await);
    let bobs = enc(&create_room(&bob, json!({})).await);
    let target = send(&alice, &alices, "1", json!({"msgtype": "m.text", "body": "mine"})).await;
    // Synapse: 400, the event is not in the room the request names.
    assert_error(&redact(&bob, &bobs, &target, "1").await, 400, "M_INVALID_PARAM");
    assert_eq!(event(&alice, &alices, &target).await["content"]["body"], "mine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_exactly_65536_bytes_are_accepted() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = enc(&create_room(&alice, json!({})).await);
    let text = |body: String| json!({"msgtype": "m.text", "body": body});
    // Enough events that the next depths have the same number of digits.
    for txn in 0..5 {
        send(&alice, &room, &format!("f{txn}"), text("filler".into())).await;
    }
    let probe = pdu_size(&server, &send(&alice, &room, "probe", text("x".into())).await).await;
    let fits = 65_536 - probe + 1;
    let event = send(&alice, &room, "max", text("x".repeat(fits))).await;
    assert_eq!(pdu_size(&server, &event).await, 65_536);
    assert_eq!(event_body_len(&alice, &room, &event).await, fits);
    let path = format!("/_matrix/client/v3/rooms/{room}/send/m.room.message/over");
    assert_error(&alice.put(&path, text("x".repeat(fits + 1))).await, 413, "M_TOO_LARGE");
}

async fn event_body_len(user: &User, room: &str, id: &str) -> usize {
    event(user, room, id).await["content"]["body"].as_str().unwrap().len()
}

/// The event's size as canonical JSON, signatures included.
async fn pdu_size(server: &TestServer, id: &str) -> usize {
    let id = ruma::EventId::parse(id).unwrap();
    server.services().rooms.pdu(&id).await.unwrap().unwrap().canonical_string().len()
}
