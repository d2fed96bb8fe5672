//! Room upgrades: permissions, the replacement room's create event and copied state, the
//! tombstone, moved aliases and listing, restricted old power levels, v12 creators.

use serde_json::{Value, json};

use crate::{
    common::{TestServer, User, assert_error},
    rooms::{create_room, enc},
};

async fn upgrade(user: &User, room: &str, body: Value) -> (reqwest::StatusCode, Value) {
    user.post(&format!("/_matrix/client/v3/rooms/{}/upgrade", enc(room)), body).await
}

async fn state(user: &User, room: &str) -> Vec<Value> {
    let (status, body) = user.get(&format!("/_matrix/client/v3/rooms/{}/state", enc(room))).await;
    assert_eq!(status, 200, "{body}");
    body.as_array().unwrap().clone()
}

fn find<'a>(state: &'a [Value], kind: &str, key: &str) -> Option<&'a Value> {
    state.iter().find(|e| e["type"] == kind && e["state_key"] == key)
}

async fn join(user: &User, room: &str) {
    let path = format!("/_matrix/client/v3/rooms/{}/join", enc(room));
    let (status, body) = user.post(&path, json!({})).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_replaces_the_room() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let old = create_room(
        &alice,
        json!({
            "room_version": "11", "preset": "public_chat", "visibility": "public",
            "name": "Hearth", "topic": "fire", "room_alias_name": "up",
            "initial_state": [
                {"type": "m.room.encryption", "content": {"algorithm": "m.megolm.v1.aes-sha2"}},
                {"type": "m.room.avatar", "content": {"url": "mxc://localhost/a"}},
                {"type": "m.room.history_visibility", "content": {"history_visibility": "world_readable"}},
                {"type": "m.room.server_acl", "content": {"allow": ["*"], "deny": ["bad.example"]}},
                {"type": "org.example.custom", "content": {"kept": false}},
            ],
            "power_level_content_override": {"users": {alice.user_id.clone(): 100, bob.user_id.clone(): 50}},
        }),
    )
    .await;
    join(&bob, &old).await;
    join(&carol, &old).await;
    let ban = format!("/_matrix/client/v3/rooms/{}/ban", enc(&old));
    let (status, _) = alice.post(&ban, json!({"user_id": carol.user_id, "reason": "spam"})).await;
    assert_eq!(status, 200);

    // Bob's settings for the room: a tag and a direct-chat mark.
    let tags = |room: &str| {
        format!("/_matrix/client/v3/user/{}/rooms/{}/tags", enc(&bob.user_id), enc(room))
    };
    assert_eq!(bob.put(&format!("{}/u.work", tags(&old)), json!({"order": 0.5})).await.0, 200);
    let direct = format!("/_matrix/client/v3/user/{}/account_data/m.direct", enc(&bob.user_id));
    assert_eq!(bob.put(&direct, json!({alice.user_id.clone(): [old]})).await.0, 200);

    let (status, body) = upgrade(&alice, &old, json!({"new_version": "12"})).await;
    assert_eq!(status, 200, "{body}");
    let new = body["replacement_room"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    let (_, moved) = bob.get(&tags(&new)).await;
    assert_eq!(moved["tags"]["u.work"]["order"], 0.5, "{moved}");
    let (_, marks) = bob.get(&direct).await;
    assert_eq!(marks[&alice.user_id], json!([old, new]));

    // The old room: a tombstone, talk and invites restricted, the alias gone from it.
    let old_state = state(&alice, &old).await;
    let tombstone = find(&old_state, "m.room.tombstone", "").expect("tombstone");
    assert_eq!(tombstone["content"]["replacement_room"], new);
    let old_levels = &find(&old_state, "m.room.power_levels", "").unwrap()["content"];
    assert_eq!(old_levels["events_default"], 50);
    assert_eq!(old_levels["invite"], 50);
    assert_eq!(find(&old_state, "m.room.canonical_alias", "").unwrap()["content"], json!({}));
    let send = format!("/_matrix/client/v3/rooms/{}/send/m.room.message/t1", enc(&old));
    let hello = json!({"msgtype": "m.text", "body": "hello?"});
    assert_error(
        &server.register("dave").await.put(&send, hello.clone()).await,
        403,
        "M_FORBIDDEN",
    );

    // The new room: its predecessor, the copied state, the bans, power levels without the
    // (v12) creator, the alias.
    let new_state = state(&alice, &new).await;
    let create = &find(&new_state, "m.room.create", "").unwrap()["content"];
    assert_eq!(create["room_version"], "12");
    assert_eq!(create["predecessor"]["room_id"], old);
    // A v12 room's ID is its create event's hash, so it cannot name the later tombstone.
    assert!(create["predecessor"].get("event_id").is_none(), "{create}");
    for kind in [
        "m.room.name",
        "m.room.topic",
        "m.room.encryption",
        "m.room.avatar",
        "m.room.history_visibility",
        "m.room.server_acl",
        "m.room.join_rules",
    ] {
        assert_eq!(
            find(&new_state, kind, "").map(|e| &e["content"]),
            find(&old_state, kind, "").map(|e| &e["content"]),
            "{kind}"
        );
    }
    // No guest access event (a public_chat room) means forbidden: the new room says so.
    let old_guests = find(&old_state, "m.room.guest_access", "").map(|e| e["content"].clone());
    assert_eq!(
        find(&new_state, "m.room.guest_access", "").unwrap()["content"],
        old_guests.unwrap_or(json!({"guest_access": "forbidden"}))
    );
    assert!(find(&new_state, "org.example.custom", "").is_none());
    let levels = &find(&new_state, "m.room.power_levels", "").unwrap()["content"];
    assert_eq!(levels["users"], json!({bob.user_id.clone(): 50}));
    let banned = find(&new_state, "m.room.member", &carol.user_id).expect("ban copied");
    assert_eq!(banned["content"]["membership"], "ban");
    assert_eq!(banned["content"]["reason"], "spam");
    assert!(find(&new_state, "m.room.member", &bob.user_id).is_none(), "members are not moved");
    assert_eq!(
        find(&new_state, "m.room.canonical_alias", "").unwrap()["content"]["alias"],
        "#up:localhost"
    );
    let (_, alias) = alice.get("/_matrix/client/v3/directory/room/%23up%3Alocalhost").await;
    assert_eq!(alias["room_id"], new);
    let (_, listed) = server.client().get("/_matrix/client/v3/publicRooms").await;
    let listed: Vec<_> =
        listed["chunk"].as_array().unwrap().iter().map(|r| r["room_id"].clone()).collect();
    assert_eq!(listed, vec![json!(new)]);
    // Bob follows and talks there.
    join(&bob, &new).await;
    let send = format!("/_matrix/client/v3/rooms/{}/send/m.room.message/t2", enc(&new));
    assert_eq!(bob.put(&send, hello).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_errors() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = create_room(&alice, json!({"preset": "public_chat"})).await;
    assert_error(
        &upgrade(&alice, &room, json!({"new_version": "999"})).await,
        400,
        "M_UNSUPPORTED_ROOM_VERSION",
    );
    let made_up = upgrade(&alice, &room, json!({"new_version": "my_made_up_version"})).await;
    assert_error(&made_up, 400, "M_UNSUPPORTED_ROOM_VERSION");
    assert_error(&upgrade(&alice, &room, json!({})).await, 400, "M_BAD_JSON");
    assert_error(&upgrade(&bob, &room, json!({"new_version": "12"})).await, 403, "M_FORBIDDEN");
    join(&bob, &room).await;
    assert_error(&upgrade(&bob, &room, json!({"new_version": "12"})).await, 403, "M_FORBIDDEN");
    assert_error(
        &upgrade(&alice, "!nope:localhost", json!({"new_version": "12"})).await,
        404,
        "M_NOT_FOUND",
    );
    // Nothing was created or changed by the failures.
    let (_, rooms) = alice.get("/_matrix/client/v3/joined_rooms").await;
    assert_eq!(rooms["joined_rooms"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_keeps_spaces_creators_and_levels() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    // A v12 space with a child: into v12 again with bob as an additional creator.
    let space = create_room(
        &alice,
        json!({"creation_content": {"type": "m.space"}, "preset": "public_chat"}),
    )
    .await;
    let child = create_room(&alice, json!({})).await;
    let path =
        format!("/_matrix/client/v3/rooms/{}/state/m.space.child/{}", enc(&space), enc(&child));
    assert_eq!(alice.put(&path, json!({"via": ["localhost"]})).await.0, 200);
    let (status, body) =
        upgrade(&alice, &space, json!({"new_version": "12", "additional_creators": [bob.user_id]}))
            .await;
    assert_eq!(status, 200, "{body}");
    let new = body["replacement_room"].as_str().unwrap().to_owned();
    let new_state = state(&alice, &new).await;
    let create = &find(&new_state, "m.room.create", "").unwrap()["content"];
    assert_eq!(create["type"], "m.space");
    assert_eq!(create["additional_creators"], json!([bob.user_id]));
    assert_eq!(
        find(&new_state, "m.space.child", &child).unwrap()["content"]["via"],
        json!(["localhost"])
    );

    // From v12 into v10: the creator's power becomes an explicit 100; additional creators are
    // ignored by versions without them.
    let (status, body) =
        upgrade(&alice, &new, json!({"new_version": "10", "additional_creators": [bob.user_id]}))
            .await;
    assert_eq!(status, 200, "{body}");
    let v10 = body["replacement_room"].as_str().unwrap().to_owned();
    let v10_state = state(&alice, &v10).await;
    let create = &find(&v10_state, "m.room.create", "").unwrap()["content"];
    assert!(create.get("additional_creators").is_none(), "{create}");
    // Before v12 the predecessor names the tombstone.
    let tombstone = find(&state(&alice, &new).await, "m.room.tombstone", "").unwrap().clone();
    assert_eq!(create["predecessor"]["event_id"], tombstone["event_id"]);
    assert_eq!(tombstone["content"]["replacement_room"], v10);
    let levels = &find(&v10_state, "m.room.power_levels", "").unwrap()["content"];
    assert_eq!(levels["users"][&alice.user_id], 100);

    // Before v12 a moderator who may send the tombstone but not every copied event is lifted
    // for the copy, then put back.
    let room = create_room(
        &alice,
        json!({"room_version": "10", "preset": "public_chat",
               "initial_state": [{"type": "m.room.encryption", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}],
               "power_level_content_override": {
                   "users": {alice.user_id.clone(): 100, bob.user_id.clone(): 50},
                   "events": {"m.room.tombstone": 50, "m.room.encryption": 100, "m.room.power_levels": 100}}}),
    )
    .await;
    join(&bob, &room).await;
    let (status, body) = upgrade(&bob, &room, json!({"new_version": "10"})).await;
    assert_eq!(status, 200, "{body}");
    let new = body["replacement_room"].as_str().unwrap().to_owned();
    let new_state = state(&bob, &new).await;
    assert!(find(&new_state, "m.room.encryption", "").is_some());
    let levels = &find(&new_state, "m.room.power_levels", "").unwrap()["content"];
    assert_eq!(levels["users"][&bob.user_id], 50, "{levels}");
    assert_eq!(levels["users"][&alice.user_id], 100);
}
