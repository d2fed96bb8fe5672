//! `timestamp_to_event`: the event nearest a time, in each direction.

use serde_json::json;

use crate::{
    common::{TestServer, assert_error},
    rooms::{create_room, enc, send},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_the_nearest_event_in_each_direction() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = create_room(&alice, json!({})).await;
    let first = send(&alice, &room, "t1", json!({"msgtype": "m.text", "body": "one"})).await;
    let second = send(&alice, &room, "t2", json!({"msgtype": "m.text", "body": "two"})).await;
    let event = |id: &str| {
        let path = format!("/_matrix/client/v3/rooms/{}/event/{}", enc(&room), enc(id));
        let client = alice.client.clone();
        async move { client.get(&path).await.1 }
    };
    let ts_first = event(&first).await["origin_server_ts"].as_u64().unwrap();
    let ts_second = event(&second).await["origin_server_ts"].as_u64().unwrap();
    let base = format!("/_matrix/client/v1/rooms/{}/timestamp_to_event", enc(&room));

    let (status, found) = alice.get(&format!("{base}?ts={}&dir=b", 9_007_199_254_740_991u64)).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["event_id"], second);
    assert_eq!(found["origin_server_ts"], ts_second);
    let (_, found) = alice.get(&format!("{base}?ts={ts_first}&dir=f")).await;
    // The create event and setup events may share the first message's millisecond.
    assert!(found["origin_server_ts"].as_u64().unwrap() >= ts_first, "{found}");
    let (_, found) = alice.get(&format!("{base}?ts={}&dir=f", ts_second)).await;
    assert!(found["origin_server_ts"].as_u64().unwrap() >= ts_second);
    let (_, found) = alice.get(&format!("{base}?ts=0&dir=f")).await;
    assert!(found["event_id"].is_string(), "the room's first event: {found}");

    assert_error(&alice.get(&format!("{base}?ts=0&dir=b")).await, 404, "M_NOT_FOUND");
    assert_error(
        &alice.get(&format!("{base}?ts={}&dir=f", 9_007_199_254_740_991u64)).await,
        404,
        "M_NOT_FOUND",
    );
    assert_error(&alice.get(&format!("{base}?ts=1&dir=sideways")).await, 400, "M_INVALID_PARAM");
    assert_error(&alice.get(&format!("{base}?dir=f")).await, 400, "M_INVALID_PARAM");
    let bob = server.register("bob").await;
    assert_error(&bob.get(&format!("{base}?ts=0&dir=f")).await, 403, "M_FORBIDDEN");
}
