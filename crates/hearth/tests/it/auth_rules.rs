//! The authorization rules per rule family across room versions, driven through the API:
//! joins under each join rule, power levels, kicks, bans and invites, and v12's creators.
//! (Redaction power per version is in `redaction`.)

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    common::{TestServer, User},
    rooms::{create_room, enc, send},
};

const VERSIONS: [&str; 6] = ["1", "6", "8", "10", "11", "12"];

fn number(version: &str) -> u32 {
    version.parse().unwrap()
}

/// Status of a membership request (`join`, `knock`, `invite`, `kick`, `ban`, `unban`).
async fn membership(user: &User, action: &str, room: &str, target: Option<&User>) -> u16 {
    let (path, body) = match action {
        "join" => (format!("/_matrix/client/v3/rooms/{}/join", enc(room)), json!({})),
        "knock" => (format!("/_matrix/client/v3/knock/{}", enc(room)), json!({})),
        _ => (
            format!("/_matrix/client/v3/rooms/{}/{action}", enc(room)),
            json!({"user_id": target.unwrap().user_id}),
        ),
    };
    let (status, body) = user.post(&path, body).await;
    if status != StatusCode::OK {
        // Every refusal is a clear Matrix error.
        assert!(body["errcode"].is_string() && body["error"].is_string(), "{body}");
    }
    status.as_u16()
}

async fn put_state(user: &User, room: &str, kind: &str, key: &str, content: Value) -> (u16, Value) {
    let path = format!("/_matrix/client/v3/rooms/{}/state/{kind}/{}", enc(room), enc(key));
    let (status, body) = user.put(&path, content).await;
    (status.as_u16(), body)
}

fn ok_if(allowed: bool) -> u16 {
    if allowed { 200 } else { 403 }
}

/// `initial_state` setting the join rule.
fn join_rule(rule: &str, allow: Option<&str>) -> Value {
    let mut content = json!({"join_rule": rule});
    if let Some(room) = allow {
        content["allow"] = json!([{"type": "m.room_membership", "room_id": room}]);
    }
    json!([{"type": "m.room.join_rules", "state_key": "", "content": content}])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_under_each_join_rule() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let carol = server.register("carol").await;
    let dave = server.register("dave").await;
    // Carol is in the room restricted rooms allow; dave is not.
    let space = create_room(&alice, json!({"preset": "public_chat"})).await;
    assert_eq!(membership(&carol, "join", &space, None).await, 200);
    for version in VERSIONS {
        let v = number(version);
        let room = |rule: Value| {
            create_room(&alice, json!({"room_version": version, "initial_state": rule}))
        };
        let ctx = format!("v{version}");

        let public = room(join_rule("public", None)).await;
        assert_eq!(membership(&carol, "join", &public, None).await, 200, "{ctx} public");

        let invite = room(join_rule("invite", None)).await;
        assert_eq!(membership(&carol, "join", &invite, None).await, 403, "{ctx} invite");
        assert_eq!(membership(&alice, "invite", &invite, Some(&carol)).await, 200, "{ctx}");
        assert_eq!(membership(&carol, "join", &invite, None).await, 200, "{ctx} invited");

        // Knocking exists since v7; a knock is no join.
        let knock = room(join_rule("knock", None)).await;
        assert_eq!(membership(&carol, "knock", &knock, None).await, ok_if(v >= 7), "{ctx} knock");
        assert_eq!(membership(&carol, "join", &knock, None).await, 403, "{ctx} knock join");
        assert_eq!(membership(&alice, "invite", &knock, Some(&carol)).await, 200, "{ctx}");
        // Before v7 `knock` is no join rule the rules know: even an invite does not let in.
        let joined = membership(&carol, "join", &knock, None).await;
        assert_eq!(joined, ok_if(v >= 7), "{ctx} knock invited");
        assert_eq!(membership(&dave, "knock", &invite, None).await, 403, "{ctx} knock on invite");

        // Restricted since v8: members of an allowed room join, others do not.
        let restricted = room(join_rule("restricted", Some(&space))).await;
        let allowed = ok_if(v >= 8);
        assert_eq!(
            membership(&carol, "join", &restricted, None).await,
            allowed,
            "{ctx} restricted"
        );
        assert_eq!(membership(&dave, "join", &restricted, None).await, 403, "{ctx} restricted");
        assert_eq!(membership(&dave, "knock", &restricted, None).await, 403, "{ctx} restricted");

        // knock_restricted since v10: members of an allowed room join, others may knock.
        let both = room(join_rule("knock_restricted", Some(&space))).await;
        let allowed = ok_if(v >= 10);
        assert_eq!(
            membership(&carol, "join", &both, None).await,
            allowed,
            "{ctx} knock_restricted"
        );
        assert_eq!(membership(&dave, "join", &both, None).await, 403, "{ctx} knock_restricted");
        assert_eq!(
            membership(&dave, "knock", &both, None).await,
            allowed,
            "{ctx} knock_restricted"
        );
    }
}

