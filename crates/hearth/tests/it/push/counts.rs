//! Unread notification and highlight counts: up on a message, highlight on a mention, per
//! thread, reset by receipts (main, thread, unthreaded) and by the user's own messages.

use serde_json::json;

use super::{counts, receipt, room_with, say, send_content};
use crate::common::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_count_mentions_highlight_receipts_reset() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = room_with(&alice, &bob).await;
    assert_eq!(counts(&server, &alice, &room).await.total().notifications, 0);

    let first = say(&bob, &room, "hello").await;
    let c = counts(&server, &alice, &room).await.total();
    assert_eq!((c.notifications, c.highlights), (1, 0));
    // Intentional mentions highlight.
    let mention = json!({"msgtype": "m.text", "body": "hey you",
                         "m.mentions": {"user_ids": [alice.user_id]}});
    let last = send_content(&bob, &room, mention).await;
    let c = counts(&server, &alice, &room).await;
    assert_eq!((c.total().notifications, c.total().highlights), (2, 1));
    assert!(c.threads.is_empty());
    // The sender is never notified of their own events.
    assert_eq!(counts(&server, &bob, &room).await.total().notifications, 0);

    // A receipt reads up to its event; one behind it changes nothing.
    receipt(&server, &alice, &room, None, &first).await;
    let c = counts(&server, &alice, &room).await.total();
    assert_eq!((c.notifications, c.highlights), (1, 1));
    receipt(&server, &alice, &room, None, &last).await;
    assert_eq!(counts(&server, &alice, &room).await.total().notifications, 0);
    receipt(&server, &alice, &room, None, &first).await;
    assert_eq!(counts(&server, &alice, &room).await.total().notifications, 0);

    // The user's own message reads everything before it.
    say(&bob, &room, "one").await;
    say(&bob, &room, "two").await;
    assert_eq!(counts(&server, &alice, &room).await.total().notifications, 2);
    say(&alice, &room, "read them").await;
    assert_eq!(counts(&server, &alice, &room).await.total().notifications, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_are_counted_apart_and_read_by_threaded_receipts() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = room_with(&alice, &bob).await;
    let root = say(&bob, &room, "root").await;
    let reply = |body: &str| {
        json!({"msgtype": "m.text", "body": body,
               "m.relates_to": {"rel_type": "m.thread", "event_id": root}})
    };
    let r1 = send_content(&bob, &room, reply("r1")).await;
    let r2 = send_content(&bob, &room, reply("r2")).await;
    // A reaction to a reply belongs to its thread (spec: relations are followed).
    let reaction =
        json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": r2, "key": "x"}});
    let path =
        format!("/_matrix/client/v3/rooms/{}/send/m.reaction/react1", crate::rooms::enc(&room));
    assert_eq!(bob.put(&path, reaction).await.0, 200);
    let c = counts(&server, &alice, &room).await;
    assert_eq!(c.main.notifications, 1, "the root is in the main timeline");
    let root_id = ruma::OwnedEventId::try_from(root.as_str()).unwrap();
    assert_eq!(c.threads[&root_id].notifications, 2, "reactions do not notify");
    assert_eq!(c.total().notifications, 3);

    // A receipt in the thread reads only the thread.
    receipt(&server, &alice, &room, Some(&root), &r1).await;
    let c = counts(&server, &alice, &room).await;
    assert_eq!((c.main.notifications, c.threads[&root_id].notifications), (1, 1));
    // A main-timeline receipt reads only the main timeline, even past the thread's events.
    receipt(&server, &alice, &room, Some("main"), &r2).await;
    let c = counts(&server, &alice, &room).await;
    assert_eq!(c.main.notifications, 0);
    assert_eq!(c.threads[&root_id].notifications, 1);
    // An unthreaded receipt reads everything up to it.
    receipt(&server, &alice, &room, None, &r2).await;
    assert_eq!(counts(&server, &alice, &room).await, Default::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_decide_what_counts() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = room_with(&alice, &bob).await;
    // Muting the room (a room rule without actions) stops notifications, not mentions.
    let rule = format!("/_matrix/client/v3/pushrules/global/room/{}", crate::rooms::enc(&room));
    assert_eq!(alice.put(&rule, json!({"actions": []})).await.0, 200);
    say(&bob, &room, "quiet").await;
    assert_eq!(counts(&server, &alice, &room).await.total().notifications, 0);
    let mention = json!({"msgtype": "m.text", "body": "hey",
                         "m.mentions": {"user_ids": [alice.user_id]}});
    send_content(&bob, &room, mention).await;
    let c = counts(&server, &alice, &room).await.total();
    assert_eq!((c.notifications, c.highlights), (1, 1));
    // Notices do not notify; a content rule can highlight a keyword.
    assert_eq!(alice.delete(&rule).await.0, 200);
    send_content(&bob, &room, json!({"msgtype": "m.notice", "body": "bot"})).await;
    assert_eq!(counts(&server, &alice, &room).await.total().notifications, 1);
    let cake = json!({"pattern": "cake", "actions": ["notify", {"set_tweak": "highlight"}]});
    assert_eq!(alice.put("/_matrix/client/v3/pushrules/global/content/cake", cake).await.0, 200);
    say(&bob, &room, "There is CAKE here").await;
    let c = counts(&server, &alice, &room).await.total();
    assert_eq!((c.notifications, c.highlights), (2, 2));
    // @room needs the sender to have the `room` notification power level (50 by default).
    let everyone = json!({"msgtype": "m.text", "body": "all", "m.mentions": {"room": true}});
    send_content(&bob, &room, everyone.clone()).await;
    let c = counts(&server, &alice, &room).await.total();
    assert_eq!((c.notifications, c.highlights), (3, 2), "bob may not notify the room");
    send_content(&alice, &room, everyone).await;
    let c = counts(&server, &bob, &room).await.total();
    assert_eq!(c.highlights, 1, "alice, the creator, may");
}

/// Through the client API: `/sync` reports the counts with the events, and `/receipt` resets
/// them (threaded counts when the filter asks for them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_reports_counts_and_receipts_reset_them() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = room_with(&alice, &bob).await;
    let (_, sync) = alice.get("/_matrix/client/v3/sync").await;
    let since = sync["next_batch"].as_str().unwrap().to_owned();
    let root = say(&bob, &room, "hello").await;
    let mention = json!({"msgtype": "m.text", "body": "hey",
                         "m.mentions": {"user_ids": [alice.user_id]},
                         "m.relates_to": {"rel_type": "m.thread", "event_id": root}});
    send_content(&bob, &room, mention).await;
    // Incremental: the counts come with the events.
    let (status, sync) = alice.get(&format!("/_matrix/client/v3/sync?since={since}")).await;
    assert_eq!(status, 200, "{sync}");
    let joined = &sync["rooms"]["join"][&room];
    assert_eq!(joined["timeline"]["events"].as_array().unwrap().len(), 2, "{joined}");
    assert_eq!(
        joined["unread_notifications"],
        json!({"notification_count": 2, "highlight_count": 1})
    );
    // Threaded counts when the filter asks.
    let filter = crate::rooms::enc(r#"{"room":{"timeline":{"unread_thread_notifications":true}}}"#);
    let (_, sync) = alice.get(&format!("/_matrix/client/v3/sync?filter={filter}")).await;
    let joined = &sync["rooms"]["join"][&room];
    assert_eq!(
        joined["unread_notifications"],
        json!({"notification_count": 1, "highlight_count": 0})
    );
    assert_eq!(
        joined["unread_thread_notifications"][&root],
        json!({"notification_count": 1, "highlight_count": 1})
    );
    let since = sync["next_batch"].as_str().unwrap().to_owned();
    // A read receipt on the root, in the main timeline, resets the main count only.
    let path = format!(
        "/_matrix/client/v3/rooms/{}/receipt/m.read/{}",
        crate::rooms::enc(&room),
        crate::rooms::enc(&root)
    );
    assert_eq!(alice.post(&path, json!({"thread_id": "main"})).await.0, 200);
    let (_, sync) =
        alice.get(&format!("/_matrix/client/v3/sync?filter={filter}&since={since}")).await;
    let joined = &sync["rooms"]["join"][&room];
    assert_eq!(
        joined["unread_notifications"],
        json!({"notification_count": 0, "highlight_count": 0}),
        "{sync}"
    );
    assert_eq!(joined["unread_thread_notifications"][&root]["notification_count"], 1);
    // An unthreaded private receipt resets everything.
    let last = last_event(&alice, &room).await;
    let path = format!(
        "/_matrix/client/v3/rooms/{}/receipt/m.read.private/{}",
        crate::rooms::enc(&room),
        crate::rooms::enc(&last)
    );
    assert_eq!(alice.post(&path, json!({})).await.0, 200);
    assert_eq!(counts(&server, &alice, &room).await, Default::default());
}

async fn last_event(user: &crate::common::User, room: &str) -> String {
    let path =
        format!("/_matrix/client/v3/rooms/{}/messages?dir=b&limit=1", crate::rooms::enc(room));
    let (_, page) = user.get(&path).await;
    page["chunk"][0]["event_id"].as_str().unwrap().to_owned()
}

/// Events the default rules notify no one about (joins) still reach members whose own rules
/// ask for them, and only them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_rules_are_evaluated_when_the_defaults_are_silent() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = room_with(&alice, &bob).await;
    // Rules apply to events evaluated after they change, and evaluation trails commits by a
    // moment: let it reach bob's join before alice's rule changes.
    assert_eq!(counts(&server, &alice, &room).await.total().notifications, 0);
    let joins = json!({
        "conditions": [{"kind": "event_match", "key": "content.membership", "pattern": "join"}],
        "actions": ["notify"],
    });
    let path = "/_matrix/client/v3/pushrules/global/override/joins";
    assert_eq!(alice.put(path, joins).await.0, 200);
    let carol = server.register("carol").await;
    let join = format!("/_matrix/client/v3/rooms/{}/join", crate::rooms::enc(&room));
    assert_eq!(carol.post(&join, json!({})).await.0, 200);
    assert_eq!(counts(&server, &alice, &room).await.total().notifications, 1);
    assert_eq!(counts(&server, &bob, &room).await.total().notifications, 0);
}

