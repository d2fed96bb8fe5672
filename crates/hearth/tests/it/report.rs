//! Reporting events, rooms and users.

use serde_json::json;

use crate::{
    common::{TestServer, assert_error},
    rooms::{create_room, enc, send},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_are_stored_and_checked() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = create_room(&alice, json!({"preset": "public_chat"})).await;
    let event = send(&alice, &room, "t1", json!({"msgtype": "m.text", "body": "rude"})).await;
    let report = format!("/_matrix/client/v3/rooms/{}/report/{}", enc(&room), enc(&event));

    // Events: only by members, only events of the room, a score from -100 to 0.
    assert_error(&bob.post(&report, json!({"reason": "rude"})).await, 404, "M_NOT_FOUND");
    let (status, _) =
        bob.post(&format!("/_matrix/client/v3/rooms/{}/join", enc(&room)), json!({})).await;
    assert_eq!(status, 200);
    let (status, body) = bob.post(&report, json!({"reason": "rude", "score": -100})).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = bob.post(&report, json!({})).await;
    assert_eq!(status, 200);
    for score in [json!(5), json!(-101), json!("bad"), json!(1.5)] {
        assert_error(&bob.post(&report, json!({"score": score})).await, 400, "M_INVALID_PARAM");
    }
    let unknown = format!("/_matrix/client/v3/rooms/{}/report/%24nope", enc(&room));
    assert_error(&bob.post(&unknown, json!({})).await, 404, "M_NOT_FOUND");
    let other = create_room(&bob, json!({})).await;
    let wrong_room = format!("/_matrix/client/v3/rooms/{}/report/{}", enc(&other), enc(&event));
    assert_error(&bob.post(&wrong_room, json!({})).await, 404, "M_NOT_FOUND");

    // Rooms: any known room, member or not.
    let carol = server.register("carol").await;
    let room_report = format!("/_matrix/client/v3/rooms/{}/report", enc(&room));
    let (status, body) = carol.post(&room_report, json!({"reason": "spam"})).await;
    assert_eq!(status, 200, "{body}");
    let unknown_room = "/_matrix/client/v3/rooms/%21nope%3Alocalhost/report";
    assert_error(&carol.post(unknown_room, json!({"reason": "x"})).await, 404, "M_NOT_FOUND");

    // Users: local users must exist.
    let user_report = format!("/_matrix/client/v3/users/{}/report", enc(&alice.user_id));
    let (status, body) = carol.post(&user_report, json!({"reason": "abuse"})).await;
    assert_eq!(status, 200, "{body}");
    let ghost = "/_matrix/client/v3/users/%40ghost%3Alocalhost/report";
    assert_error(&carol.post(ghost, json!({"reason": "x"})).await, 404, "M_NOT_FOUND");
    let remote = "/_matrix/client/v3/users/%40someone%3Aelsewhere.org/report";
    let (status, _) = carol.post(remote, json!({"reason": "x"})).await;
    assert_eq!(status, 200);

    // Everything is kept for administrators.
    let reports = server.services().ctx.storage.reports(0, 100).await.unwrap();
    assert_eq!(reports.len(), 5);
    assert_eq!(reports[0].report.score, Some(-100));
    assert_eq!(reports[0].report.reason.as_deref(), Some("rude"));
    assert_eq!(reports[0].report.reporter.as_str(), bob.user_id);
}
