//! Cross-cutting checks of the room features built on the core: what survives a restart, and
//! what guests may not do.

use serde_json::json;

use crate::{
    common::{TestServer, assert_error},
    relations::{relates, send_event},
    rooms::{create_room, enc, send},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_relations_and_search_survive_restart() {
    let mut server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = create_room(
        &alice,
        json!({"visibility": "public", "preset": "public_chat",
        "room_alias_name": "kept", "name": "Kept"}),
    )
    .await;
    let root =
        send(&alice, &room, "t1", json!({"msgtype": "m.text", "body": "persistent root"})).await;
    let edit = send_event(&alice, &room, "m.room.message", "t2", json!({"msgtype": "m.text",
        "body": "* persistent root!", "m.new_content": {"msgtype": "m.text", "body": "persistent root!"},
        "m.relates_to": relates("m.replace", &root)})).await;
    send_event(
        &alice,
        &room,
        "m.room.message",
        "t3",
        json!({"msgtype": "m.text",
        "body": "reply", "m.relates_to": relates("m.thread", &root)}),
    )
    .await;
    server.restart().await;

    let (_, listed) = server.client().get("/_matrix/client/v3/publicRooms").await;
    assert_eq!(listed["chunk"][0]["room_id"], room);
    assert_eq!(listed["chunk"][0]["canonical_alias"], "#kept:localhost");
    let (_, found) = alice
        .post(
            "/_matrix/client/v3/search",
            json!({"search_categories": {"room_events": {"search_term": "persistent"}}}),
        )
        .await;
    assert_eq!(found["search_categories"]["room_events"]["count"], 2, "{found}");
    let (_, event) =
        alice.get(&format!("/_matrix/client/v3/rooms/{}/event/{}", enc(&room), enc(&root))).await;
    assert_eq!(event["unsigned"]["m.relations"]["m.replace"]["event_id"], edit);
    assert_eq!(event["unsigned"]["m.relations"]["m.thread"]["count"], 1);
    let (_, threads) = alice.get(&format!("/_matrix/client/v1/rooms/{}/threads", enc(&room))).await;
    assert_eq!(threads["chunk"][0]["event_id"], root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_may_not_use_personal_or_moderation_endpoints() {
    let server = TestServer::start_with(|c| c.registration.allow_guests = true).await;
    let alice = server.register("alice").await;
    let room = create_room(
        &alice,
        json!({"preset": "public_chat", "initial_state": [
        {"type": "m.room.guest_access", "content": {"guest_access": "can_join"}}]}),
    )
    .await;
    let event = send(&alice, &room, "t1", json!({"msgtype": "m.text", "body": "hi"})).await;
    let (status, body) =
        server.client().post("/_matrix/client/v3/register?kind=guest", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let guest = server.client().with_token(body["access_token"].as_str().unwrap());
    let me = enc(body["user_id"].as_str().unwrap());
    let r = enc(&room);
    assert_eq!(guest.post(&format!("/_matrix/client/v3/rooms/{r}/join"), json!({})).await.0, 200);

    let forbidden = "M_GUEST_ACCESS_FORBIDDEN";
    let tags = format!("/_matrix/client/v3/user/{me}/rooms/{r}/tags");
    assert_error(&guest.get(&tags).await, 403, forbidden);
    assert_error(&guest.put(&format!("{tags}/u.x"), json!({})).await, 403, forbidden);
    let report = format!("/_matrix/client/v3/rooms/{r}/report/{}", enc(&event));
    assert_error(&guest.post(&report, json!({})).await, 403, forbidden);
    let search = json!({"search_categories": {"room_events": {"search_term": "hi"}}});
    assert_error(&guest.post("/_matrix/client/v3/search", search).await, 403, forbidden);
    let upgrade = format!("/_matrix/client/v3/rooms/{r}/upgrade");
    assert_error(&guest.post(&upgrade, json!({"new_version": "12"})).await, 403, forbidden);
    let alias = "/_matrix/client/v3/directory/room/%23guest%3Alocalhost";
    assert_error(&guest.put(alias, json!({"room_id": room})).await, 403, forbidden);
    let listing = format!("/_matrix/client/v3/directory/list/room/{r}");
    assert_error(&guest.put(&listing, json!({"visibility": "public"})).await, 403, forbidden);
    // Reading the room's directory entries and relations stays open to them.
    assert_eq!(guest.get("/_matrix/client/v3/publicRooms").await.0, 200);
    let relations = format!("/_matrix/client/v1/rooms/{r}/relations/{}", enc(&event));
    assert_eq!(guest.get(&relations).await.0, 200);
}