/// `contains_display_name` sees the member's display name in the room, as it changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn display_name_conditions_follow_the_members_name() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = room_with(&alice, &bob).await;
    let name_rule = json!({
        "conditions": [{"kind": "contains_display_name"}],
        "actions": ["notify", {"set_tweak": "highlight"}],
    });
    let path = "/_matrix/client/v3/pushrules/global/override/my_name";
    assert_eq!(alice.put(path, name_rule).await.0, 200);
    let member = format!(
        "/_matrix/client/v3/rooms/{}/state/m.room.member/{}",
        crate::rooms::enc(&room),
        crate::rooms::enc(&alice.user_id)
    );
    let rename = |name: &str| json!({"membership": "join", "displayname": name});
    assert_eq!(alice.put(&member, rename("Alicia")).await.0, 200);
    say(&bob, &room, "is Alicia here?").await;
    let c = counts(&server, &alice, &room).await.total();
    assert_eq!((c.notifications, c.highlights), (1, 1));
    say(&bob, &room, "anyone?").await;
    let c = counts(&server, &alice, &room).await.total();
    assert_eq!((c.notifications, c.highlights), (2, 1), "no name, no highlight");
    // A new name in the room: the old one no longer highlights, the new one does.
    assert_eq!(alice.put(&member, rename("Ali B")).await.0, 200);
    let c = counts(&server, &alice, &room).await.total();
    assert_eq!((c.notifications, c.highlights), (2, 1), "a new name is no new join");
    say(&bob, &room, "Alicia?").await;
    assert_eq!(counts(&server, &alice, &room).await.total().highlights, 1);
    say(&bob, &room, "oh, Ali B!").await;
    let c = counts(&server, &alice, &room).await.total();
    assert_eq!((c.notifications, c.highlights), (4, 2));
}

