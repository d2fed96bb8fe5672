//! Long-polling: a waiting sync wakes for the user's data and only for it.

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::{common::TestServer, rooms::create_room};

fn spawn_sync(user: &User, token: &Value, timeout_ms: u64) -> tokio::task::JoinHandle<Value> {
    let client = user.client.clone();
    let path = format!(
        "/_matrix/client/v3/sync?since={}&timeout={timeout_ms}",
        q(token.as_str().unwrap())
    );
    tokio::spawn(async move {
        let (status, body) = client.get(&path).await;
        assert_eq!(status, 200, "{body}");
        body
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wakes_on_a_message_and_not_on_another_rooms() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let shared = public_room(&alice).await;
    join(&bob, &shared).await;
    let private = create_room(&alice, json!({})).await;
    let next = initial(&bob).await["next_batch"].clone();

    // A message in a room bob is not in does not wake him: the wait runs out, empty.
    let waiting = spawn_sync(&bob, &next, 300);
    say(&alice, &private, "p1", "secret").await;
    let body = waiting.await.unwrap();
    assert!(body.get("rooms").is_none(), "woken for someone else's room: {body}");

    // A message in the shared room does wake him.
    let next = body["next_batch"].clone();
    let waiting = spawn_sync(&bob, &next, 60_000);
    say(&alice, &shared, "s1", "hello bob").await;
    let body = waiting.await.unwrap();
    assert_eq!(bodies(&timeline(&body, &shared)), ["hello bob"]);
    // And what happened in the private room is not in it.
    assert!(joined(&body, &private).is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wakes_on_account_data_and_membership() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let next = initial(&bob).await["next_batch"].clone();

    let waiting = spawn_sync(&bob, &next, 60_000);
    let path = format!("/_matrix/client/v3/user/{}/account_data/org.example.x", enc(&bob.user_id));
    let (status, _) = bob.put(&path, json!({"a": 1})).await;
    assert_eq!(status, 200);
    let body = waiting.await.unwrap();
    assert_eq!(body["account_data"]["events"][0]["type"], "org.example.x", "{body}");

    // An invite wakes the invitee, whose sync had no rooms to watch.
    let room = create_room(&alice, json!({})).await;
    let waiting = spawn_sync(&bob, &body["next_batch"], 60_000);
    let (status, _) = alice
        .post(
            &format!("/_matrix/client/v3/rooms/{}/invite", enc(&room)),
            json!({"user_id": bob.user_id}),
        )
        .await;
    assert_eq!(status, 200);
    let body = waiting.await.unwrap();
    assert!(body["rooms"]["invite"][&room].is_object(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_server_ends_long_polls() {
    let mut server = TestServer::start().await;
    let alice = server.register("alice").await;
    let next = initial(&alice).await["next_batch"].clone();
    // Marked offline, alice's long-poll marks her online once it runs.
    let path = format!("/_matrix/client/v3/presence/{}/status", enc(&alice.user_id));
    assert_eq!(alice.put(&path, json!({"presence": "offline"})).await.0, 200);
    let waiting = spawn_sync(&alice, &next, 600_000);
    let user: ruma::OwnedUserId = alice.user_id.parse().unwrap();
    let presence = &server.services().presence;
    while presence.get_presence(&user, &user).await.unwrap().presence
        != ruma::presence::PresenceState::Online
    {
        tokio::task::yield_now().await;
    }
    // Stop the server: the long-poll answers rather than holding the shutdown for minutes.
    let stopped = tokio::time::timeout(Duration::from_secs(60), server.take_running().stop()).await;
    assert!(stopped.is_ok(), "shutdown waited for the long-poll");
    let body = tokio::time::timeout(Duration::from_secs(60), waiting).await;
    assert!(body.is_ok(), "the long-poll did not answer");
}
