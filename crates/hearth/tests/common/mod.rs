//! Test harness: a real Hearth server on an ephemeral loopback port with a temporary data dir,
//! and a small HTTP client that talks to it as a Matrix client does.
#![allow(dead_code)]

use std::net::SocketAddr;

use hearth::server::RunningServer;
use hearth_core::Config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

pub struct TestServer {
    pub base: String,
    pub addr: SocketAddr,
    pub config: Config,
    server: Option<RunningServer>,
    _dir: TempDir,
}

impl TestServer {
    /// A server with the zero-config defaults, except: ephemeral port, temp data dir, no
    /// rate limits.
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// Like `start`, after `configure` adjusts the configuration.
    pub async fn start_with(configure: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config { data_dir: dir.path().to_path_buf(), ..Config::default() };
        config.http.listen = vec![SocketAddr::from(([127, 0, 0, 1], 0))];
        config.rate_limits.enabled = false;
        configure(&mut config);
        let server = RunningServer::start(config.clone()).await.expect("server starts");
        let addr = server.addrs[0];
        config.http.listen = vec![addr];
        TestServer { base: format!("http://{addr}"), addr, config, server: Some(server), _dir: dir }
    }

    /// Stop the server gracefully and start it again on the same port and data.
    pub async fn restart(&mut self) {
        self.server.take().expect("running").stop().await;
        self.server =
            Some(RunningServer::start(self.config.clone()).await.expect("server restarts"));
    }

    /// Take the running server out, e.g. to stop it while requests are in flight.
    pub fn take_running(&mut self) -> RunningServer {
        self.server.take().expect("running")
    }

    pub fn services(&self) -> &hearth_service::Services {
        &self.server.as_ref().expect("running").services
    }

    /// A registration token good for `uses` registrations (unlimited: `None`).
    pub async fn create_registration_token(&self, uses: Option<u32>) -> String {
        self.services().accounts.create_registration_token(uses, None).await.expect("token")
    }

    /// A client without an access token.
    pub fn client(&self) -> Client {
        Client { base: self.base.clone(), token: None, http: reqwest::Client::new() }
    }

    /// Register `localpart` with password `password123` and return a logged-in client.
    pub async fn register(&self, localpart: &str) -> User {
        let (status, body) = self
            .client()
            .post(
                "/_matrix/client/v3/register",
                json!({
                    "username": localpart,
                    "password": "password123",
                    "auth": {"type": "m.login.dummy"}
                }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "register {localpart}: {body}");
        let token = body["access_token"].as_str().expect("access_token").to_owned();
        User {
            user_id: body["user_id"].as_str().unwrap().to_owned(),
            device_id: body["device_id"].as_str().unwrap().to_owned(),
            client: Client {
                base: self.base.clone(),
                token: Some(token),
                http: reqwest::Client::new(),
            },
        }
    }
}

pub struct User {
    pub user_id: String,
    pub device_id: String,
    pub client: Client,
}

impl std::ops::Deref for User {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub token: Option<String>,
    pub http: reqwest::Client,
}

impl Client {
    pub fn with_token(&self, token: &str) -> Client {
        Client { token: Some(token.to_owned()), ..self.clone() }
    }

    pub fn access_token(&self) -> &str {
        self.token.as_deref().expect("client has a token")
    }

    /// Send a request with an optional JSON body; returns the status and the JSON body
    /// (`Value::Null` when the body is not JSON).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let bytes = res.bytes().await.expect("body read");
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// Send raw bytes as the body.
    pub async fn request_raw(
        &self,
        method: Method,
        path: &str,
        body: &'static [u8],
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).body(body);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let bytes = res.bytes().await.expect("body read");
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.request(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.request(Method::DELETE, path, None).await
    }
}

/// Assert a Matrix error response: status and errcode.
#[track_caller]
pub fn assert_error(response: &(StatusCode, Value), status: u16, errcode: &str) {
    assert_eq!(response.0.as_u16(), status, "unexpected status, body: {}", response.1);
    assert_eq!(response.1["errcode"], errcode, "unexpected errcode, body: {}", response.1);
    assert!(response.1["error"].is_string(), "error message missing: {}", response.1);
}
