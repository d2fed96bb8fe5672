//! Device-list tracking: who sees whom in `changed` and `left` (`/keys/changes`, and the same
//! function `/sync` calls), and whose long-polls a device change wakes.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    common::{TestServer, User},
    crypto::Device,
    rooms::{create_room, enc},
};

fn pos(server: &TestServer) -> i64 {
    server.services().ctx.storage.current_stream_pos()
}

async fn changes(user: &User, from: i64, to: i64) -> Value {
    let (status, body) =
        user.get(&format!("/_matrix/client/v3/keys/changes?from={from}&to={to}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn upload_device_keys(user: &User) {
    let body = json!({"device_keys": Device::of(user).device_keys()});
    let (status, body) = user.post("/_matrix/client/v3/keys/upload", body).await;
    assert_eq!(status, 200, "{body}");
}

async fn public_room(owner: &User) -> String {
    enc(&create_room(owner, json!({"preset": "public_chat"})).await)
}

async fn act(user: &User, room: &str, action: &str) {
    let (status, body) =
        user.post(&format!("/_matrix/client/v3/rooms/{room}/{action}"), json!({})).await;
    assert_eq!(status, 200, "{action}: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_changes_reach_those_who_share_a_room() {
    let server = TestServer::start().await;
    let (alice, bob, carol) = (
        server.register("alice").await,
        server.register("bob").await,
        server.register("carol").await,
    );
    let room = public_room(&alice).await;
    act(&bob, &room, "join").await;

    let bob_id = ruma::UserId::parse(&bob.user_id).unwrap();
    let watch = server.services().ctx.notifier.watch(&bob_id, []);
    let before = pos(&server);
    upload_device_keys(&alice).await;
    assert!(watch.wait(Duration::from_secs(10)).await, "bob's long-poll is woken");
    let after = pos(&server);

    assert_eq!(changes(&bob, before, after).await["changed"], json!([alice.user_id]));
    assert_eq!(changes(&alice, before, after).await["changed"], json!([alice.user_id]));
    assert_eq!(changes(&carol, before, after).await["changed"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_a_shared_room_reports_changed_and_leaving_the_last_reports_left() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.register("alice").await, server.register("bob").await);
    let first = public_room(&alice).await;
    let second = public_room(&alice).await;

    let before_join = pos(&server);
    act(&bob, &first, "join").await;
    let joined = pos(&server);
    let body = changes(&alice, before_join, joined).await;
    assert_eq!((body["changed"].clone(), body["left"].clone()), (json!([bob.user_id]), json!([])));
    assert_eq!(changes(&bob, before_join, joined).await["changed"], json!([alice.user_id]));

    // Leaving one of two shared rooms: they still share the other.
    act(&bob, &second, "join").await;
    let before_leave = pos(&server);
    act(&bob, &second, "leave").await;
    let left_one = pos(&server);
    assert_eq!(changes(&alice, before_leave, left_one).await["left"], json!([]));

    act(&bob, &first, "leave").await;
    let left_all = pos(&server);
    let body = changes(&alice, left_one, left_all).await;
    assert_eq!((body["changed"].clone(), body["left"].clone()), (json!([]), json!([bob.user_id])));
    assert_eq!(changes(&bob, left_one, left_all).await["left"], json!([alice.user_id]));

    // No longer sharing a room, Bob does not hear about Alice's new keys.
    upload_device_keys(&alice).await;
    assert_eq!(changes(&bob, left_all, pos(&server)).await["changed"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_reports_the_invitee_changed_and_a_rejection_left() {
    let server = TestServer::start().await;
    let (alice, carol) = (server.register("alice").await, server.register("carol").await);
    let room = enc(&create_room(&alice, json!({"preset": "private_chat"})).await);

    // Clients share room keys with invitees, so the inviter fetches their devices (Synapse).
    let before = pos(&server);
    let path = format!("/_matrix/client/v3/rooms/{room}/invite");
    let (status, body) = alice.post(&path, json!({"user_id": carol.user_id})).await;
    assert_eq!(status, 200, "{body}");
    let invited = pos(&server);
    let body = changes(&alice, before, invited).await;
    assert_eq!(
        (body["changed"].clone(), body["left"].clone()),
        (json!([carol.user_id]), json!([]))
    );
    assert_eq!(changes(&carol, before, invited).await["changed"], json!([]));

    act(&carol, &room, "leave").await;
    let rejected = pos(&server);
    let body = changes(&alice, invited, rejected).await;
    assert_eq!(
        (body["changed"].clone(), body["left"].clone()),
        (json!([]), json!([carol.user_id]))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_device_is_a_change_before_it_uploads_keys() {
    let server = TestServer::start().await;
    let (alice, bob, carol) = (
        server.register("alice").await,
        server.register("bob").await,
        server.register("carol").await,
    );
    let room = public_room(&alice).await;
    act(&bob, &room, "join").await;

    let before = pos(&server);
    crate::e2ee_support::login(&server, "alice").await;
    let after = pos(&server);
    assert_eq!(changes(&bob, before, after).await["changed"], json!([alice.user_id]));
    assert_eq!(changes(&alice, before, after).await["changed"], json!([alice.user_id]));
    assert_eq!(changes(&carol, before, after).await["changed"], json!([]));
}
