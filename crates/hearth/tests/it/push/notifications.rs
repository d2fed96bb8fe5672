//! `GET /notifications`: newest first, `only=highlight`, pagination, read flags.

use serde_json::{Value, json};

use super::{receipt, room_with, say, send_content};
use crate::common::{TestServer, assert_error};

fn bodies(page: &Value) -> Vec<String> {
    page["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["event"]["content"]["body"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_are_listed_paginated_and_filtered() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = room_with(&alice, &bob).await;
    let first = say(&bob, &room, "one").await;
    say(&bob, &room, "two").await;
    let mention = json!({"msgtype": "m.text", "body": "three",
                         "m.mentions": {"user_ids": [alice.user_id]}});
    send_content(&bob, &room, mention).await;
    say(&bob, &room, "four").await;
    // Counts wait for evaluation; /notifications lists what is evaluated.
    assert_eq!(super::counts(&server, &alice, &room).await.total().notifications, 4);

    let (status, page) = alice.get("/_matrix/client/v3/notifications?limit=3").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(bodies(&page), ["four", "three", "two"]);
    let n = &page["notifications"][1];
    assert_eq!(n["room_id"], room);
    assert_eq!(n["read"], false);
    assert!(n["ts"].as_u64().unwrap() > 0);
    assert_eq!(n.get("profile_tag"), Some(&Value::Null), "present, as Synapse: {n}");
    assert_eq!(n["event"]["sender"], bob.user_id);
    let actions = n["actions"].as_array().unwrap();
    assert!(actions.contains(&json!("notify")));
    assert!(actions.contains(&json!({"set_tweak": "highlight"})), "{n}");
    let next = page["next_token"].as_str().expect("more to come");
    let (_, rest) =
        alice.get(&format!("/_matrix/client/v3/notifications?limit=3&from={next}")).await;
    assert_eq!(bodies(&rest), ["one"]);
    assert!(rest.get("next_token").is_none(), "last page: {rest}");

    let (_, highlights) = alice.get("/_matrix/client/v3/notifications?only=highlight").await;
    assert_eq!(bodies(&highlights), ["three"]);

    // Read flags follow receipts; the notifications stay listed.
    receipt(&server, &alice, &room, None, &first).await;
    let (_, page) = alice.get("/_matrix/client/v3/notifications").await;
    let read: Vec<_> =
        page["notifications"].as_array().unwrap().iter().map(|n| n["read"].clone()).collect();
    assert_eq!(read, [false, false, false, true]);

    assert_error(
        &alice.get("/_matrix/client/v3/notifications?from=nope").await,
        400,
        "M_INVALID_PARAM",
    );
    assert_error(
        &alice.get("/_matrix/client/v3/notifications?limit=-1").await,
        400,
        "M_INVALID_PARAM",
    );
    let (_, none) = bob.get("/_matrix/client/v3/notifications").await;
    assert_eq!(none["notifications"], json!([]), "bob sent them all");
}
