//! The HTTP foundation: error responses, CORS, discovery, and persistence across restarts.

use reqwest::Method;
use serde_json::json;

use crate::common::{TestServer, assert_error};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_path_and_wrong_method_are_unrecognized() {
    let server = TestServer::start().await;
    let client = server.client();
    assert_error(&client.get("/_matrix/client/v3/no/such/endpoint").await, 404, "M_UNRECOGNIZED");
    assert_error(
        &client.request(Method::DELETE, "/_matrix/client/versions", None).await,
        405,
        "M_UNRECOGNIZED",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_that_are_not_json_or_of_the_wrong_shape() {
    let server = TestServer::start().await;
    let client = server.client();
    let not_json = client.request_raw(Method::POST, "/_matrix/client/v3/login", b"{nope").await;
    assert_error(&not_json, 400, "M_NOT_JSON");
    // Well-formed apart from a byte that is not UTF-8 inside a string.
    let not_utf8 = client.request_raw(
        Method::POST,
        "/_matrix/client/v3/register",
        b"{\"username\": \"a\x81\"}",
    );
    assert_error(&not_utf8.await, 400, "M_NOT_JSON");
    let wrong_shape = client.post("/_matrix/client/v3/login", json!({"type": 12})).await;
    assert_error(&wrong_shape, 400, "M_BAD_JSON");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_body_is_too_large() {
    let server = TestServer::start_with(|c| c.http.max_request_bytes = 64).await;
    let body = json!({"type": "m.login.password", "password": "x".repeat(200)});
    let response = server.client().post("/_matrix/client/v3/login", body).await;
    assert_error(&response, 413, "M_TOO_LARGE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_and_unknown_tokens() {
    let server = TestServer::start().await;
    let client = server.client();
    assert_error(&client.get("/_matrix/client/v3/account/whoami").await, 401, "M_MISSING_TOKEN");
    let unknown = client.with_token("not-a-token").get("/_matrix/client/v3/account/whoami").await;
    assert_error(&unknown, 401, "M_UNKNOWN_TOKEN");
    assert_ne!(unknown.1["soft_logout"], true, "a plain unknown token is not a soft logout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_headers_and_preflight() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    let preflight = http
        .request(Method::OPTIONS, format!("{}/_matrix/client/v3/any/path", server.base))
        .header("Origin", "https://app.element.io")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    let methods = preflight.headers()["access-control-allow-methods"].to_str().unwrap().to_owned();
    for m in ["GET", "POST", "PUT", "DELETE", "OPTIONS"] {
        assert!(methods.contains(m), "{methods}");
    }
    let res = http
        .get(format!("{}/_matrix/client/versions", server.base))
        .header("Origin", "https://app.element.io")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_and_well_known() {
    let server =
        TestServer::start_with(|c| c.well_known.server = Some("example.org:443".into())).await;
    let client = server.client();
    let (status, body) = client.get("/_matrix/client/versions").await;
    assert_eq!(status, 200);
    assert!(body["versions"].as_array().unwrap().iter().any(|v| v == "v1.1"));
    let (status, body) = client.get("/.well-known/matrix/client").await;
    assert_eq!(status, 200);
    assert_eq!(body["m.homeserver"]["base_url"], format!("http://{}", server.addr));
    let (status, body) = client.get("/.well-known/matrix/server").await;
    assert_eq!(status, 200);
    assert_eq!(body["m.server"], "example.org:443");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_and_token_survive_restart() {
    let mut server = TestServer::start().await;
    let alice = server.register("alice").await;
    server.restart().await;
    let (status, body) = alice.get("/_matrix/client/v3/account/whoami").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_id"], alice.user_id);
    let (status, body) = server
        .client()
        .post(
            "/_matrix/client/v3/login",
            json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"}, "password": "password123"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_id"], "@alice:localhost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_in_flight_requests() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut server = TestServer::start().await;
    server.register("alice").await;
    let body =
        json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"},
                      "password": "password123"})
        .to_string();
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    // With `Expect: 100-continue` the server says "100 Continue" once the handler starts
    // reading the body: from then on the request is in flight.
    let head = format!(
        "POST /_matrix/client/v3/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let mut read_until = async |stream: &mut tokio::net::TcpStream, needle: &str| {
        while !String::from_utf8_lossy(&received).contains(needle) {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "connection closed early: {}", String::from_utf8_lossy(&received));
            received.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&received).into_owned()
    };
    read_until(&mut stream, "100 Continue").await;

    // Shut down while the request is in flight; wait until new connections are refused.
    let stopping = tokio::spawn(server.take_running().stop());
    while tokio::net::TcpStream::connect(server.addr).await.is_ok() {
        tokio::task::yield_now().await;
    }
    stream.write_all(body.as_bytes()).await.unwrap();
    let response = read_until(&mut stream, "access_token").await;
    assert!(response.contains("HTTP/1.1 200"), "{response}");
    drop(stream);
    stopping.await.unwrap();
}
