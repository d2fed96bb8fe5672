//! OpenID tokens and their exchange at `/_matrix/federation/v1/openid/userinfo`.

use serde_json::json;

use crate::{
    common::{TestServer, assert_error},
    rooms::enc,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_tokens_identify_their_user() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let path = format!("/_matrix/client/v3/user/{}/openid/request_token", enc(&alice.user_id));
    let (status, body) = alice.post(&path, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["token_type"], &body["matrix_server_name"]),
        (&json!("Bearer"), &json!("localhost"))
    );
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();

    // The third party asks without the user's access token.
    let userinfo = "/_matrix/federation/v1/openid/userinfo";
    let (status, info) = server.client().get(&format!("{userinfo}?access_token={token}")).await;
    assert_eq!((status.as_u16(), info), (200, json!({"sub": alice.user_id})));
    // An access token is not an OpenID token; a missing one is 401 too.
    let access = alice.access_token();
    let wrong = server.client().get(&format!("{userinfo}?access_token={access}")).await;
    assert_error(&wrong, 401, "M_UNKNOWN_TOKEN");
    assert_error(&server.client().get(userinfo).await, 401, "M_MISSING_TOKEN");
    // Only for oneself.
    assert_error(&bob.post(&path, json!({})).await, 403, "M_FORBIDDEN");
}
