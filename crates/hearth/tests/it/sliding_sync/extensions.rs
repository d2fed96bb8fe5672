//! Extensions: to-device, e2ee, account data, receipts and typing, and their scoping to lists
//! and subscriptions.

use serde_json::{Value, json};

use super::*;
use crate::{
    common::TestServer,
    crypto::Device,
    rooms::{create_room, enc},
    sync::{join, public_room, say},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn to_device_messages_come_once_with_their_own_token() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    for (txn, n) in [("t1", 1), ("t2", 2)] {
        let body = json!({"messages": {&alice.user_id: {&alice.device_id: {"n": n}}}});
        let (status, body) =
            bob.put(&format!("/_matrix/client/v3/sendToDevice/m.test/{txn}"), body).await;
        assert_eq!(status, 200, "{body}");
    }
    let ext = |since: Option<&Value>, limit: u64| {
        let mut to_device = json!({"enabled": true, "limit": limit});
        if let Some(since) = since {
            to_device["since"] = since.clone();
        }
        json!({"extensions": {"to_device": to_device}})
    };
    let numbers = |r: &Value| -> Vec<u64> {
        r["extensions"]["to_device"]["events"]
            .as_array()
            .map(|a| a.iter().map(|e| e["content"]["n"].as_u64().unwrap()).collect())
            .unwrap_or_default()
    };

    let first = ss(&alice, None, ext(None, 1)).await;
    assert_eq!(numbers(&first), [1], "limited to one: {first}");
    assert_eq!(first["extensions"]["to_device"]["events"][0]["sender"], bob.user_id);
    let next = first["extensions"]["to_device"]["next_batch"].clone();
    let second = ss(&alice, Some(&first["pos"]), ext(Some(&next), 10)).await;
    assert_eq!(numbers(&second), [2]);
    let next = second["extensions"]["to_device"]["next_batch"].clone();
    // Handing the token back confirms delivery: the messages are gone, even for a new
    // connection that starts from nothing.
    let third = ss(&alice, Some(&second["pos"]), ext(Some(&next), 10)).await;
    assert!(numbers(&third).is_empty(), "{third}");
    assert!(numbers(&ss(&alice, None, ext(None, 10)).await).is_empty());
    // A token that is no stream position is refused.
    let bad = alice.post(&path(None, 0), ext(Some(&json!("soon")), 10)).await;
    crate::common::assert_error(&bad, 400, "M_INVALID_PARAM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2ee_reports_key_counts_and_device_list_changes() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = public_room(&alice).await;
    join(&bob, &room).await;
    let body = json!({"extensions": {"e2ee": {"enabled": true}}});
    let first = ss(&alice, None, body.clone()).await;
    let e2ee = &first["extensions"]["e2ee"];
    assert_eq!(e2ee["device_unused_fallback_key_types"], json!([]), "{first}");
    assert!(e2ee.get("device_lists").is_none());

    let device = Device::of(&bob);
    let upload = json!({
        "device_keys": device.device_keys(),
        "one_time_keys": device.one_time_keys(&["a", "b"]),
        "fallback_keys": device.fallback_key("f"),
    });
    let (status, body_up) = bob.post("/_matrix/client/v3/keys/upload", upload).await;
    assert_eq!(status, 200, "{body_up}");
    let second = ss(&alice, Some(&first["pos"]), body.clone()).await;
    assert_eq!(second["extensions"]["e2ee"]["device_lists"]["changed"], json!([bob.user_id]));
    let bobs = ss(&bob, None, body).await;
    let e2ee = &bobs["extensions"]["e2ee"];
    assert_eq!(e2ee["device_one_time_keys_count"]["signed_curve25519"], 2, "{bobs}");
    assert_eq!(e2ee["device_unused_fallback_key_types"], json!(["signed_curve25519"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_data_global_and_for_rooms_in_scope() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let inside = create_room(&alice, json!({})).await;
    let outside = create_room(&alice, json!({})).await;
    put_account_data(&alice, None, "org.example.global", json!({"v": 1})).await;
    put_account_data(&alice, Some(&inside), "org.example.room", json!({"v": 1})).await;
    put_account_data(&alice, Some(&outside), "org.example.room", json!({"v": 1})).await;
    let body = json!({
        "room_subscriptions": {&inside: {"timeline_limit": 0}},
        "extensions": {"account_data": {"enabled": true}},
    });
    let types = |events: &Value| -> Vec<String> {
        let mut t: Vec<String> = events
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect();
        t.sort();
        t
    };

    let first = ss(&alice, None, body.clone()).await;
    let ext = &first["extensions"]["account_data"];
    assert!(types(&ext["global"]).contains(&"org.example.global".to_owned()), "{first}");
    assert_eq!(types(&ext["rooms"][&inside]), ["org.example.room"]);
    assert!(ext["rooms"].get(&outside).is_none(), "out of scope: {ext}");

    // Only changes afterwards, and only in scope.
    put_account_data(&alice, None, "org.example.global", json!({"v": 2})).await;
    put_account_data(&alice, Some(&outside), "org.example.room", json!({"v": 2})).await;
    let second = ss(&alice, Some(&first["pos"]), body.clone()).await;
    let ext = &second["extensions"]["account_data"];
    assert_eq!(types(&ext["global"]), ["org.example.global"]);
    assert_eq!(ext["global"][0]["content"]["v"], 2);
    assert!(ext.get("rooms").is_none(), "{ext}");

    // The other room comes into scope: the client gets all of its account data.
    let mut wider = body;
    wider["room_subscriptions"][&outside] = json!({"timeline_limit": 0});
    let third = ss(&alice, Some(&second["pos"]), wider).await;
    let ext = &third["extensions"]["account_data"];
    assert_eq!(ext["rooms"][&outside][0]["content"]["v"], 2, "{third}");
    assert!(ext["rooms"].get(&inside).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_and_typing_for_rooms_in_scope() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = public_room(&alice).await;
    join(&bob, &room).await;
    let event = say(&alice, &room, "m1", "read me").await;
    let other = public_room(&alice).await;
    join(&bob, &other).await;
    let body = |lists: Value| {
        json!({
            "lists": {"top": list(json!([[0, 0]]), 2, json!([]))},
            "extensions": {
                "receipts": {"enabled": true, "lists": lists.clone()},
                "typing": {"enabled": true, "lists": lists},
            },
        })
    };
    // `other` is the most recent room; `room` gets activity below to take the top. A room new
    // to the client comes with the receipts on its timeline's events.
    let first = ss(&alice, None, body(json!(["top"]))).await;
    assert_eq!(room_ids(&first), [other.as_str()]);

    say(&alice, &room, "m2", "bump").await;
    let path = format!("/_matrix/client/v3/rooms/{}/receipt/m.read/{}", enc(&room), enc(&event));
    let (status, _) = bob.post(&path, json!({})).await;
    assert_eq!(status, 200);
    let typing = format!("/_matrix/client/v3/rooms/{}/typing/{}", enc(&room), enc(&bob.user_id));
    let (status, _) = bob.put(&typing, json!({"typing": true, "timeout": 30000})).await;
    assert_eq!(status, 200);

    let second = ss(&alice, Some(&first["pos"]), body(json!(["top"]))).await;
    let receipts = &second["extensions"]["receipts"]["rooms"][&room];
    assert_eq!(receipts["type"], "m.receipt", "{second}");
    assert!(receipts["content"][&event]["m.read"][&bob.user_id]["ts"].is_u64());
    let typing = &second["extensions"]["typing"]["rooms"][&room];
    assert_eq!(typing["content"]["user_ids"], json!([bob.user_id]));

    // Scoped to no list: nothing.
    let third = ss(&alice, None, body(json!([]))).await;
    assert!(third["extensions"].get("receipts").is_none(), "{third}");
    assert!(third["extensions"].get("typing").is_none(), "{third}");
}
