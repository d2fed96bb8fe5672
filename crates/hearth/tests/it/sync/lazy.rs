//! Lazy-loading members: only the senders' member events, each once per device.

use serde_json::{Value, json};

use super::*;
use crate::{common::TestServer, rooms::create_room};

fn members(body: &Value, room: &str) -> Vec<String> {
    let mut members: Vec<String> = joined(body, room)["state"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "m.room.member")
        .map(|e| e["state_key"].as_str().unwrap().to_owned())
        .collect();
    members.sort();
    members
}

fn lazy(limit: u64, redundant: bool) -> Value {
    json!({"room": {
        "timeline": {"limit": limit},
        "state": {"lazy_load_members": true, "include_redundant_members": redundant},
    }})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_of_senders_once() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let room = create_room(&alice, json!({"preset": "public_chat", "name": "Den"})).await;
    join(&bob, &room).await;
    join(&carol, &room).await;
    say(&bob, &room, "b1", "bob speaks").await;

    // Initial: bob (who speaks) and alice herself, not carol.
    let body = filtered(&alice, lazy(1, false)).await;
    assert_eq!(members(&body, &room), [alice.user_id.clone(), bob.user_id.clone()]);
    let next = body["next_batch"].clone();

    // Bob again: the device has his member event already.
    say(&bob, &room, "b2", "bob again").await;
    let body = since_filtered(&alice, &next, lazy(1, false)).await;
    assert_eq!(bodies(&timeline(&body, &room)), ["bob again"]);
    assert!(members(&body, &room).is_empty(), "redundant member sent");
    // Unless redundant members are asked for.
    let redundant = since_filtered(&alice, &next, lazy(1, true)).await;
    assert_eq!(members(&redundant, &room), [bob.user_id.as_str()]);

    // Carol speaks for the first time: her member event comes with it.
    say(&carol, &room, "c1", "carol speaks").await;
    let body = since_filtered(&alice, &body["next_batch"], lazy(1, false)).await;
    assert_eq!(members(&body, &room), [carol.user_id.as_str()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gaps_carry_member_changes_and_heroes_come_with_members() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let dave = server.register("dave").await;
    // Unnamed: the summary has heroes, whose member events come along.
    let room = public_room(&alice).await;
    join(&bob, &room).await;
    say(&alice, &room, "a0", "hi").await;
    let body = filtered(&alice, lazy(1, false)).await;
    assert_eq!(joined(&body, &room)["summary"]["m.heroes"], json!([bob.user_id]));
    assert_eq!(joined(&body, &room)["summary"]["m.joined_member_count"], 2);
    assert_eq!(members(&body, &room), [alice.user_id.clone(), bob.user_id.clone()]);

    // Dave joins in a gap and stays silent: a limited sync still tells of his join.
    let next = body["next_batch"].clone();
    join(&dave, &room).await;
    for i in 0..3 {
        say(&alice, &room, &format!("a{i}x"), "filler").await;
    }
    let body = since_filtered(&alice, &next, lazy(1, false)).await;
    assert_eq!(joined(&body, &room)["timeline"]["limited"], true);
    assert!(members(&body, &room).contains(&dave.user_id), "{body}");
    assert_eq!(joined(&body, &room)["summary"]["m.joined_member_count"], 3);
}
