//! Membership: invite, join, leave, forget, kick, ban, unban, knock, restricted joins.

use serde_json::json;

use crate::{
    common::{TestServer, assert_error},
    rooms::{create_room, enc},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_join_leave_forget() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = enc(&create_room(&alice, json!({})).await);
    let base = format!("/_matrix/client/v3/rooms/{room}");
    // Private room: bob cannot join uninvited.
    assert_error(&bob.post(&format!("{base}/join"), json!({})).await, 403, "M_FORBIDDEN");
    let (status, body) =
        alice.post(&format!("{base}/invite"), json!({"user_id": bob.user_id})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = bob.post(&format!("{base}/join"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    let (_, rooms) = bob.get("/_matrix/client/v3/joined_rooms").await;
    assert_eq!(rooms["joined_rooms"].as_array().unwrap().len(), 1);
    let (status, members) = bob.get(&format!("{base}/joined_members")).await;
    assert_eq!(status, 200, "{members}");
    assert_eq!(members["joined"].as_object().unwrap().len(), 2);
    // Both keys always, `null` when unset (Synapse).
    assert_eq!(members["joined"][&bob.user_id], json!({"display_name": "bob", "avatar_url": null}));
    let (status, members) = bob.get(&format!("{base}/members?membership=join")).await;
    assert_eq!(status, 200, "{members}");
    assert_eq!(members["chunk"].as_array().unwrap().len(), 2);

    // Forgetting needs leaving first.
    assert_error(&bob.post(&format!("{base}/forget"), json!({})).await, 400, "M_UNKNOWN");
    let (status, _) = bob.post(&format!("{base}/leave"), json!({})).await;
    assert_eq!(status, 200);
    assert_error(&bob.post(&format!("{base}/leave"), json!({})).await, 403, "M_FORBIDDEN");
    let (status, _) = bob.post(&format!("{base}/forget"), json!({})).await;
    assert_eq!(status, 200);
    let (_, rooms) = bob.get("/_matrix/client/v3/joined_rooms").await;
    assert!(rooms["joined_rooms"].as_array().unwrap().is_empty());
    let (status, members) = alice.get(&format!("{base}/members?not_membership=leave")).await;
    assert_eq!(status, 200);
    assert_eq!(members["chunk"].as_array().unwrap().len(), 1);
    // Unknown rooms.
    assert_error(
        &bob.post("/_matrix/client/v3/rooms/%21nope%3Alocalhost/join", json!({})).await,
        404,
        "M_NOT_FOUND",
    );
    assert_error(
        &bob.post("/_matrix/client/v3/join/%23nope%3Aelsewhere.org", json!({})).await,
        404,
        "M_NOT_FOUND",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kick_ban_unban_need_power() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    for version in ["10", "12"] {
        let room =
            enc(&create_room(&alice, json!({"preset": "public_chat", "room_version": version}))
                .await);
        let base = format!("/_matrix/client/v3/rooms/{room}");
        for u in [&bob, &carol] {
            let (status, _) = u.post(&format!("{base}/join"), json!({})).await;
            assert_eq!(status, 200);
        }
        // Bob (power 0) may not kick or ban carol.
        assert_error(
            &bob.post(&format!("{base}/kick"), json!({"user_id": carol.user_id})).await,
            403,
            "M_FORBIDDEN",
        );
        assert_error(
            &bob.post(&format!("{base}/ban"), json!({"user_id": carol.user_id})).await,
            403,
            "M_FORBIDDEN",
        );
        // Nor the creator, who in v12 has infinite power and before is at 100.
        assert_error(
            &bob.post(&format!("{base}/kick"), json!({"user_id": alice.user_id})).await,
            403,
            "M_FORBIDDEN",
        );
        let (status, body) = alice
            .post(&format!("{base}/kick"), json!({"user_id": carol.user_id, "reason": "r"}))
            .await;
        assert_eq!(status, 200, "v{version}: {body}");
        // Kicking someone not in the room (gone, or never there) is refused, as in Synapse.
        for gone in [carol.user_id.as_str(), "@nobody:example.org"] {
            let again = alice.post(&format!("{base}/kick"), json!({"user_id": gone})).await;
            assert_error(&again, 403, "M_FORBIDDEN");
        }
        let (status, _) =
            alice.post(&format!("{base}/ban"), json!({"user_id": carol.user_id})).await;
        assert_eq!(status, 200);
        assert_error(&carol.post(&format!("{base}/join"), json!({})).await, 403, "M_FORBIDDEN");
        // A banned user is unbanned, not kicked or invited.
        for action in ["kick", "invite"] {
            let response =
                alice.post(&format!("{base}/{action}"), json!({"user_id": carol.user_id})).await;
            assert_error(&response, 403, "M_FORBIDDEN");
        }
        assert_error(
            &alice.post(&format!("{base}/unban"), json!({"user_id": bob.user_id})).await,
            403,
            "M_FORBIDDEN",
        );
        let (status, _) =
            alice.post(&format!("{base}/unban"), json!({"user_id": carol.user_id})).await;
        assert_eq!(status, 200);
        let (status, _) = carol.post(&format!("{base}/join"), json!({})).await;
        assert_eq!(status, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_leave_when_guest_access_is_revoked() {
    let server = TestServer::start_with(|c| c.registration.allow_guests = true).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (_, guest) =
        server.client().post("/_matrix/client/v3/register?kind=guest", json!({})).await;
    let guest_id = guest["user_id"].as_str().unwrap().to_owned();
    let guest = server.client().with_token(guest["access_token"].as_str().unwrap());
    let room = enc(&create_room(&alice, json!({"preset": "public_chat"})).await);
    let base = format!("/_matrix/client/v3/rooms/{room}");
    // No guest access yet: guests may not join.
    assert_error(&guest.post(&format!("{base}/join"), json!({})).await, 403, "M_FORBIDDEN");
    let access = format!("{base}/state/m.room.guest_access");
    assert_eq!(alice.put(&access, json!({"guest_access": "can_join"})).await.0, 200);
    assert_eq!(guest.post(&format!("{base}/join"), json!({})).await.0, 200);
    assert_eq!(bob.post(&format!("{base}/join"), json!({})).await.0, 200);

    assert_eq!(alice.put(&access, json!({"guest_access": "forbidden"})).await.0, 200);
    let member = |user: &str| format!("{base}/state/m.room.member/{}", enc(user));
    let (_, content) = alice.get(&member(&guest_id)).await;
    assert_eq!(content["membership"], "leave", "the guest left: {content}");
    let (_, content) = alice.get(&member(&bob.user_id)).await;
    assert_eq!(content["membership"], "join", "full members stay");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_with_custom_content() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room =
        create_room(&alice, json!({"preset": "public_chat", "room_alias_name": "club"})).await;
    let member = format!(
        "/_matrix/client/v3/rooms/{}/state/m.room.member/{}",
        enc(&room),
        enc(&bob.user_id)
    );
    let (status, body) = bob
        .post(&format!("/_matrix/client/v3/rooms/{}/join", enc(&room)), json!({"foo": "bar"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, content) = bob.get(&member).await;
    assert_eq!(content["foo"], "bar", "{content}");
    assert_eq!(content["membership"], "join");
    assert_eq!(content["displayname"], "bob", "the profile is still filled in");
    // By alias too; the server's own fields win over the client's.
    let body = json!({"foo": "baz", "membership": "leave",
                      "join_authorised_via_users_server": alice.user_id});
    let (status, _) = bob.post("/_matrix/client/v3/join/%23club%3Alocalhost", body).await;
    assert_eq!(status, 200);
    let (_, content) = bob.get(&member).await;
    assert_eq!((&content["foo"], &content["membership"]), (&json!("baz"), &json!("join")));
    assert!(content.get("join_authorised_via_users_server").is_none(), "{content}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knock_and_restricted_joins() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    // Knocking: v7+ with join_rule knock.
    let knock_rules =
        json!([{"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "knock"}}]);
    let room = create_room(&alice, json!({"initial_state": knock_rules})).await;
    let (status, body) = bob
        .post(&format!("/_matrix/client/v3/knock/{}", enc(&room)), json!({"reason": "hi"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, members) = alice
        .get(&format!("/_matrix/client/v3/rooms/{}/members?membership=knock", enc(&room)))
        .await;
    assert_eq!(members["chunk"][0]["state_key"], bob.user_id);
    // Knocking where the rule is invite fails.
    let private = create_room(&alice, json!({})).await;
    assert_error(
        &bob.post(&format!("/_matrix/client/v3/knock/{}", enc(&private)), json!({})).await,
        403,
        "M_FORBIDDEN",
    );

    // Restricted: members of `space` may join.
    let space = create_room(&alice, json!({"preset": "public_chat"})).await;
    let rules = json!([{"type": "m.room.join_rules", "state_key": "", "content": {
        "join_rule": "restricted", "allow": [{"type": "m.room_membership", "room_id": space}]}}]);
    let restricted = enc(&create_room(&alice, json!({"initial_state": rules})).await);
    assert_error(
        &bob.post(&format!("/_matrix/client/v3/rooms/{restricted}/join"), json!({})).await,
        403,
        "M_FORBIDDEN",
    );
    let (status, _) =
        bob.post(&format!("/_matrix/client/v3/rooms/{}/join", enc(&space)), json!({})).await;
    assert_eq!(status, 200);
    let (status, body) =
        bob.post(&format!("/_matrix/client/v3/rooms/{restricted}/join"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    let (_, event) = bob
        .get(&format!(
            "/_matrix/client/v3/rooms/{restricted}/state/m.room.member/{}",
            enc(&bob.user_id)
        ))
        .await;
    assert_eq!(event["join_authorised_via_users_server"], alice.user_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_leaves_rooms_and_rejects_invites_and_knocks() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let joined = create_room(&alice, json!({"preset": "public_chat"})).await;
    let invited = create_room(&alice, json!({"invite": [bob.user_id]})).await;
    let rules =
        json!([{"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "knock"}}]);
    let knocked = create_room(&alice, json!({"initial_state": rules})).await;
    let banned = create_room(&alice, json!({"preset": "public_chat"})).await;
    for (path, room) in [("rooms", &joined), ("knock", &knocked), ("rooms", &banned)] {
        let suffix = if path == "rooms" { "/join" } else { "" };
        let url = format!("/_matrix/client/v3/{path}/{}{suffix}", enc(room));
        assert_eq!(bob.post(&url, json!({})).await.0, 200, "{url}");
    }
    let url = format!("/_matrix/client/v3/rooms/{}/ban", enc(&banned));
    assert_eq!(alice.post(&url, json!({"user_id": bob.user_id})).await.0, 200);

    let path = "/_matrix/client/v3/account/deactivate";
    let session = bob.post(path, json!({})).await.1["session"].clone();
    let auth = json!({"type": "m.login.password", "session": session,
        "identifier": {"type": "m.id.user", "user": "bob"}, "password": "password123"});
    let (status, body) = bob.post(path, json!({"auth": auth})).await;
    assert_eq!(status, 200, "{body}");

    for (room, expected) in
        [(&joined, "leave"), (&invited, "leave"), (&knocked, "leave"), (&banned, "ban")]
    {
        let url = format!(
            "/_matrix/client/v3/rooms/{}/state/m.room.member/{}",
            enc(room),
            enc(&bob.user_id)
        );
        let (status, content) = alice.get(&url).await;
        assert_eq!(status, 200, "{content}");
        assert_eq!(content["membership"], expected, "{room}");
    }
    let (_, members) =
        alice.get(&format!("/_matrix/client/v3/rooms/{}/joined_members", enc(&joined))).await;
    assert_eq!(members["joined"].as_object().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn third_party_invites_need_an_identity_server() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = enc(&create_room(&alice, json!({})).await);
    let invite = json!({"id_server": "id.example.org", "id_access_token": "t",
        "medium": "email", "address": "bob@example.org"});
    let refused =
        alice.post(&format!("/_matrix/client/v3/rooms/{room}/invite"), invite.clone()).await;
    assert_error(&refused, 403, "M_FORBIDDEN");
    assert!(refused.1["error"].as_str().unwrap().contains("identity server"), "{}", refused.1);
    let unknown = alice.post("/_matrix/client/v3/rooms/%21nope%3Alocalhost/invite", invite).await;
    assert_error(&unknown, 404, "M_NOT_FOUND");
    // Without the identity server's token the request is malformed.
    let partial =
        json!({"id_server": "id.example.org", "medium": "email", "address": "b@example.org"});
    let bad = alice.post(&format!("/_matrix/client/v3/rooms/{room}/invite"), partial).await;
    assert_error(&bad, 400, "M_BAD_JSON");
    // Nothing was stored: alice is the only member.
    let (_, members) = alice.get(&format!("/_matrix/client/v3/rooms/{room}/members")).await;
    assert_eq!(members["chunk"].as_array().unwrap().len(), 1);
}
