//! Presence: set and get, shared with room-mates through sync, driven by syncing and timeouts,
//! and off when configured so.

use serde_json::{Value, json};

use super::*;
use crate::{
    common::{TestServer, assert_error},
    rooms::create_room,
};

fn status_path(user: &User) -> String {
    format!("/_matrix/client/v3/presence/{}/status", enc(&user.user_id))
}

fn presence_of<'a>(body: &'a Value, user: &User) -> Option<&'a Value> {
    body["presence"]["events"].as_array()?.iter().find(|e| e["sender"] == user.user_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_get_and_share_with_room_mates() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let stranger = server.register("stranger").await;
    let room = public_room(&alice).await;
    join(&bob, &room).await;

    // Syncing makes one online; one sees oneself.
    let body = initial(&alice).await;
    let own = presence_of(&body, &alice).expect("own presence");
    assert_eq!(own["content"]["presence"], "online");
    assert_eq!(own["content"]["currently_active"], true);
    assert!(own["content"]["last_active_ago"].is_u64());
    let next = initial(&bob).await["next_batch"].clone();

    let status = json!({"presence": "unavailable", "status_msg": "away"});
    assert_eq!(alice.put(&status_path(&alice), status).await.0, 200);
    let body = since(&bob, &next).await;
    let seen = presence_of(&body, &alice).expect("room-mate's change");
    assert_eq!(seen["content"]["presence"], "unavailable");
    assert_eq!(seen["content"]["status_msg"], "away");
    // A sync does not undo an `unavailable` the user chose.
    let body = initial(&alice).await;
    assert_eq!(presence_of(&body, &alice).unwrap()["content"]["presence"], "unavailable");

    let (status, got) = bob.get(&status_path(&alice)).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["presence"], "unavailable");
    assert_eq!(got["status_msg"], "away");
    assert_error(&stranger.get(&status_path(&alice)).await, 403, "M_FORBIDDEN");
    assert!(presence_of(&initial(&stranger).await, &alice).is_none());
    assert_error(
        &bob.put(&status_path(&alice), json!({"presence": "online"})).await,
        403,
        "M_FORBIDDEN",
    );
    assert_error(
        &alice.put(&status_path(&alice), json!({"presence": "busy"})).await,
        400,
        "M_INVALID_PARAM",
    );
    assert_error(&alice.put(&status_path(&alice), json!({})).await, 400, "M_BAD_JSON");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_when_not_syncing_and_with_set_presence_offline() {
    let server = TestServer::start_with(|c| {
        c.presence.offline_timeout_ms = 200;
        c.presence.idle_timeout_ms = 60_000;
    })
    .await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = create_room(&alice, json!({"preset": "public_chat"})).await;
    join(&bob, &room).await;
    // set_presence=offline: the sync does not make bob online.
    let body = sync_with(&bob, "set_presence=offline").await;
    assert!(presence_of(&body, &bob).is_none_or(|p| p["content"]["presence"] == "offline"));

    // Bob syncs once, then stops: alice's long-poll sees him online, then offline.
    let next = initial(&alice).await["next_batch"].clone();
    initial(&bob).await;
    let mut token = next;
    let mut states = Vec::new();
    for _ in 0..20 {
        let body =
            sync_with(&alice, &format!("since={}&timeout=30000", q(token.as_str().unwrap()))).await;
        token = body["next_batch"].clone();
        if let Some(p) = presence_of(&body, &bob) {
            states.push(p["content"]["presence"].as_str().unwrap().to_owned());
            if states.last().unwrap() == "offline" {
                break;
            }
        }
    }
    assert_eq!(states.first().map(String::as_str), Some("online"), "{states:?}");
    assert_eq!(states.last().map(String::as_str), Some("offline"), "{states:?}");
}

/// Alice's long-polls from `token` until Bob's presence is `want`; every state seen on the way.
async fn watch_presence(alice: &User, bob: &User, token: Value, want: &str) -> (Vec<Value>, Value) {
    let mut token = token;
    let mut seen = Vec::new();
    for _ in 0..20 {
        let body =
            sync_with(alice, &format!("since={}&timeout=30000", q(token.as_str().unwrap()))).await;
        token = body["next_batch"].clone();
        if let Some(p) = presence_of(&body, bob) {
            seen.push(p["content"].clone());
            if p["content"]["presence"] == want {
                return (seen, token);
            }
        }
    }
    panic!("bob never became {want}: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_users_become_unavailable_and_acting_brings_them_back() {
    let server = TestServer::start_with(|c| {
        c.presence.idle_timeout_ms = 200;
        c.presence.offline_timeout_ms = 60_000;
    })
    .await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = create_room(&alice, json!({"preset": "public_chat"})).await;
    join(&bob, &room).await;
    let token = initial(&alice).await["next_batch"].clone();
    // Bob syncs (online), then does nothing: still connected, but idle.
    initial(&bob).await;
    let (seen, token) = watch_presence(&alice, &bob, token, "unavailable").await;
    let idle = seen.last().unwrap();
    assert!(idle["last_active_ago"].is_u64(), "{idle}");
    assert!(idle.get("currently_active").is_none(), "only for online: {idle}");
    // Sending a message is a pro-active action: online and currently active again.
    crate::push::say(&bob, &room, "back").await;
    let (seen, _) = watch_presence(&alice, &bob, token, "online").await;
    assert_eq!(seen.last().unwrap()["currently_active"], true, "{seen:?}");
}

/// `set_presence=unavailable` on a sync marks the user idle for room-mates (SyTest "Presence
/// can be set from sync").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_can_be_set_from_sync() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = create_room(&alice, json!({"preset": "public_chat"})).await;
    join(&bob, &room).await;
    let token = initial(&alice).await["next_batch"].clone();
    initial(&bob).await;
    sync_with(&bob, "timeout=0&set_presence=unavailable").await;
    let (seen, _) = watch_presence(&alice, &bob, token, "unavailable").await;
    assert!(seen.last().unwrap()["last_active_ago"].is_u64(), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_presence_accepts_and_shares_nothing() {
    let server = TestServer::start_with(|c| c.presence.enabled = false).await;
    let alice = server.register("alice").await;
    assert_eq!(alice.put(&status_path(&alice), json!({"presence": "online"})).await.0, 200);
    let (status, got) = alice.get(&status_path(&alice)).await;
    assert_eq!(status, 200);
    assert_eq!(got["presence"], "offline");
    assert!(initial(&alice).await.get("presence").is_none());
}
