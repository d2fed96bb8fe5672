//! Delivery to a push gateway on loopback: the notify request, badge updates after receipts,
//! `event_id_only`, retries after failures, removal of rejected pushkeys, and a queue that
//! survives a restart.

use std::net::SocketAddr;

use hearth_core::Config;
use serde_json::{Value, json};

use super::{eventually, gateway::Gateway, pushers::http_pusher, receipt, room_with, say};
use crate::common::{TestServer, User};

/// Gateways on loopback are allowed, and retries come fast.
fn config(c: &mut Config) {
    c.push.ip_range_whitelist = vec!["127.0.0.1/32".parse().unwrap()];
    c.push.retry_initial_ms = 20;
    c.push.retry_max_ms = 100;
}

async fn set_pusher(user: &User, pushkey: &str, url: &str, format: Option<&str>) {
    let mut pusher = http_pusher(pushkey, url);
    pusher["data"] = match format {
        Some(f) => json!({"url": url, "format": f, "extra": "x"}),
        None => json!({"url": url, "extra": "x"}),
    };
    let (status, body) = user.post("/_matrix/client/v3/pushers/set", pusher).await;
    assert_eq!(status, 200, "{body}");
}

async fn pushkeys(user: &User) -> Vec<Value> {
    let (_, body) = user.get("/_matrix/client/v3/pushers").await;
    body["pushers"].as_array().unwrap().iter().map(|p| p["pushkey"].clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_is_pushed_and_a_receipt_clears_the_badge() {
    let server = TestServer::start_with(config).await;
    let mut gateway = Gateway::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = room_with(&alice, &bob).await;
    let name = json!({"name": "Tea room"});
    let path = format!("/_matrix/client/v3/rooms/{}/state/m.room.name/", crate::rooms::enc(&room));
    assert_eq!(alice.put(&path, name).await.0, 200);
    let me = format!(
        "/_matrix/client/v3/rooms/{}/state/m.room.member/{}",
        crate::rooms::enc(&room),
        crate::rooms::enc(&bob.user_id)
    );
    let member = json!({"membership": "join", "displayname": "Bobby"});
    assert_eq!(bob.put(&me, member).await.0, 200);
    set_pusher(&alice, "key", &gateway.url(), None).await;

    let event_id = say(&bob, &room, "tea?").await;
    let n = gateway.next_event().await;
    assert_eq!(n["event_id"], event_id);
    assert_eq!(n["id"], event_id, "Synapse's legacy field");
    assert_eq!(n["room_id"], room);
    assert_eq!(n["type"], "m.room.message");
    assert_eq!(n["sender"], bob.user_id);
    assert_eq!(n["sender_display_name"], "Bobby");
    assert_eq!(n["room_name"], "Tea room");
    assert_eq!(n["content"], json!({"msgtype": "m.text", "body": "tea?"}));
    assert_eq!(n["counts"], json!({"unread": 1}));
    assert_eq!(n["prio"], Value::Null, "high (the default) for a sound: {n}");
    let device = &n["devices"][0];
    assert_eq!(device["app_id"], "org.example.app");
    assert_eq!(device["pushkey"], "key");
    assert!(device["pushkey_ts"].as_u64().unwrap() > 1_600_000_000);
    assert_eq!(device["data"], json!({"extra": "x"}), "the URL is not sent");
    assert_eq!(device["tweaks"], json!({"sound": "default"}), "a 1:1 room rings");

    receipt(&server, &alice, &room, None, &event_id).await;
    let badge = gateway.next().await;
    assert_eq!(badge["counts"], json!({"unread": 0}));
    assert!(badge.get("event_id").is_none());
    assert_eq!(badge["devices"][0]["pushkey"], "key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_id_only_invites_and_retries() {
    let server = TestServer::start_with(config).await;
    let mut gateway = Gateway::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    set_pusher(&alice, "key", &gateway.url(), Some("event_id_only")).await;
    // The gateway fails twice; the invite is retried until delivered.
    gateway.respond_next(500, json!({}));
    gateway.respond_next(503, json!({}));
    let room = crate::rooms::create_room(&bob, json!({"invite": [alice.user_id]})).await;
    let first = gateway.next_event().await;
    let second = gateway.next_event().await;
    let third = gateway.next_event().await;
    assert_eq!(first, second);
    assert_eq!(second, third);
    assert_eq!(third["room_id"], room);
    assert_eq!(third["counts"], json!({"unread": 1}), "the invite counts");
    for field in ["type", "sender", "content", "room_name"] {
        assert!(third.get(field).is_none(), "{field} with event_id_only: {third}");
    }
    assert_eq!(third["devices"][0]["data"], json!({"format": "event_id_only", "extra": "x"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_invites_and_rejected_pushkeys() {
    let server = TestServer::start_with(config).await;
    let mut gateway = Gateway::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    set_pusher(&alice, "good", &gateway.url(), None).await;
    let body = json!({"invite": [alice.user_id], "room_alias_name": "hall"});
    let room = crate::rooms::create_room(&bob, body).await;
    let invite = gateway.next_event().await;
    assert_eq!(invite["type"], "m.room.member");
    assert_eq!(invite["room_alias"], "#hall:localhost");
    assert_eq!(invite["room_name"], "#hall:localhost", "no name: called by its alias");
    assert_eq!(invite["membership"], "invite");
    assert_eq!(invite["user_is_target"], true);
    assert_eq!(invite["sender"], bob.user_id);

    // The gateway rejects a pushkey: that pusher goes, the other stays.
    let (status, _) = alice
        .post(&format!("/_matrix/client/v3/join/{}", crate::rooms::enc(&room)), json!({}))
        .await;
    assert_eq!(status, 200);
    set_pusher(&alice, "bad", &gateway.url(), None).await;
    gateway.respond_next(200, json!({"rejected": ["bad"]}));
    gateway.respond_next(200, json!({"rejected": ["bad"]}));
    say(&bob, &room, "hi").await;
    let a = gateway.next_event().await;
    let b = gateway.next_event().await;
    let mut keys = [a["devices"][0]["pushkey"].clone(), b["devices"][0]["pushkey"].clone()];
    keys.sort_by_key(|k| k.to_string());
    assert_eq!(keys, [json!("bad"), json!("good")]);
    eventually("the rejected pusher to go", || async { pushkeys(&alice).await == [json!("good")] })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_notifications_survive_a_restart() {
    let mut server = TestServer::start_with(config).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = room_with(&alice, &bob).await;
    // A gateway address with nobody listening yet.
    let addr: SocketAddr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let url = format!("http://{addr}/_matrix/push/v1/notify");
    set_pusher(&alice, "key", &url, None).await;
    let event_id = say(&bob, &room, "while you were out").await;
    // Evaluated and queued (counts wait for evaluation, which queues in the same write).
    assert_eq!(super::counts(&server, &alice, &room).await.total().notifications, 1);
    server.restart().await;
    let mut gateway = Gateway::start_on(addr).await;
    let n = gateway.next_event().await;
    assert_eq!(n["event_id"], event_id);
    assert_eq!(n["content"]["body"], "while you were out");
}