/// A room of `version` where alice is the creator (and at 100 before v12), `moderator` at 50,
/// and `extra` merged into the power levels; every user given has joined.
async fn room_with_levels(
    alice: &User,
    moderator: &User,
    version: &str,
    extra: Value,
    members: &[&User],
) -> String {
    let mut users = json!({ moderator.user_id.clone(): 50 });
    if number(version) < 12 {
        users[&alice.user_id] = json!(100);
    }
    let mut levels = json!({"users": users});
    for (k, v) in extra.as_object().unwrap() {
        levels[k] = v.clone();
    }
    let body = json!({"preset": "public_chat", "room_version": version,
        "power_level_content_override": levels});
    let room = create_room(alice, body).await;
    for user in members {
        assert_eq!(membership(user, "join", &room, None).await, 200);
    }
    room
}

/// The current power levels with `change` applied, as `user` sends them.
async fn change_levels(user: &User, room: &str, change: impl FnOnce(&mut Value)) -> (u16, Value) {
    let path = format!("/_matrix/client/v3/rooms/{}/state/m.room.power_levels", enc(room));
    let (_, mut levels) = user.get(&path).await;
    change(&mut levels);
    put_state(user, room, "m.room.power_levels", "", levels).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_levels_per_version() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let moderator = server.register("mod").await;
    let other_mod = server.register("othermod").await;
    let text = json!({"msgtype": "m.text", "body": "hi"});
    for version in VERSIONS {
        let ctx = format!("v{version}");
        let extra = json!({"events_default": 10, "events": {"m.room.topic": 0, "m.room.name": 60}});
        let room =
            room_with_levels(&alice, &moderator, version, extra, &[&bob, &moderator, &other_mod])
                .await;
        let path = format!("/_matrix/client/v3/rooms/{}/send/m.room.message/{version}", enc(&room));

        // events_default: bob (0) may not send messages, the moderator (50) may.
        assert_eq!(bob.put(&path, text.clone()).await.0, 403, "{ctx} events_default");
        send(&moderator, &enc(&room), version, text.clone()).await;
        // state_default (50) and per-event levels.
        assert_eq!(put_state(&bob, &room, "org.example", "", json!({})).await.0, 403, "{ctx}");
        assert_eq!(
            put_state(&moderator, &room, "org.example", "", json!({})).await.0,
            200,
            "{ctx}"
        );
        assert_eq!(
            put_state(&bob, &room, "m.room.topic", "", json!({"topic": "t"})).await.0,
            200,
            "{ctx}"
        );
        assert_eq!(
            put_state(&moderator, &room, "m.room.name", "", json!({"name": "n"})).await.0,
            403,
            "{ctx}"
        );

        // The moderator may raise others up to their own level, not above, and may not lower
        // an equal, nor set an event level above their own.
        let (status, _) =
            change_levels(&moderator, &room, |l| l["users"][&bob.user_id] = json!(60)).await;
        assert_eq!(status, 403, "{ctx} raise above own");
        let (status, _) =
            change_levels(&moderator, &room, |l| l["users"][&other_mod.user_id] = json!(50)).await;
        assert_eq!(status, 200, "{ctx} raise to own");
        let (status, _) =
            change_levels(&moderator, &room, |l| l["users"][&other_mod.user_id] = json!(0)).await;
        assert_eq!(status, 403, "{ctx} demote an equal");
        let (status, _) =
            change_levels(&moderator, &room, |l| l["events"]["m.room.avatar"] = json!(75)).await;
        assert_eq!(status, 403, "{ctx} event level above own");
        let (status, _) =
            change_levels(&moderator, &room, |l| l["users"][&moderator.user_id] = json!(20)).await;
        assert_eq!(status, 200, "{ctx} demote oneself");

        // users_default: everyone unlisted gets it.
        let (status, _) = change_levels(&alice, &room, |l| l["users_default"] = json!(50)).await;
        assert_eq!(status, 200, "{ctx}");
        assert_eq!(
            put_state(&bob, &room, "org.example", "", json!({"b": 1})).await.0,
            200,
            "{ctx} users_default"
        );

        // Since v10 power levels are integers; before, numeric strings are accepted.
        let (status, body) =
            change_levels(&alice, &room, |l| l["users"][&bob.user_id] = json!("30")).await;
        let create =
            json!({"room_version": version, "power_level_content_override": {"ban": "50"}});
        let (created, created_body) = alice.post("/_matrix/client/v3/createRoom", create).await;
        if number(version) >= 10 {
            assert_eq!(status, 400, "{ctx} string power level: {body}");
            assert_eq!(body["errcode"], "M_BAD_JSON");
            assert_eq!(created.as_u16(), 400, "{ctx}: {created_body}");
            assert_eq!(created_body["errcode"], "M_BAD_JSON");
        } else {
            assert_eq!(status, 200, "{ctx} string power level: {body}");
            assert_eq!(created.as_u16(), 200, "{ctx}: {created_body}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kicks_bans_and_invites_per_version() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let moderator = server.register("mod").await;
    let other_mod = server.register("othermod").await;
    let dave = server.register("dave").await;
    for version in VERSIONS {
        let ctx = format!("v{version}");
        let extra = json!({"kick": 50, "ban": 50, "invite": 50});
        let room =
            room_with_levels(&alice, &moderator, version, extra, &[&bob, &carol, &moderator]).await;
        let (status, _) =
            change_levels(&alice, &room, |l| l["users"][&other_mod.user_id] = json!(50)).await;
        assert_eq!(status, 200);
        assert_eq!(membership(&other_mod, "join", &room, None).await, 200);

        // Kicks: the kick level, and strictly more power than the target.
        assert_eq!(membership(&bob, "kick", &room, Some(&carol)).await, 403, "{ctx} kick power");
        assert_eq!(
            membership(&moderator, "kick", &room, Some(&alice)).await,
            403,
            "{ctx} kick higher"
        );
        assert_eq!(
            membership(&moderator, "kick", &room, Some(&other_mod)).await,
            403,
            "{ctx} kick equal"
        );
        assert_eq!(membership(&moderator, "kick", &room, Some(&carol)).await, 200, "{ctx} kick");
        // Bans the same; a banned user may not join or be invited.
        assert_eq!(membership(&bob, "ban", &room, Some(&carol)).await, 403, "{ctx} ban power");
        assert_eq!(
            membership(&moderator, "ban", &room, Some(&other_mod)).await,
            403,
            "{ctx} ban equal"
        );
        assert_eq!(membership(&moderator, "ban", &room, Some(&carol)).await, 200, "{ctx} ban");
        assert_eq!(membership(&carol, "join", &room, None).await, 403, "{ctx} banned join");
        assert_eq!(
            membership(&moderator, "invite", &room, Some(&carol)).await,
            403,
            "{ctx} invite banned"
        );
        assert_eq!(membership(&bob, "unban", &room, Some(&carol)).await, 403, "{ctx} unban power");
        assert_eq!(membership(&moderator, "unban", &room, Some(&carol)).await, 200, "{ctx} unban");

        // Invites: the invite level; not someone already joined.
        assert_eq!(membership(&bob, "invite", &room, Some(&dave)).await, 403, "{ctx} invite power");
        assert_eq!(
            membership(&moderator, "invite", &room, Some(&bob)).await,
            403,
            "{ctx} invite member"
        );
        assert_eq!(membership(&moderator, "invite", &room, Some(&dave)).await, 200, "{ctx} invite");
        let leave = format!("/_matrix/client/v3/rooms/{}/leave", enc(&room));
        assert_eq!(dave.post(&leave, json!({})).await.0, 200, "{ctx} reject invite");
        assert_eq!(bob.post(&leave, json!({})).await.0, 200, "{ctx} leave");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v12_creators_outrank_everyone() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    for version in ["11", "12"] {
        let v12 = version == "12";
        let ctx = format!("v{version}");
        // Bob is an additional creator (only v12 knows them); carol gets the top level, 100.
        let body = json!({"preset": "public_chat", "room_version": version,
        "creation_content": {"additional_creators": [bob.user_id]},
        "power_level_content_override": {"users": if v12 {
            json!({ carol.user_id.clone(): 100 })
        } else {
            json!({ alice.user_id.clone(): 100, carol.user_id.clone(): 100 })
        }}});
        let room = create_room(&alice, body).await;
        for user in [&bob, &carol] {
            assert_eq!(membership(user, "join", &room, None).await, 200);
        }
        let (_, state) = alice.get(&format!("/_matrix/client/v3/rooms/{}/state", enc(&room))).await;
        let create =
            state.as_array().unwrap().iter().find(|e| e["type"] == "m.room.create").unwrap();
        assert_eq!(create["content"].get("additional_creators").is_some(), v12, "{ctx}: {create}");

        // A creator cannot be kicked even by the top level; in v11 bob is an ordinary user.
        assert_eq!(membership(&carol, "kick", &room, Some(&alice)).await, 403, "{ctx}");
        assert_eq!(membership(&carol, "kick", &room, Some(&bob)).await, ok_if(!v12), "{ctx}");
        if !v12 {
            assert_eq!(membership(&bob, "join", &room, None).await, 200);
        }
        // Creators may change anything, including levels above 100; they may not be listed.
        let (status, _) =
            change_levels(&bob, &room, |l| l["users"][&carol.user_id] = json!(150)).await;
        assert_eq!(status, ok_if(v12), "{ctx} additional creator sets levels");
        let (status, _) =
            change_levels(&carol, &room, |l| l["users"][&alice.user_id] = json!(0)).await;
        assert_eq!(status, 403, "{ctx} demote the creator");
        if v12 {
            let (status, _) =
                change_levels(&alice, &room, |l| l["users"][&bob.user_id] = json!(100)).await;
            assert_eq!(status, 403, "{ctx} creators are not listed");
        }
    }
}
