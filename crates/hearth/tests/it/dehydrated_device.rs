//! Dehydrated devices (MSC3814): store, fetch, replace and delete one, and read the to-device
//! messages sent to it while it was offline.

use serde_json::{Value, json};

use crate::{
    common::{TestServer, User, assert_error},
    crypto::Device,
};

const PATH: &str = "/_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device";

fn put_body(device: &Device) -> Value {
    json!({
        "device_id": device.device_id,
        "initial_device_display_name": "Dehydrated device",
        "device_data": {"algorithm": "org.matrix.msc3814.v2", "device_pickle": "pickle", "nonce": "n"},
        "device_keys": device.device_keys(),
        "one_time_keys": device.one_time_keys(&["D1"]),
        "fallback_keys": device.fallback_key("DF"),
    })
}

async fn devices_in_query(asker: &User, user: &User) -> Vec<String> {
    let body = json!({"device_keys": {&user.user_id: []}});
    let (_, body) = asker.post("/_matrix/client/v3/keys/query", body).await;
    body["device_keys"][&user.user_id].as_object().unwrap().keys().cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dehydrated_device_receives_messages_until_deleted() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.register("alice").await, server.register("bob").await);
    assert_error(&alice.get(PATH).await, 404, "M_NOT_FOUND");

    let device = Device::new(&alice.user_id, "DEHYDRATED1");
    let (status, body) = alice.put(PATH, put_body(&device)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["device_id"], "DEHYDRATED1");
    let (status, body) = alice.get(PATH).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["device_data"]["device_pickle"], "pickle");
    assert_eq!(devices_in_query(&bob, &alice).await, ["DEHYDRATED1"]);

    let message = json!({"messages": {&alice.user_id: {"*": {"room_key": "k"}}}});
    assert_eq!(bob.put("/_matrix/client/v3/sendToDevice/m.room_key/1", message).await.0, 200);
    let events_path = format!("{PATH}/DEHYDRATED1/events");
    let (status, body) = alice.post(&events_path, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["events"][0]["content"], json!({"room_key": "k"}));
    assert_eq!(body["events"][0]["sender"], bob.user_id);
    let next = body["next_batch"].clone();
    let (_, body) = alice.post(&events_path, json!({"next_batch": next})).await;
    assert_eq!(body["events"], json!([]), "{body}");
    // MSC3814: reading on deletes nothing, so another device can start over.
    let (_, body) = alice.post(&events_path, json!({})).await;
    assert_eq!(body["events"][0]["content"], json!({"room_key": "k"}), "{body}");

    let (status, body) = alice.delete(PATH).await;
    assert_eq!((status.as_u16(), body["device_id"].clone()), (200, json!("DEHYDRATED1")));
    assert_error(&alice.get(PATH).await, 404, "M_NOT_FOUND");
    assert_error(&alice.delete(PATH).await, 404, "M_NOT_FOUND");
    assert!(devices_in_query(&bob, &alice).await.is_empty());
    assert_error(&alice.post(&events_path, json!({})).await, 403, "M_FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_dehydrated_device_replaces_the_old_one() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let old = Device::new(&alice.user_id, "OLD");
    assert_eq!(alice.put(PATH, put_body(&old)).await.0, 200);
    let new = Device::new(&alice.user_id, "NEW");
    assert_eq!(alice.put(PATH, put_body(&new)).await.0, 200);
    assert_eq!(alice.get(PATH).await.1["device_id"], "NEW");
    assert_eq!(devices_in_query(&alice, &alice).await, ["NEW"]);
    let events = alice.post(&format!("{PATH}/OLD/events"), json!({})).await;
    assert_error(&events, 403, "M_FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_dehydrated_devices_are_refused() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;

    let mut bad_data = put_body(&Device::new(&alice.user_id, "D1"));
    bad_data["device_data"] = json!({"algorithm": "unknown", "device_pickle": "p"});
    assert_error(&alice.put(PATH, bad_data).await, 400, "M_BAD_JSON");

    let mut wrong_keys = put_body(&Device::new(&alice.user_id, "D1"));
    wrong_keys["device_keys"] = Device::new(&alice.user_id, "D2").device_keys();
    assert_error(&alice.put(PATH, wrong_keys).await, 400, "M_INVALID_PARAM");

    let in_use = put_body(&Device::new(&alice.user_id, &alice.device_id));
    assert_error(&alice.put(PATH, in_use).await, 400, "M_INVALID_PARAM");
    assert_error(&alice.get(PATH).await, 404, "M_NOT_FOUND");
}