/// Counts cover the current stay in the room: what was sent before a rejoin is not unread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejoin_starts_the_counts_afresh() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = room_with(&bob, &alice).await;
    say(&bob, &room, "one").await;
    assert_eq!(counts(&server, &alice, &room).await.total().notifications, 1);
    let base = format!("/_matrix/client/v3/rooms/{}", crate::rooms::enc(&room));
    assert_eq!(alice.post(&format!("{base}/leave"), json!({})).await.0, 200);
    assert_eq!(counts(&server, &alice, &room).await, Default::default(), "not joined");
    say(&bob, &room, "while you were away").await;
    assert_eq!(alice.post(&format!("{base}/join"), json!({})).await.0, 200);
    assert_eq!(counts(&server, &alice, &room).await, Default::default());
    say(&bob, &room, "welcome back").await;
    assert_eq!(counts(&server, &alice, &room).await.total().notifications, 1);
    let (_, page) = alice.get("/_matrix/client/v3/notifications").await;
    let listed = page["notifications"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{page}");
    assert_eq!(listed[0]["event"]["content"]["body"], "welcome back");
}

/// Messages of an ignored user notify nothing (they never reach the ignoring user), mentions
/// included, across a restart; others in the room still count them; un-ignoring counts the
/// next ones again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignored_senders_notify_nothing() {
    let mut server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let room = room_with(&alice, &bob).await;
    let join = format!("/_matrix/client/v3/rooms/{}/join", crate::rooms::enc(&room));
    assert_eq!(carol.post(&join, json!({})).await.0, 200);
    let ignore = format!(
        "/_matrix/client/v3/user/{}/account_data/m.ignored_user_list",
        crate::rooms::enc(&alice.user_id)
    );
    let list = json!({"ignored_users": {bob.user_id.clone(): {}}});
    assert_eq!(alice.put(&ignore, list).await.0, 200);
    // The lists are read again at startup.
    server.restart().await;
    say(&bob, &room, "hello").await;
    let mention = json!({"msgtype": "m.text", "body": "hey",
                         "m.mentions": {"user_ids": [alice.user_id, carol.user_id]}});
    send_content(&bob, &room, mention).await;
    assert_eq!(counts(&server, &alice, &room).await, Default::default());
    let c = counts(&server, &carol, &room).await.total();
    assert_eq!((c.notifications, c.highlights), (2, 1));
    let (_, page) = alice.get("/_matrix/client/v3/notifications").await;
    assert_eq!(page["notifications"], json!([]), "{page}");

    assert_eq!(alice.put(&ignore, json!({"ignored_users": {}})).await.0, 200);
    say(&bob, &room, "can you hear me now?").await;
    assert_eq!(counts(&server, &alice, &room).await.total().notifications, 1);
}
