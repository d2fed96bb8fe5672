//! The `/pushrules` API and its errors; rules live in `m.push_rules` account data.

use serde_json::{Value, json};

use crate::{
    common::{TestServer, User, assert_error},
    rooms::enc,
};

const RULES: &str = "/_matrix/client/v3/pushrules";

fn ids(rules: &Value, kind: &str) -> Vec<String> {
    rules["global"][kind]
        .as_array()
        .map(|a| a.iter().map(|r| r["rule_id"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

async fn account_data_rules(user: &User) -> Value {
    let path = format!("/_matrix/client/v3/user/{}/account_data/m.push_rules", enc(&user.user_id));
    let (status, body) = user.get(&path).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn put_content_rule(user: &User, id: &str, query: &str) -> (reqwest::StatusCode, Value) {
    let body = json!({"pattern": id, "actions": ["notify"]});
    user.put(&format!("{RULES}/global/content/{id}{query}"), body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_rules_are_the_spec_defaults_in_account_data() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let (status, rules) = alice.get(&format!("{RULES}/")).await;
    assert_eq!(status, 200, "{rules}");
    let overrides = ids(&rules, "override");
    assert_eq!(overrides[0], ".m.rule.master");
    for id in [".m.rule.is_user_mention", ".m.rule.is_room_mention", ".m.rule.invite_for_me"] {
        assert!(overrides.contains(&id.to_owned()), "{id} missing: {overrides:?}");
    }
    assert!(ids(&rules, "underride").contains(&".m.rule.message".to_owned()));
    let mention = &rules["global"]["override"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule_id"] == ".m.rule.is_user_mention")
        .unwrap()["conditions"][0];
    assert_eq!(mention["value"], alice.user_id, "the mention rule names the user");
    // Registration stored them as account data, exactly as served.
    assert_eq!(account_data_rules(&alice).await, rules);
    let (_, global) = alice.get(&format!("{RULES}/global/")).await;
    assert_eq!(global, rules["global"]);
    // They are the server's, not the client's.
    let path = format!("/_matrix/client/v3/user/{}/account_data/m.push_rules", enc(&alice.user_id));
    assert_error(&alice.put(&path, json!({"global": {}})).await, 405, "M_BAD_JSON");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_are_placed_with_before_and_after() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    assert_eq!(put_content_rule(&alice, "a", "").await.0, 200);
    // A new rule is the most important of its kind.
    assert_eq!(put_content_rule(&alice, "b", "").await.0, 200);
    assert_eq!(put_content_rule(&alice, "c", "?after=a").await.0, 200);
    assert_eq!(put_content_rule(&alice, "d", "?before=b").await.0, 200);
    let (_, rules) = alice.get(&format!("{RULES}/")).await;
    assert_eq!(ids(&rules, "content"), ["d", "b", "a", "c"]);
    // Synapse also lists one kind.
    let (status, content) = alice.get(&format!("{RULES}/global/content/")).await;
    assert_eq!(status, 200, "{content}");
    assert_eq!(content, rules["global"]["content"]);
    let (_, senders) = alice.get(&format!("{RULES}/global/sender/")).await;
    assert_eq!(senders, json!([]));
    // Replacing keeps the place and takes the new pattern.
    let body = json!({"pattern": "cake*lie", "actions": ["notify"]});
    assert_eq!(alice.put(&format!("{RULES}/global/content/a"), body).await.0, 200);
    let (_, rule) = alice.get(&format!("{RULES}/global/content/a")).await;
    assert_eq!(rule["pattern"], "cake*lie");
    assert_eq!(rule["enabled"], true);
    assert_eq!(rule["default"], false);
    // Every change is in the account data clients sync.
    assert_eq!(ids(&account_data_rules(&alice).await, "content"), ["d", "b", "a", "c"]);
    // An override goes after the master rule.
    let cond = json!({"conditions": [{"kind": "event_match", "key": "content.body", "pattern": "x"}],
                      "actions": ["notify"]});
    assert_eq!(alice.put(&format!("{RULES}/global/override/mine"), cond).await.0, 200);
    let (_, rules) = alice.get(&format!("{RULES}/")).await;
    assert_eq!(ids(&rules, "override")[..2], [".m.rule.master", "mine"]);
    // Room and sender rules are keyed by the room and user.
    let room_rule = format!("{RULES}/global/room/{}", enc("!r:localhost"));
    assert_eq!(alice.put(&room_rule, json!({"actions": []})).await.0, 200);
    let sender_rule = format!("{RULES}/global/sender/{}", enc("@spam:localhost"));
    assert_eq!(alice.put(&sender_rule, json!({"actions": []})).await.0, 200);
    let (_, rule) = alice.get(&sender_rule).await;
    assert_eq!(rule["rule_id"], "@spam:localhost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_rules_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    assert_eq!(put_content_rule(&alice, "a", "").await.0, 200);
    let before = account_data_rules(&alice).await;
    // Spec: an unknown before/after rule is M_UNKNOWN; so is one relative to a default rule.
    assert_error(&put_content_rule(&alice, "x", "?before=nope").await, 400, "M_UNKNOWN");
    assert_error(&put_content_rule(&alice, "x", "?after=nope").await, 400, "M_UNKNOWN");
    let rel = format!("?after={}", enc(".m.rule.master"));
    let cond = json!({"conditions": [], "actions": ["notify"]});
    let path = format!("{RULES}/global/override/x{rel}");
    assert_error(&alice.put(&path, cond.clone()).await, 400, "M_UNKNOWN");
    // Server-default rule IDs cannot be created.
    let path = format!("{RULES}/global/override/{}", enc(".m.rule.mine"));
    assert_error(&alice.put(&path, cond).await, 400, "M_INVALID_PARAM");
    // Unknown actions, missing conditions, pattern or actions, bad room IDs.
    let bad = json!({"pattern": "p", "actions": ["not_an_action"]});
    assert_error(
        &alice.put(&format!("{RULES}/global/content/x"), bad).await,
        400,
        "M_INVALID_PARAM",
    );
    let bad = json!({"pattern": "p", "actions": [{"foo": "bar"}]});
    assert_error(
        &alice.put(&format!("{RULES}/global/content/x"), bad).await,
        400,
        "M_INVALID_PARAM",
    );
    for (kind, body) in [
        ("override", json!({"actions": ["notify"]})),
        ("underride", json!({"conditions": [{}], "actions": ["notify"]})),
        ("content", json!({"actions": ["notify"]})),
        ("content", json!({"pattern": "p"})),
        ("room", json!({"actions": "notify"})),
    ] {
        let response = alice.put(&format!("{RULES}/global/{kind}/x"), body.clone()).await;
        assert_eq!(response.0, 400, "{kind} {body}: {}", response.1);
    }
    let bad_room =
        alice.put(&format!("{RULES}/global/room/not-a-room"), json!({"actions": []})).await;
    assert_eq!(bad_room.0, 400, "{}", bad_room.1);
    // The historical actions are accepted and kept as given.
    let old = json!({"pattern": "p", "actions": ["dont_notify"]});
    assert_eq!(alice.put(&format!("{RULES}/global/content/old"), old).await.0, 200);
    let (_, rule) = alice.get(&format!("{RULES}/global/content/old/actions")).await;
    assert_eq!(rule, json!({"actions": ["dont_notify"]}));
    let after = account_data_rules(&alice).await;
    assert_eq!(ids(&after, "content"), ["old", "a"], "only the good rule was added");
    assert_eq!(before["global"]["override"], after["global"]["override"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enabled_and_actions_of_default_and_user_rules() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let master = format!("{RULES}/global/override/{}", enc(".m.rule.master"));
    let (status, body) = alice.get(&format!("{master}/enabled")).await;
    assert_eq!((status.as_u16(), body), (200, json!({"enabled": false})));
    assert_eq!(alice.put(&format!("{master}/enabled"), json!({"enabled": true})).await.0, 200);
    let (_, body) = alice.get(&format!("{master}/enabled")).await;
    assert_eq!(body, json!({"enabled": true}));
    assert_error(
        &alice.put(&format!("{master}/enabled"), json!({"enabled": "yes"})).await,
        400,
        "M_BAD_JSON",
    );

    let message = format!("{RULES}/global/underride/{}", enc(".m.rule.message"));
    let (_, body) = alice.get(&format!("{message}/actions")).await;
    assert_eq!(body, json!({"actions": ["notify"]}));
    let loud = json!({"actions": ["notify", {"set_tweak": "sound", "value": "bell"}]});
    assert_eq!(alice.put(&format!("{message}/actions"), loud.clone()).await.0, 200);
    let (_, body) = alice.get(&format!("{message}/actions")).await;
    assert_eq!(body, loud);
    let (_, rule) = alice.get(&message).await;
    assert_eq!(rule["default"], true, "a changed default rule stays a default rule");
    let bad = json!({"actions": ["explode"]});
    assert_error(&alice.put(&format!("{message}/actions"), bad).await, 400, "M_INVALID_PARAM");

    // A user rule's attributes, and unknown rules.
    assert_eq!(put_content_rule(&alice, "mine", "").await.0, 200);
    let mine = format!("{RULES}/global/content/mine");
    assert_eq!(alice.put(&format!("{mine}/enabled"), json!({"enabled": false})).await.0, 200);
    assert_eq!(alice.get(&format!("{mine}/enabled")).await.1, json!({"enabled": false}));
    // Replacing a rule keeps it disabled.
    assert_eq!(put_content_rule(&alice, "mine", "").await.0, 200);
    assert_eq!(alice.get(&format!("{mine}/enabled")).await.1, json!({"enabled": false}));
    let unknown = format!("{RULES}/global/override/{}", enc(".not.a.rule"));
    assert_error(&alice.get(&unknown).await, 404, "M_NOT_FOUND");
    assert_error(&alice.get(&format!("{unknown}/enabled")).await, 404, "M_NOT_FOUND");
    let enable = json!({"enabled": true});
    assert_error(&alice.put(&format!("{unknown}/enabled"), enable).await, 404, "M_NOT_FOUND");
    let actions = json!({"actions": ["notify"]});
    assert_error(&alice.put(&format!("{unknown}/actions"), actions).await, 404, "M_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_rules() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    assert_eq!(put_content_rule(&alice, "mine", "").await.0, 200);
    let mine = format!("{RULES}/global/content/mine");
    assert_eq!(alice.delete(&mine).await.0, 200);
    assert_error(&alice.get(&mine).await, 404, "M_NOT_FOUND");
    assert_error(&alice.delete(&mine).await, 404, "M_NOT_FOUND");
    assert!(ids(&account_data_rules(&alice).await, "content").is_empty());
    // Server-default rules stay.
    let master = format!("{RULES}/global/override/{}", enc(".m.rule.master"));
    assert_error(&alice.delete(&master).await, 400, "M_INVALID_PARAM");
    assert_eq!(alice.get(&master).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_paths_and_who_may_ask() {
    let server = TestServer::start_with(|c| c.registration.allow_guests = true).await;
    let alice = server.register("alice").await;
    // Synapse's answers: the bare path is unknown, any other malformed one is a bad request.
    assert_error(&alice.get(RULES).await, 404, "M_UNRECOGNIZED");
    for path in [
        "/global",
        "/global/room",
        "/not_a_scope/",
        "/global/not_a_kind/",
        "/global/not_a_kind/x",
        "/global/override/.m.rule.master/not_an_attr",
    ] {
        let response = alice.get(&format!("{RULES}{path}")).await;
        assert_eq!(response.0, 400, "GET {path}: {}", response.1);
    }
    for path in [
        "/",
        "/device/room/x",
        "/global",
        "/global/room",
        "/global/room/",
        "/global/not_a_kind/x",
        "/global/override/.m.rule.master/not_an_attr",
    ] {
        let response = alice.put(&format!("{RULES}{path}"), json!({"actions": []})).await;
        assert_eq!(response.0, 400, "PUT {path}: {}", response.1);
    }
    assert_error(&server.client().get(&format!("{RULES}/")).await, 401, "M_MISSING_TOKEN");
    let (_, guest) =
        server.client().post("/_matrix/client/v3/register?kind=guest", json!({})).await;
    let guest = server.client().with_token(guest["access_token"].as_str().unwrap());
    assert_error(&guest.get(&format!("{RULES}/")).await, 403, "M_GUEST_ACCESS_FORBIDDEN");
}

/// An upgrade copies each member's rules about the old room to the new one (Synapse): the
/// room rule, and override rules on its `room_id`, enabled or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_about_a_room_follow_its_upgrade() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let old = super::room_with(&alice, &bob).await;
    let mute = json!({"actions": []});
    assert_eq!(alice.put(&format!("{RULES}/global/room/{}", enc(&old)), mute).await.0, 200);
    let on_room = json!({
        "conditions": [{"kind": "event_match", "key": "room_id", "pattern": old}],
        "actions": ["notify", {"set_tweak": "sound", "value": "bell"}],
    });
    assert_eq!(bob.put(&format!("{RULES}/global/override/bells"), on_room).await.0, 200);
    let enabled = format!("{RULES}/global/override/bells/enabled");
    assert_eq!(bob.put(&enabled, json!({"enabled": false})).await.0, 200);

    let path = format!("/_matrix/client/v3/rooms/{}/upgrade", enc(&old));
    let (status, body) = alice.post(&path, json!({"new_version": "11"})).await;
    assert_eq!(status, 200, "{body}");
    let new = body["replacement_room"].as_str().unwrap();

    let (status, rule) = alice.get(&format!("{RULES}/global/room/{}", enc(new))).await;
    assert_eq!(status, 200, "{rule}");
    assert_eq!(rule["actions"], json!([]));
    assert_eq!(rule["enabled"], true);
    let (status, rule) = bob.get(&format!("{RULES}/global/override/{}", enc(new))).await;
    assert_eq!(status, 200, "{rule}");
    assert_eq!(rule["conditions"][0]["pattern"], new);
    assert_eq!(rule["actions"][1], json!({"set_tweak": "sound", "value": "bell"}));
    assert_eq!(rule["enabled"], false);
    // The old rules stay; members without rules about the room get none.
    assert_eq!(bob.get(&format!("{RULES}/global/override/bells")).await.0, 200);
    assert_eq!(alice.get(&format!("{RULES}/global/room/{}", enc(&old))).await.0, 200);
    assert_error(&bob.get(&format!("{RULES}/global/room/{}", enc(new))).await, 404, "M_NOT_FOUND");
}
