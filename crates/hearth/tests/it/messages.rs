//! `/messages`, `/context`, `/event`, history visibility and redaction.

use serde_json::{Value, json};

use crate::{
    common::{TestServer, assert_error},
    rooms::{create_room, enc, send},
};

fn bodies(page: &Value) -> Vec<String> {
    page["chunk"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "m.room.message")
        .map(|e| e["content"]["body"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paginate_both_ways_with_filters() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = enc(&create_room(&alice, json!({})).await);
    for i in 0..5 {
        send(&alice, &room, &format!("m{i}"), json!({"msgtype": "m.text", "body": format!("{i}")}))
            .await;
    }
    let base = format!("/_matrix/client/v3/rooms/{room}/messages");
    let filter = "filter=%7B%22types%22%3A%5B%22m.room.message%22%5D%7D";
    let (status, page) = alice.get(&format!("{base}?dir=b&limit=2&{filter}")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(bodies(&page), ["4", "3"]);
    let now = page["start"].as_str().unwrap().to_owned();
    let end = page["end"].as_str().unwrap().to_owned();
    let (_, page) = alice.get(&format!("{base}?dir=b&limit=10&from={end}&{filter}")).await;
    assert_eq!(bodies(&page), ["2", "1", "0"]);
    // The start of the room is reached: this page still has `end` (it has events), the next
    // one is empty and has none (Synapse).
    let last = page["end"].as_str().expect("end while there are events").to_owned();
    let (_, page) = alice.get(&format!("{base}?dir=b&from={last}&{filter}")).await;
    assert!(bodies(&page).is_empty() && page.get("end").is_none(), "{page}");
    // Forwards from the start, up to a `to` token.
    let (_, page) = alice.get(&format!("{base}?dir=f&limit=3&{filter}")).await;
    assert_eq!(bodies(&page), ["0", "1", "2"]);
    let after_two = page["end"].as_str().unwrap().to_owned();
    let (_, page) = alice.get(&format!("{base}?dir=f&from={after_two}&to={end}&{filter}")).await;
    assert!(bodies(&page).is_empty(), "nothing between the two tokens: {page}");
    let (_, page) = alice.get(&format!("{base}?dir=f&from={after_two}&to={now}&{filter}")).await;
    assert_eq!(bodies(&page), ["3", "4"]);
    // not_types and lazy-loaded members.
    let lazy = "filter=%7B%22not_types%22%3A%5B%22m.room.*%22%5D%7D";
    let (_, page) = alice.get(&format!("{base}?dir=b&{lazy}")).await;
    assert!(page["chunk"].as_array().unwrap().is_empty());
    let lazy =
        "filter=%7B%22lazy_load_members%22%3Atrue%2C%22types%22%3A%5B%22m.room.message%22%5D%7D";
    let (_, page) = alice.get(&format!("{base}?dir=b&limit=1&{lazy}")).await;
    assert_eq!(page["state"][0]["state_key"], alice.user_id);
    assert_error(&alice.get(&format!("{base}?dir=b&from=garbage")).await, 400, "M_INVALID_PARAM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_visibility_is_enforced() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = enc(&create_room(&alice, json!({"preset": "public_chat"})).await);
    let path = format!("/_matrix/client/v3/rooms/{room}/state/m.room.history_visibility");
    let (status, _) = alice.put(&path, json!({"history_visibility": "joined"})).await;
    assert_eq!(status, 200);
    let secret = send(&alice, &room, "s", json!({"msgtype": "m.text", "body": "before bob"})).await;
    // Not a member: no access at all.
    assert_error(
        &bob.get(&format!("/_matrix/client/v3/rooms/{room}/messages?dir=b")).await,
        403,
        "M_FORBIDDEN",
    );
    let (status, _) = bob.post(&format!("/_matrix/client/v3/rooms/{room}/join"), json!({})).await;
    assert_eq!(status, 200);
    send(&alice, &room, "p", json!({"msgtype": "m.text", "body": "after bob"})).await;
    let (_, page) = bob.get(&format!("/_matrix/client/v3/rooms/{room}/messages?dir=b")).await;
    assert_eq!(bodies(&page), ["after bob"]);
    assert_error(
        &bob.get(&format!("/_matrix/client/v3/rooms/{room}/event/{}", enc(&secret))).await,
        404,
        "M_NOT_FOUND",
    );
    assert_error(
        &bob.get(&format!("/_matrix/client/v3/rooms/{room}/context/{}", enc(&secret))).await,
        404,
        "M_NOT_FOUND",
    );
    // Visibility is the one in force at each event: a later change does not open the past.
    let (status, _) = alice.put(&path, json!({"history_visibility": "shared"})).await;
    assert_eq!(status, 200);
    let (_, page) = bob.get(&format!("/_matrix/client/v3/rooms/{room}/messages?dir=b")).await;
    assert_eq!(bodies(&page), ["after bob"]);
    // `shared` (the default): what was said before one joined is visible once joined.
    let shared = enc(&create_room(&alice, json!({"preset": "public_chat"})).await);
    let early = send(&alice, &shared, "e", json!({"msgtype": "m.text", "body": "early"})).await;
    let (status, _) = bob.post(&format!("/_matrix/client/v3/rooms/{shared}/join"), json!({})).await;
    assert_eq!(status, 200);
    send(&alice, &shared, "l", json!({"msgtype": "m.text", "body": "late"})).await;
    let (_, page) = bob.get(&format!("/_matrix/client/v3/rooms/{shared}/messages?dir=b")).await;
    assert_eq!(bodies(&page), ["late", "early"]);
    let (status, ctx) = bob
        .get(&format!("/_matrix/client/v3/rooms/{shared}/context/{}?limit=4", enc(&early)))
        .await;
    assert_eq!(status, 200, "{ctx}");
    assert_eq!(ctx["event"]["event_id"], early);
    assert_eq!(ctx["events_after"].as_array().unwrap().last().unwrap()["content"]["body"], "late");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redactions_follow_the_room_version() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    for version in ["1", "10", "11", "12"] {
        let room =
            enc(&create_room(&alice, json!({"preset": "public_chat", "room_version": version}))
                .await);
        let (status, _) =
            bob.post(&format!("/_matrix/client/v3/rooms/{room}/join"), json!({})).await;
        assert_eq!(status, 200);
        let event = send(
            &alice,
            &room,
            &format!("r{version}"),
            json!({"msgtype": "m.text", "body": "oops"}),
        )
        .await;
        let path = format!("/_matrix/client/v3/rooms/{room}/redact/{}/t{version}", enc(&event));
        assert_error(&bob.put(&path, json!({})).await, 403, "M_FORBIDDEN");
        let (status, body) = alice.put(&path, json!({"reason": "typo"})).await;
        assert_eq!(status, 200, "v{version}: {body}");
        let (_, served) =
            alice.get(&format!("/_matrix/client/v3/rooms/{room}/event/{}", enc(&event))).await;
        assert_eq!(served["content"], json!({}), "v{version}: {served}");
        assert_eq!(served["unsigned"]["redacted_because"]["content"]["reason"], "typo");
        // The algorithms differ on what create content keeps: all of it since v11.
        let (_, state) = alice.get(&format!("/_matrix/client/v3/rooms/{room}/state")).await;
        assert!(state.as_array().unwrap().iter().any(|e| e["type"] == "m.room.create"));
    }
    let room = enc(&create_room(&alice, json!({})).await);
    assert_error(
        &bob.put(&format!("/_matrix/client/v3/rooms/{room}/redact/%24nope/x"), json!({})).await,
        404,
        "M_NOT_FOUND",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_and_history_survive_restart() {
    let mut server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = enc(&create_room(&alice, json!({"name": "kept", "room_alias_name": "kept"})).await);
    send(&alice, &room, "1", json!({"msgtype": "m.text", "body": "persisted"})).await;
    server.restart().await;
    let (_, page) = alice.get(&format!("/_matrix/client/v3/rooms/{room}/messages?dir=b")).await;
    assert_eq!(bodies(&page), ["persisted"]);
    let (status, name) =
        alice.get(&format!("/_matrix/client/v3/rooms/{room}/state/m.room.name")).await;
    assert_eq!(status, 200);
    assert_eq!(name["name"], "kept");
    // The head reloads from the database and building continues.
    send(&alice, &room, "2", json!({"msgtype": "m.text", "body": "after"})).await;
    let (status, body) = alice.post("/_matrix/client/v3/join/%23kept%3Alocalhost", json!({})).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_membership_is_the_viewers_after_each_event() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = enc(&create_room(&alice, json!({})).await);
    let text = |body: &str| json!({"msgtype": "m.text", "body": body});
    let before = send(&alice, &room, "1", text("before")).await;
    let path = format!("/_matrix/client/v3/rooms/{room}/invite");
    assert_eq!(alice.post(&path, json!({"user_id": bob.user_id})).await.0, 200);
    send(&alice, &room, "2", text("invited")).await;
    assert_eq!(bob.post(&format!("/_matrix/client/v3/rooms/{room}/join"), json!({})).await.0, 200);
    send(&alice, &room, "3", text("joined")).await;

    let memberships = |page: &Value| -> Vec<(String, String)> {
        page["chunk"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let what = e["content"]["body"].as_str().or(e["content"]["membership"].as_str());
                (
                    what.unwrap_or("").to_owned(),
                    e["unsigned"]["membership"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let page = format!("/_matrix/client/v3/rooms/{room}/messages?dir=b&limit=5");
    let (_, seen_by_bob) = bob.get(&page).await;
    let expected = [
        ("joined", "join"),
        ("join", "join"),
        ("invited", "invite"),
        ("invite", "invite"),
        ("before", "leave"),
    ];
    let expected: Vec<(String, String)> =
        expected.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
    assert_eq!(memberships(&seen_by_bob), expected);
    let (_, seen_by_alice) = alice.get(&page).await;
    assert!(memberships(&seen_by_alice).iter().all(|(_, m)| m == "join"));
    let (_, event) =
        bob.get(&format!("/_matrix/client/v3/rooms/{room}/event/{}", enc(&before))).await;
    assert_eq!(event["unsigned"]["membership"], "leave");
}

/// MSC2228: `org.matrix.self_destruct_after` in the past has expired, in the future not yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_destructing_messages_are_pruned_once_expired() {
    let server = TestServer::start_with(|c| c.rooms.ephemeral_messages = true).await;
    let alice = server.register("alice").await;
    let room_id = create_room(&alice, json!({})).await;
    let room = enc(&room_id);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let now = now.as_millis() as u64;
    let message = |body: &str, after: Value| json!({"msgtype": "m.text", "body": body, "org.matrix.self_destruct_after": after});
    let expired = send(&alice, &room, "1", message("gone", json!(now - 1))).await;
    let later = send(&alice, &room, "2", message("later", json!(now + 3_600_000))).await;
    let odd = send(&alice, &room, "3", message("odd", json!("soon"))).await;

    let event = |id: &str| format!("/_matrix/client/v3/rooms/{room}/event/{}", enc(id));
    let (status, gone) = alice.get(&event(&expired)).await;
    assert_eq!(status, 200, "{gone}");
    // Pruned for everyone, the sender too, and without a redaction event.
    assert_eq!(gone["content"], json!({}), "{gone}");
    assert!(gone["unsigned"].get("redacted_because").is_none(), "{gone}");
    assert_eq!(alice.get(&event(&later)).await.1["content"]["body"], "later");
    assert_eq!(alice.get(&event(&odd)).await.1["content"]["body"], "odd", "not a timestamp");
    let (_, page) =
        alice.get(&format!("/_matrix/client/v3/rooms/{room}/messages?dir=b&limit=3")).await;
    let contents: Vec<&Value> =
        page["chunk"].as_array().unwrap().iter().map(|e| &e["content"]).collect();
    assert_eq!(contents[2], &json!({}), "{page}");
    assert_eq!(contents[1]["body"], "later", "{page}");
    let (_, sync) = alice.get("/_matrix/client/v3/sync").await;
    let timeline = sync["rooms"]["join"][&room_id]["timeline"]["events"].as_array().unwrap();
    let gone = timeline.iter().find(|e| e["event_id"] == expired).unwrap();
    assert_eq!(gone["content"], json!({}), "{gone}");
}

/// Off by default, as in Synapse: the field is only content.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_destruct_is_ignored_when_not_enabled() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = enc(&create_room(&alice, json!({})).await);
    let content = json!({"msgtype": "m.text", "body": "kept", "org.matrix.self_destruct_after": 1});
    let id = send(&alice, &room, "1", content).await;
    let (_, seen) = alice.get(&format!("/_matrix/client/v3/rooms/{room}/event/{}", enc(&id))).await;
    assert_eq!(seen["content"]["body"], "kept", "{seen}");
}

/// As Synapse: an initial sync that holds the whole room gives the sync's position as
/// `prev_batch`, so `/messages` backwards from it returns the room with an `end`; from that
/// `end` there is nothing more, and no `end`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_from_an_unlimited_initial_sync_prev_batch() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room_id = create_room(&alice, json!({"preset": "public_chat"})).await;
    let room = enc(&room_id);
    send(&alice, &room, "1", json!({"msgtype": "m.text", "body": "hello"})).await;
    let (_, sync) = alice.get("/_matrix/client/v3/sync").await;
    let timeline = &sync["rooms"]["join"][&room_id]["timeline"];
    assert_eq!(timeline["limited"], false, "{timeline}");
    let from = timeline["prev_batch"].as_str().unwrap();
    let base = format!("/_matrix/client/v3/rooms/{room}/messages?dir=b");
    let (status, page) = alice.get(&format!("{base}&from={from}")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(bodies(&page), ["hello"]);
    let end = page["end"].as_str().expect("an end after events");
    let (_, rest) = alice.get(&format!("{base}&from={end}")).await;
    assert_eq!(rest["chunk"], json!([]), "{rest}");
    assert!(rest.get("end").is_none(), "{rest}");

    // Incremental syncs keep pointing before their first event.
    let next = sync["next_batch"].as_str().unwrap();
    send(&alice, &room, "2", json!({"msgtype": "m.text", "body": "again"})).await;
    let (_, sync) = alice.get(&format!("/_matrix/client/v3/sync?since={next}")).await;
    let from = sync["rooms"]["join"][&room_id]["timeline"]["prev_batch"].as_str().unwrap();
    let (_, page) = alice.get(&format!("{base}&from={from}&limit=1")).await;
    assert_eq!(bodies(&page), ["hello"]);
}
