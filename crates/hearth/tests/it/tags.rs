//! Room tags: stored as `m.tag` room account data, with order validation.

use serde_json::json;

use crate::{
    common::{TestServer, assert_error},
    rooms::{create_room, enc},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_are_set_listed_and_deleted() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = enc(&create_room(&alice, json!({})).await);
    let base = format!("/_matrix/client/v3/user/{}/rooms/{room}/tags", enc(&alice.user_id));

    let (status, body) = alice.get(&base).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"tags": {}}));
    let (status, body) = alice.put(&format!("{base}/m.favourite"), json!({"order": 0.25})).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = alice.put(&format!("{base}/u.work"), json!({})).await;
    assert_eq!(status, 200);
    // Clients sometimes send the order as a string (ruma's compat mode reads it).
    let (status, _) = alice.put(&format!("{base}/u.later"), json!({"order": "0.5"})).await;
    assert_eq!(status, 200);
    let (_, body) = alice.get(&base).await;
    assert_eq!(
        body,
        json!({"tags": {"m.favourite": {"order": 0.25}, "u.work": {}, "u.later": {"order": 0.5}}})
    );

    // Stored as room account data.
    let account_data =
        format!("/_matrix/client/v3/user/{}/rooms/{room}/account_data/m.tag", enc(&alice.user_id));
    let (status, data) = alice.get(&account_data).await;
    assert_eq!(status, 200, "{data}");
    assert_eq!(data["tags"]["m.favourite"]["order"], 0.25);

    let (status, _) = alice.delete(&format!("{base}/u.work")).await;
    assert_eq!(status, 200);
    let (status, _) = alice.delete(&format!("{base}/u.never-set")).await;
    assert_eq!(status, 200);
    let (_, body) = alice.get(&base).await;
    assert_eq!(body["tags"].as_object().unwrap().len(), 2, "{body}");

    // Bad orders, long names, other users' tags.
    assert_error(
        &alice.put(&format!("{base}/u.x"), json!({"order": 1.5})).await,
        400,
        "M_INVALID_PARAM",
    );
    assert_error(
        &alice.put(&format!("{base}/u.x"), json!({"order": -0.1})).await,
        400,
        "M_INVALID_PARAM",
    );
    assert_error(&alice.put(&format!("{base}/u.x"), json!({"order": {}})).await, 400, "M_BAD_JSON");
    let long = format!("u.{}", "x".repeat(300));
    assert_error(&alice.put(&format!("{base}/{long}"), json!({})).await, 400, "M_INVALID_PARAM");
    assert_error(&bob.get(&base).await, 403, "M_FORBIDDEN");
    assert_error(&bob.put(&format!("{base}/u.x"), json!({})).await, 403, "M_FORBIDDEN");
    assert_error(&bob.delete(&format!("{base}/u.later")).await, 403, "M_FORBIDDEN");
}
