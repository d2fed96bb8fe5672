//! Lists: ordering by recent activity, windows, counts and filters.

use serde_json::{Value, json};

use super::*;
use crate::{
    common::TestServer,
    rooms::create_room,
    sync::{join, put_state, say},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_follow_activity_and_windows_send_only_their_rooms() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let mut rooms = Vec::new();
    for _ in 0..4 {
        rooms.push(create_room(&alice, json!({})).await);
    }
    let (r0, r1, r2, r3) = (&rooms[0], &rooms[1], &rooms[2], &rooms[3]);
    let body = |ranges: Value| json!({"lists": {"all": list(ranges, 1, json!([]))}});

    // The two most recently created rooms, of four.
    let first = ss(&alice, None, body(json!([[0, 1]]))).await;
    assert_eq!(first["lists"]["all"]["count"], 4);
    assert_eq!(room_ids(&first), sorted(&[r2, r3]));
    for id in [r2, r3] {
        assert_eq!(result(&first, id)["initial"], true);
        assert!(result(&first, id)["bump_stamp"].is_u64());
    }

    // A message moves the oldest room to the top: it enters the window, new to the client.
    say(&alice, r0, "m1", "back on top").await;
    let second = ss(&alice, Some(&first["pos"]), body(json!([[0, 1]]))).await;
    assert_eq!(room_ids(&second), [r0.as_str()], "r3 unchanged, r2 out of the window");
    let top = result(&second, r0);
    assert_eq!(top["initial"], true);
    assert_eq!(texts(&second, r0), ["back on top"]);
    assert!(top["bump_stamp"].as_u64() > result(&first, r3)["bump_stamp"].as_u64());

    // Widening the window sends the rooms the client does not have yet, and only those.
    let third = ss(&alice, Some(&second["pos"]), body(json!([[0, 3]]))).await;
    assert_eq!(room_ids(&third), [r1.as_str()]);
    // Two windows of one list.
    let fourth = ss(&alice, None, body(json!([[0, 0], [3, 3]]))).await;
    assert_eq!(room_ids(&fourth), sorted(&[r0, r1]));
    // A window past the end is empty; the count says how many there are.
    let fifth = ss(&alice, None, body(json!([[10, 20]]))).await;
    assert_eq!(fifth["lists"]["all"]["count"], 4);
    assert!(fifth.get("rooms").is_none(), "{fifth}");
}

/// Rooms of every kind: a DM, an invite, an encrypted room, a space with a child room.
struct Kinds {
    dm: String,
    invite: String,
    encrypted: String,
    space: String,
    child: String,
    plain: String,
}

