//! Room aliases, canonical alias validation, the published room list and room visibility.

use serde_json::{Value, json};

use crate::{
    common::{TestServer, User, assert_error},
    rooms::{create_room, enc},
};

const DIR: &str = "/_matrix/client/v3/directory/room";

async fn put_alias(user: &User, alias: &str, room: &str) -> (reqwest::StatusCode, Value) {
    user.put(&format!("{DIR}/{}", enc(alias)), json!({"room_id": room})).await
}

async fn join(user: &User, room: &str) {
    let (status, body) =
        user.post(&format!("/_matrix/client/v3/rooms/{}/join", enc(room)), json!({})).await;
    assert_eq!(status, 200, "join: {body}");
}

async fn state(
    user: &User,
    room: &str,
    kind: &str,
    content: Value,
) -> (reqwest::StatusCode, Value) {
    user.put(&format!("/_matrix/client/v3/rooms/{}/state/{kind}/", enc(room)), content).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliases_are_created_resolved_listed_and_deleted() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = create_room(&alice, json!({"preset": "public_chat"})).await;
    let other = create_room(&alice, json!({})).await;

    let (status, body) = put_alias(&alice, "#fire:localhost", &room).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.client().get(&format!("{DIR}/{}", enc("#fire:localhost"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["room_id"], room);
    assert_eq!(body["servers"], json!(["localhost"]));

    // Taken, remote, malformed, unknown room, non-member.
    assert_error(&put_alias(&alice, "#fire:localhost", &other).await, 409, "M_ROOM_IN_USE");
    assert_error(&put_alias(&alice, "#fire:elsewhere.org", &room).await, 400, "M_INVALID_PARAM");
    assert_error(&put_alias(&alice, "#two words:localhost", &room).await, 400, "M_INVALID_PARAM");
    assert_error(&put_alias(&alice, "fire", &room).await, 400, "M_INVALID_PARAM");
    assert_error(&put_alias(&alice, "#x:localhost", "!nope:localhost").await, 404, "M_NOT_FOUND");
    assert_error(&put_alias(&bob, "#bob:localhost", &room).await, 403, "M_FORBIDDEN");
    let bad_body = bob.put(&format!("{DIR}/{}", enc("#b:localhost")), json!({})).await;
    assert_error(&bad_body, 400, "M_BAD_JSON");

    // Resolving unknown and remote aliases.
    let client = server.client();
    assert_error(
        &client.get(&format!("{DIR}/{}", enc("#nope:localhost"))).await,
        404,
        "M_NOT_FOUND",
    );
    assert_error(
        &client.get(&format!("{DIR}/{}", enc("#a:elsewhere.org"))).await,
        404,
        "M_NOT_FOUND",
    );

    // The room's local aliases: members (and world-readable rooms) only.
    join(&bob, &room).await;
    let (status, body) = put_alias(&bob, "#bob:localhost", &room).await;
    assert_eq!(status, 200, "{body}");
    let aliases = format!("/_matrix/client/v3/rooms/{}/aliases", enc(&room));
    let (status, body) = bob.get(&aliases).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["aliases"], json!(["#bob:localhost", "#fire:localhost"]));
    let carol = server.register("carol").await;
    assert_error(&carol.get(&aliases).await, 403, "M_FORBIDDEN");
    let unknown = "/_matrix/client/v3/rooms/%21nope%3Alocalhost/aliases";
    assert_error(&carol.get(unknown).await, 403, "M_FORBIDDEN");
    let (status, _) = state(
        &alice,
        &room,
        "m.room.history_visibility",
        json!({"history_visibility": "world_readable"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = carol.get(&aliases).await;
    assert_eq!(status, 200, "{body}");

    // Deleting: not found; someone else's alias without power; one's own alias; an admin.
    assert_error(
        &bob.delete(&format!("{DIR}/{}", enc("#nope:localhost"))).await,
        404,
        "M_NOT_FOUND",
    );
    assert_error(
        &bob.delete(&format!("{DIR}/{}", enc("#fire:localhost"))).await,
        403,
        "M_FORBIDDEN",
    );
    assert_error(
        &carol.delete(&format!("{DIR}/{}", enc("#bob:localhost"))).await,
        403,
        "M_FORBIDDEN",
    );
    let (status, body) = bob.delete(&format!("{DIR}/{}", enc("#bob:localhost"))).await;
    assert_eq!(status, 200, "{body}");
    let (status, put) = put_alias(&bob, "#bob2:localhost", &room).await;
    assert_eq!(status, 200, "{put}");
    let (status, body) = alice.delete(&format!("{DIR}/{}", enc("#bob2:localhost"))).await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = alice.get(&aliases).await;
    assert_eq!(body["aliases"], json!(["#fire:localhost"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canonical_alias_must_point_at_the_room() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = create_room(&alice, json!({"room_alias_name": "main"})).await;
    let other = create_room(&alice, json!({"room_alias_name": "other"})).await;
    assert!(!other.is_empty());
    let (status, body) = put_alias(&alice, "#alt:localhost", &room).await;
    assert_eq!(status, 200, "{body}");
    let put = |content: Value| state(&alice, &room, "m.room.canonical_alias", content);

    let (status, body) =
        put(json!({"alias": "#main:localhost", "alt_aliases": ["#alt:localhost"]})).await;
    assert_eq!(status, 200, "{body}");
    assert_error(&put(json!({"alias": "#missing:localhost"})).await, 400, "M_BAD_ALIAS");
    assert_error(
        &put(json!({"alias": "#main:localhost", "alt_aliases": ["#other:localhost"]})).await,
        400,
        "M_BAD_ALIAS",
    );
    assert_error(&put(json!({"alias": "#far:elsewhere.org"})).await, 400, "M_BAD_ALIAS");
    assert_error(&put(json!({"alias": "%main:localhost"})).await, 400, "M_INVALID_PARAM");
    assert_error(
        &put(json!({"alias": "#main:localhost", "alt_aliases": ["%x"]})).await,
        400,
        "M_INVALID_PARAM",
    );
    assert_error(&put(json!({"alt_aliases": "#main:localhost"})).await, 400, "M_INVALID_PARAM");

    // Deleting an alias takes it out of the canonical alias event.
    let (status, body) = alice.delete(&format!("{DIR}/{}", enc("#alt:localhost"))).await;
    assert_eq!(status, 200, "{body}");
    let path = format!("/_matrix/client/v3/rooms/{}/state/m.room.canonical_alias/", enc(&room));
    let (status, content) = alice.get(&path).await;
    assert_eq!(status, 200, "{content}");
    assert_eq!(content, json!({"alias": "#main:localhost"}));
    let (status, body) = alice.delete(&format!("{DIR}/{}", enc("#main:localhost"))).await;
    assert_eq!(status, 200, "{body}");
    let (_, content) = alice.get(&path).await;
    assert_eq!(content, json!({}));
    // Removing the canonical alias is always allowed.
    let (status, body) = put(json!({})).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_rooms_are_listed_filtered_and_paginated() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let big = create_room(
        &alice,
        json!({"visibility": "public", "preset": "public_chat", "name": "Big fire",
               "topic": "warmth", "room_alias_name": "big"}),
    )
    .await;
    join(&bob, &big).await;
    let space = create_room(
        &alice,
        json!({"visibility": "public", "preset": "public_chat", "name": "Space",
               "creation_content": {"type": "m.space"}}),
    )
    .await;
    // Unpublished, and published but invite-only: neither is listed.
    create_room(&alice, json!({"preset": "public_chat", "name": "Hidden"})).await;
    create_room(&alice, json!({"visibility": "public", "preset": "private_chat"})).await;

    let (status, body) = server.client().get("/_matrix/client/v3/publicRooms").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total_room_count_estimate"], 2);
    let chunk = body["chunk"].as_array().unwrap();
    assert_eq!(chunk.len(), 2);
    assert_eq!(chunk[0]["room_id"], big);
    assert_eq!(chunk[0]["name"], "Big fire");
    assert_eq!(chunk[0]["topic"], "warmth");
    assert_eq!(chunk[0]["canonical_alias"], "#big:localhost");
    assert_eq!(chunk[0]["num_joined_members"], 2);
    assert_eq!(chunk[0]["world_readable"], false);
    assert_eq!(chunk[0]["guest_can_join"], false);
    // `public` is the default join rule, left out by ruma.
    assert!(chunk[0].get("join_rule").is_none_or(|r| r == "public"), "{body}");
    assert_eq!(chunk[1]["room_id"], space);
    assert_eq!(chunk[1]["room_type"], "m.space");

    // Pages of one.
    let (_, first) = server.client().get("/_matrix/client/v3/publicRooms?limit=1").await;
    assert_eq!(first["chunk"][0]["room_id"], big);
    assert!(first.get("prev_batch").is_none(), "{first}");
    let next = first["next_batch"].as_str().unwrap();
    let (_, second) =
        alice.post("/_matrix/client/v3/publicRooms", json!({"limit": 1, "since": next})).await;
    assert_eq!(second["chunk"][0]["room_id"], space);
    assert!(second.get("next_batch").is_none(), "{second}");
    assert!(second["prev_batch"].is_string());

    // Filters.
    let post = |body: Value| alice.post("/_matrix/client/v3/publicRooms", body);
    let (_, found) = post(json!({"filter": {"generic_search_term": "WARM"}})).await;
    assert_eq!(found["chunk"].as_array().unwrap().len(), 1, "{found}");
    let (_, found) = post(json!({"filter": {"generic_search_term": "#big"}})).await;
    assert_eq!(found["chunk"][0]["room_id"], big);
    let (_, spaces) = post(json!({"filter": {"room_types": ["m.space"]}})).await;
    assert_eq!(spaces["chunk"].as_array().unwrap().len(), 1);
    assert_eq!(spaces["chunk"][0]["room_id"], space);
    let (_, plain) = post(json!({"filter": {"room_types": [null]}})).await;
    assert_eq!(plain["chunk"][0]["room_id"], big);
    assert_eq!(plain["chunk"].as_array().unwrap().len(), 1);
    let (status, network) = post(json!({"third_party_instance_id": "irc"})).await;
    assert_eq!(status, 200, "{network}");
    assert!(network["chunk"].as_array().unwrap().is_empty());
    let (status, all) = post(json!({"include_all_networks": true})).await;
    assert_eq!(status, 200);
    assert_eq!(all["chunk"].as_array().unwrap().len(), 2);

    // Bad input.
    assert_error(&post(json!({"since": "garbage"})).await, 400, "M_INVALID_PARAM");
    let remote = server.client().get("/_matrix/client/v3/publicRooms?server=elsewhere.org").await;
    assert_error(&remote, 404, "M_NOT_FOUND");
    assert_error(&post(json!({"limit": "ten"})).await, 400, "M_BAD_JSON");
    let anonymous = server.client().post("/_matrix/client/v3/publicRooms", json!({})).await;
    assert_error(&anonymous, 401, "M_MISSING_TOKEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_visibility_is_read_and_set_by_moderators() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = create_room(&alice, json!({"preset": "public_chat"})).await;
    let path = format!("/_matrix/client/v3/directory/list/room/{}", enc(&room));
    let (status, body) = server.client().get(&path).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["visibility"], "private");

    // Not a member, then a member without power.
    assert_error(&bob.put(&path, json!({"visibility": "public"})).await, 403, "M_FORBIDDEN");
    join(&bob, &room).await;
    assert_error(&bob.put(&path, json!({"visibility": "public"})).await, 403, "M_FORBIDDEN");
    let (status, body) = alice.put(&path, json!({"visibility": "public"})).await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = server.client().get(&path).await;
    assert_eq!(body["visibility"], "public");
    let (_, list) = server.client().get("/_matrix/client/v3/publicRooms").await;
    assert_eq!(list["chunk"][0]["room_id"], room);
    let (status, _) = alice.put(&path, json!({"visibility": "private"})).await;
    assert_eq!(status, 200);
    let (_, list) = server.client().get("/_matrix/client/v3/publicRooms").await;
    assert!(list["chunk"].as_array().unwrap().is_empty());

    assert_error(&alice.put(&path, json!({"visibility": "secret"})).await, 400, "M_INVALID_PARAM");
    let unknown = "/_matrix/client/v3/directory/list/room/%21nope%3Alocalhost";
    assert_error(&server.client().get(unknown).await, 404, "M_NOT_FOUND");
    assert_error(&alice.put(unknown, json!({"visibility": "public"})).await, 404, "M_NOT_FOUND");
}
