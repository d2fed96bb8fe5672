//! Profiles in member events: joins, invites and knocks carry the display name and avatar, and
//! a profile change reaches every joined room as a new member event.

use serde_json::{Value, json};

use crate::{
    common::{TestServer, User},
    rooms::{create_room, enc},
};

async fn set_profile(user: &User, field: &str, value: &str) {
    let path = format!("/_matrix/client/v3/profile/{}/{field}", enc(&user.user_id));
    let (status, body) = user.put(&path, json!({ field: value })).await;
    assert_eq!(status, 200, "{body}");
}

/// The member event of `target` in `room`, as `viewer` sees it.
async fn member(viewer: &User, room: &str, target: &User) -> Value {
    let path = format!(
        "/_matrix/client/v3/rooms/{}/state/m.room.member/{}",
        enc(room),
        enc(&target.user_id)
    );
    let (status, content) = viewer.get(&path).await;
    assert_eq!(status, 200, "{content}");
    content
}

/// How many member events of `target` the room's timeline holds.
async fn member_events(viewer: &User, room: &str, target: &User) -> usize {
    let path = format!("/_matrix/client/v3/rooms/{}/messages?dir=b&limit=100", enc(room));
    let (_, page) = viewer.get(&path).await;
    page["chunk"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "m.room.member" && e["state_key"] == target.user_id.as_str())
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_invites_and_knocks_carry_the_profile() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    set_profile(&alice, "displayname", "Alice").await;
    set_profile(&alice, "avatar_url", "mxc://localhost/alice").await;
    set_profile(&bob, "displayname", "Bob").await;
    set_profile(&carol, "displayname", "Carol").await;

    let room =
        create_room(&alice, json!({"preset": "public_chat", "invite": [carol.user_id]})).await;
    let creator = member(&alice, &room, &alice).await;
    assert_eq!(
        (creator["displayname"].as_str(), creator["avatar_url"].as_str()),
        (Some("Alice"), Some("mxc://localhost/alice"))
    );
    assert_eq!(member(&alice, &room, &carol).await["displayname"], "Carol", "createRoom invites");
    let (status, _) =
        bob.post(&format!("/_matrix/client/v3/rooms/{}/join", enc(&room)), json!({})).await;
    assert_eq!(status, 200);
    let joined = member(&alice, &room, &bob).await;
    assert_eq!(joined["displayname"], "Bob");
    assert!(joined.get("avatar_url").is_none(), "no avatar set: {joined}");
    let (_, members) =
        alice.get(&format!("/_matrix/client/v3/rooms/{}/joined_members", enc(&room))).await;
    assert_eq!(members["joined"][&bob.user_id]["display_name"], "Bob");

    // /invite carries the invitee's profile; a knock the knocker's.
    let private = create_room(&alice, json!({})).await;
    let path = format!("/_matrix/client/v3/rooms/{}/invite", enc(&private));
    assert_eq!(alice.post(&path, json!({"user_id": bob.user_id})).await.0, 200);
    assert_eq!(member(&alice, &private, &bob).await["displayname"], "Bob");
    let rules =
        json!([{"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "knock"}}]);
    let knock_room = create_room(&alice, json!({"initial_state": rules})).await;
    let (status, _) =
        carol.post(&format!("/_matrix/client/v3/knock/{}", enc(&knock_room)), json!({})).await;
    assert_eq!(status, 200);
    let knock = member(&alice, &knock_room, &carol).await;
    assert_eq!(
        (knock["membership"].as_str(), knock["displayname"].as_str()),
        (Some("knock"), Some("Carol"))
    );

    // A per-room name set by the client is kept; the missing avatar comes from the profile.
    let path = format!(
        "/_matrix/client/v3/rooms/{}/state/m.room.member/{}",
        enc(&room),
        enc(&alice.user_id)
    );
    let (status, body) = alice.put(&path, json!({"membership": "join", "displayname": "Al"})).await;
    assert_eq!(status, 200, "{body}");
    let nick = member(&alice, &room, &alice).await;
    assert_eq!(
        (nick["displayname"].as_str(), nick["avatar_url"].as_str()),
        (Some("Al"), Some("mxc://localhost/alice"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_changes_reach_every_joined_room() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let first = create_room(&alice, json!({"preset": "public_chat"})).await;
    let second = create_room(&alice, json!({"preset": "public_chat", "room_version": "1"})).await;
    let invited = create_room(&alice, json!({"invite": [bob.user_id]})).await;
    for room in [&first, &second] {
        let (status, _) =
            bob.post(&format!("/_matrix/client/v3/rooms/{}/join", enc(room)), json!({})).await;
        assert_eq!(status, 200);
    }

    set_profile(&bob, "displayname", "Robert").await;
    set_profile(&bob, "avatar_url", "mxc://localhost/bob").await;
    for room in [&first, &second] {
        let event = member(&alice, room, &bob).await;
        assert_eq!(event["membership"], "join");
        assert_eq!(event["displayname"], "Robert");
        assert_eq!(event["avatar_url"], "mxc://localhost/bob");
        assert_eq!(member_events(&alice, room, &bob).await, 3, "join, name, avatar");
        let (_, members) =
            alice.get(&format!("/_matrix/client/v3/rooms/{}/joined_members", enc(room))).await;
        assert_eq!(members["joined"][&bob.user_id]["avatar_url"], "mxc://localhost/bob");
    }
    // Not joined: the invite is left as it was.
    assert!(member(&alice, &invited, &bob).await.get("avatar_url").is_none());

    // The same value again, or another field, sends nothing.
    set_profile(&bob, "displayname", "Robert").await;
    set_profile(&bob, "m.tz", "Europe/Paris").await;
    assert_eq!(member_events(&alice, &first, &bob).await, 3);
    // Removing the name removes it from the rooms.
    let path = format!("/_matrix/client/v3/profile/{}/displayname", enc(&bob.user_id));
    assert_eq!(bob.delete(&path).await.0, 200);
    let event = member(&alice, &first, &bob).await;
    assert!(event.get("displayname").is_none(), "{event}");
    assert_eq!(event["avatar_url"], "mxc://localhost/bob");
}