async fn rooms_of_every_kind(server: &TestServer, alice: &crate::common::User) -> Kinds {
    let bob = server.register("bob").await;
    let dm = create_room(alice, json!({"is_direct": true, "invite": [bob.user_id]})).await;
    join(&bob, &dm).await;
    put_account_data(alice, None, "m.direct", json!({ bob.user_id.clone(): [dm] })).await;
    let invite = create_room(&bob, json!({"invite": [alice.user_id]})).await;
    let encrypted = create_room(
        alice,
        json!({"initial_state": [{
            "type": "m.room.encryption", "state_key": "",
            "content": {"algorithm": "m.megolm.v1.aes-sha2"}
        }]}),
    )
    .await;
    let space = create_room(alice, json!({"creation_content": {"type": "m.space"}})).await;
    let child = create_room(alice, json!({})).await;
    put_state(alice, &space, "m.space.child", &child, json!({"via": ["localhost"]})).await;
    let plain = create_room(alice, json!({})).await;
    // A child without `via` is no child.
    put_state(alice, &space, "m.space.child", &plain, json!({})).await;
    Kinds { dm, invite, encrypted, space, child, plain }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_pick_dms_invites_encrypted_rooms_types_and_spaces() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let k = rooms_of_every_kind(&server, &alice).await;
    let all = [&k.dm, &k.invite, &k.encrypted, &k.space, &k.child, &k.plain];

    let only = |filters: Value| json!({"lists": {"l": {"ranges": [[0, 99]], "timeline_limit": 0, "filters": filters}}});
    let cases: Vec<(Value, Vec<&String>)> = vec![
        (json!({}), all.to_vec()),
        (json!({"is_dm": true}), vec![&k.dm]),
        (json!({"is_dm": false}), vec![&k.invite, &k.encrypted, &k.space, &k.child, &k.plain]),
        (json!({"is_invite": true}), vec![&k.invite]),
        (json!({"is_invited": true}), vec![&k.invite]),
        (json!({"is_encrypted": true}), vec![&k.encrypted]),
        (json!({"room_types": ["m.space"]}), vec![&k.space]),
        (json!({"room_types": [null]}), vec![&k.dm, &k.invite, &k.encrypted, &k.child, &k.plain]),
        (
            json!({"not_room_types": ["m.space"]}),
            vec![&k.dm, &k.invite, &k.encrypted, &k.child, &k.plain],
        ),
        (json!({"spaces": [k.space]}), vec![&k.child]),
        (
            json!({"is_dm": false, "is_invite": false, "not_room_types": ["m.space"], "is_encrypted": false}),
            vec![&k.child, &k.plain],
        ),
    ];
    for (filters, expected) in cases {
        let response = ss(&alice, None, only(filters.clone())).await;
        assert_eq!(response["lists"]["l"]["count"], expected.len(), "{filters}: {response}");
        assert_eq!(room_ids(&response), sorted(&expected), "{filters}");
    }

    // The DM and the invite say what they are.
    let response = ss(&alice, None, only(json!({}))).await;
    assert_eq!(result(&response, &k.dm)["is_dm"], true);
    assert!(result(&response, &k.plain).get("is_dm").is_none());
    let invite = result(&response, &k.invite);
    let stripped = invite["invite_state"].as_array().expect("invite_state");
    let member = stripped.last().unwrap();
    assert_eq!(
        (&member["type"], &member["state_key"]),
        (&json!("m.room.member"), &json!(alice.user_id))
    );
    assert_eq!(member["content"]["membership"], "invite");
    assert!(stripped.iter().any(|e| e["type"] == "m.room.create"));
    assert!(invite.get("timeline").is_none() && invite.get("required_state").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_filter_and_unknown_spaces() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let fav = create_room(&alice, json!({})).await;
    let low = create_room(&alice, json!({})).await;
    let other = create_room(&alice, json!({})).await;
    // Room tags live in `m.tag` room account data (the /tags endpoints write it too).
    for (room, tag) in [(&fav, "m.favourite"), (&low, "m.lowpriority")] {
        let content = json!({"tags": {tag: {}}});
        put_account_data(&alice, Some(room), "m.tag", content).await;
    }
    // A space alice is not in counts for nothing.
    let foreign_space = create_room(&bob, json!({"creation_content": {"type": "m.space"}})).await;
    put_state(&bob, &foreign_space, "m.space.child", &other, json!({"via": ["localhost"]})).await;

    let only = |filters: Value| json!({"lists": {"l": {"ranges": [[0, 99]], "timeline_limit": 0, "filters": filters}}});
    let cases: Vec<(Value, Vec<&String>)> = vec![
        (json!({"tags": ["m.favourite"]}), vec![&fav]),
        (json!({"not_tags": ["m.lowpriority"]}), vec![&fav, &other]),
        (
            json!({"tags": ["m.favourite", "m.lowpriority"], "not_tags": ["m.lowpriority"]}),
            vec![&fav],
        ),
        (json!({"spaces": [foreign_space]}), vec![]),
    ];
    for (filters, expected) in cases {
        let response = ss(&alice, None, only(filters.clone())).await;
        assert_eq!(room_ids(&response), sorted(&expected), "{filters}: {response}");
    }
    // A filter of the wrong shape is bad JSON.
    let (status, body) = alice.post(&path(None, 0), only(json!({"spaces": "not a list"}))).await;
    crate::common::assert_error(&(status, body), 400, "M_BAD_JSON");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn left_rooms_kicks_and_invites_joined() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let kicked = create_room(&bob, json!({"preset": "public_chat"})).await;
    join(&alice, &kicked).await;
    let left = create_room(&bob, json!({"preset": "public_chat"})).await;
    join(&alice, &left).await;
    let invited = create_room(&bob, json!({"invite": [alice.user_id]})).await;
    let body = json!({"lists": {"all": list(json!([[0, 9]]), 5, json!([]))}});
    let first = ss(&alice, None, body.clone()).await;
    assert_eq!(room_ids(&first), sorted(&[&kicked, &left, &invited]));

    // Kicked: still listed, with the kick. Left on her own: sent once with the leave, then
    // no longer listed. The invite, once accepted, starts over as a joined room.
    let path = format!("/_matrix/client/v3/rooms/{}/kick", crate::rooms::enc(&kicked));
    let (status, _) = bob.post(&path, json!({"user_id": alice.user_id})).await;
    assert_eq!(status, 200);
    let path = format!("/_matrix/client/v3/rooms/{}/leave", crate::rooms::enc(&left));
    let (status, _) = alice.post(&path, json!({})).await;
    assert_eq!(status, 200);
    join(&alice, &invited).await;
    let second = ss(&alice, Some(&first["pos"]), body.clone()).await;
    assert_eq!(second["lists"]["all"]["count"], 3, "{second}");
    let last_member = |id: &str| {
        result(&second, id)["timeline"].as_array().unwrap().last().unwrap()["content"]["membership"]
            .clone()
    };
    assert_eq!(last_member(&kicked), "leave");
    assert_eq!(last_member(&left), "leave");
    let joined = result(&second, &invited);
    assert_eq!(joined["initial"], true);
    assert_eq!(last_member(&invited), "join");
    assert_eq!(joined["joined_count"], 2);
    let third = ss(&alice, Some(&second["pos"]), body).await;
    assert_eq!(third["lists"]["all"]["count"], 2, "the room she left is gone: {third}");
}
