//! The space hierarchy and room summaries.

use serde_json::{Value, json};

use crate::{
    common::{TestServer, User, assert_error},
    rooms::{create_room, enc},
};

async fn add_child(user: &User, space: &str, child: &str, content: Value) {
    let path =
        format!("/_matrix/client/v3/rooms/{}/state/m.space.child/{}", enc(space), enc(child));
    let (status, body) = user.put(&path, content).await;
    assert_eq!(status, 200, "{body}");
}

fn names(page: &Value) -> Vec<String> {
    page["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap_or("?").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hierarchy_walks_the_space_for_the_user() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let space = |name: &str| json!({"name": name, "preset": "public_chat", "creation_content": {"type": "m.space"}});
    let s = create_room(&alice, space("S")).await;
    let a = create_room(&alice, json!({"name": "A", "preset": "public_chat"})).await;
    let b = create_room(&alice, json!({"name": "B"})).await;
    let t = create_room(&alice, space("T")).await;
    let d = create_room(&alice, json!({"name": "D", "preset": "public_chat"})).await;
    let via = json!(["localhost"]);
    add_child(&alice, &s, &a, json!({"via": via, "order": "b"})).await;
    add_child(&alice, &s, &b, json!({"via": via, "order": "a"})).await;
    add_child(&alice, &s, &t, json!({"via": via, "suggested": true})).await;
    add_child(&alice, &s, "!remote:elsewhere.org", json!({"via": ["elsewhere.org"]})).await;
    add_child(&alice, &s, &d, json!({})).await; // no `via`: not a child
    add_child(&alice, &t, &d, json!({"via": via, "suggested": true})).await;

    let base = format!("/_matrix/client/v1/rooms/{}/hierarchy", enc(&s));
    // Alice sees everything; bob skips the invite-only room; remote rooms are skipped.
    let (status, page) = alice.get(&base).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(names(&page), ["S", "B", "A", "T", "D"]);
    assert!(page.get("next_batch").is_none());
    let root = &page["rooms"][0];
    assert_eq!(root["room_type"], "m.space");
    assert_eq!(root["num_joined_members"], 1);
    let children: Vec<&str> = root["children_state"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["state_key"].as_str().unwrap())
        .collect();
    assert_eq!(children.len(), 4, "{root}");
    assert_eq!(children[0], b, "ordered by `order` first");
    assert!(root["children_state"][0]["origin_server_ts"].is_u64());
    let (_, page) = bob.get(&base).await;
    assert_eq!(names(&page), ["S", "A", "T", "D"]);

    // suggested_only, max_depth.
    let (_, page) = alice.get(&format!("{base}?suggested_only=true")).await;
    assert_eq!(names(&page), ["S", "T", "D"]);
    let (_, page) = alice.get(&format!("{base}?max_depth=1")).await;
    assert_eq!(names(&page), ["S", "B", "A", "T"]);
    let (_, page) = alice.get(&format!("{base}?max_depth=0")).await;
    assert_eq!(names(&page), ["S"]);

    // Pages of two.
    let (_, first) = alice.get(&format!("{base}?limit=2")).await;
    assert_eq!(names(&first), ["S", "B"]);
    let token = first["next_batch"].as_str().unwrap().to_owned();
    assert_error(
        &alice.get(&format!("{base}?limit=2&from={token}&max_depth=1")).await,
        400,
        "M_INVALID_PARAM",
    );
    let (_, first) = alice.get(&format!("{base}?limit=2")).await;
    let token = first["next_batch"].as_str().unwrap();
    let (_, second) = alice.get(&format!("{base}?limit=2&from={token}")).await;
    assert_eq!(names(&second), ["A", "T"]);
    let (_, third) =
        alice.get(&format!("{base}?limit=2&from={}", second["next_batch"].as_str().unwrap())).await;
    assert_eq!(names(&third), ["D"]);
    assert!(third.get("next_batch").is_none());
    assert_error(&bob.get(&format!("{base}?from={token}")).await, 400, "M_INVALID_PARAM");
    assert_error(&alice.get(&format!("{base}?from=nonsense")).await, 400, "M_INVALID_PARAM");
    assert_error(&alice.get(&format!("{base}?limit=0")).await, 400, "M_INVALID_PARAM");

    // A restricted room opens to members of its allowed room; private spaces stay closed.
    let r = create_room(&alice, json!({"name": "R", "initial_state": [{"type": "m.room.join_rules",
        "content": {"join_rule": "restricted", "allow": [{"type": "m.room_membership", "room_id": s}]}}]})).await;
    add_child(&alice, &s, &r, json!({"via": via})).await;
    let (_, page) = bob.get(&base).await;
    assert!(!names(&page).contains(&"R".to_owned()));
    let (status, _) =
        bob.post(&format!("/_matrix/client/v3/rooms/{}/join", enc(&s)), json!({})).await;
    assert_eq!(status, 200);
    let (_, page) = bob.get(&base).await;
    assert!(names(&page).contains(&"R".to_owned()), "{page}");
    let private = create_room(&alice, json!({"creation_content": {"type": "m.space"}})).await;
    let path = format!("/_matrix/client/v1/rooms/{}/hierarchy", enc(&private));
    assert_error(&bob.get(&path).await, 403, "M_FORBIDDEN");
    assert_error(
        &bob.get("/_matrix/client/v1/rooms/%21nope%3Alocalhost/hierarchy").await,
        403,
        "M_FORBIDDEN",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_summary_previews_what_the_caller_may_see() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let public = create_room(&alice, json!({"name": "Open", "topic": "all welcome",
        "preset": "public_chat", "room_alias_name": "open",
        "initial_state": [{"type": "m.room.encryption", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]})).await;
    let private = create_room(&alice, json!({"name": "Closed"})).await;
    let summary = |room: &str| format!("/_matrix/client/v1/room_summary/{}", enc(room));

    let (status, body) = server.client().get(&summary(&public)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["room_id"], public);
    assert_eq!(body["name"], "Open");
    assert_eq!(body["topic"], "all welcome");
    assert_eq!(body["canonical_alias"], "#open:localhost");
    assert_eq!(body["num_joined_members"], 1);
    assert_eq!(body["room_version"], "12");
    assert_eq!(body["encryption"], "m.megolm.v1.aes-sha2");
    assert!(body.get("membership").is_none());
    let (status, by_alias) = bob.get(&summary("#open:localhost")).await;
    assert_eq!(status, 200, "{by_alias}");
    assert_eq!(by_alias["room_id"], public);
    let (_, mine) = alice.get(&summary(&public)).await;
    assert_eq!(mine["membership"], "join");
    // MSC3266's unstable path.
    let unstable =
        format!("/_matrix/client/unstable/im.nheko.summary/rooms/{}/summary", enc(&public));
    assert_eq!(bob.get(&unstable).await.0, 200);

    // A private room: members and invitees only.
    assert_error(&server.client().get(&summary(&private)).await, 404, "M_NOT_FOUND");
    assert_error(&bob.get(&summary(&private)).await, 404, "M_NOT_FOUND");
    let invite = format!("/_matrix/client/v3/rooms/{}/invite", enc(&private));
    assert_eq!(alice.post(&invite, json!({"user_id": bob.user_id})).await.0, 200);
    let (status, body) = bob.get(&summary(&private)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["membership"], "invite");
    assert_eq!(body["join_rule"], "invite");

    assert_error(&bob.get(&summary("!nope:localhost")).await, 404, "M_NOT_FOUND");
    assert_error(&bob.get(&summary("#nope:elsewhere.org")).await, 404, "M_NOT_FOUND");
}
