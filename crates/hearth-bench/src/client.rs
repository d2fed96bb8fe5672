//! A Matrix client over one shared connection pool (hyper, HTTP/1.1 keep-alive, plain HTTP:
//! the servers listen on loopback), speaking only the standard Client-Server API so the same
//! workload runs against any homeserver.

use std::{
    fmt,
    sync::Arc,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{self, connect::HttpConnector},
    rt::TokioExecutor,
};
use serde_json::{Value, json};

/// The password given to users that must have one (to log in again, or on servers that
/// refuse password-less registration).
pub const PASSWORD: &str = "bench-password-1";

/// Why a request failed: the server's Matrix error, a transport failure, or an answer that
/// lacks what the workload needs. `kind()` is the key errors are counted under.
#[derive(Debug, Clone)]
pub enum ReqError {
    Status { status: u16, errcode: String, message: String },
    Transport(String),
    Unexpected(String),
}

impl ReqError {
    pub fn kind(&self) -> String {
        match self {
            ReqError::Status { status, errcode, .. } => format!("{status} {errcode}"),
            ReqError::Transport(e) => format!("transport: {e}"),
            ReqError::Unexpected(e) => format!("unexpected answer: {e}"),
        }
    }

    fn is_missing_param(&self) -> bool {
        matches!(self, ReqError::Status { errcode, .. } if errcode == "M_MISSING_PARAM")
    }
}

impl fmt::Display for ReqError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReqError::Status { status, errcode, message } => {
                write!(f, "{status} {errcode}: {message}")
            }
            other => f.write_str(&other.kind()),
        }
    }
}

pub type Res<T> = Result<T, ReqError>;

/// Any request gives up after this: above the longest long-poll the workloads use (30 s).
const TIMEOUT: Duration = Duration::from_secs(180);

/// A logged-in user: its ID and access token.
#[derive(Debug, Clone)]
pub struct User {
    pub user_id: String,
    pub token: String,
}

#[derive(Clone)]
pub struct Client {
    http: legacy::Client<HttpConnector, Full<Bytes>>,
    base: Arc<str>,
    /// Set once the server refused a password-less registration (Synapse does).
    needs_password: Arc<AtomicBool>,
}

impl Client {
    pub fn new(base: &str) -> Client {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let http = legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(300))
            .build(connector);
        Client {
            http,
            base: base.trim_end_matches('/').into(),
            needs_password: Arc::new(AtomicBool::new(false)),
        }
    }

    /// One request; a non-2xx answer becomes `ReqError::Status`, a 2xx body is parsed as JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Res<Value> {
        let mut req = Request::builder().method(method).uri(format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(body) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Bytes::from(serde_json::to_vec(body).expect("JSON values serialize"))
            }
            None => Bytes::new(),
        };
        let req = req.body(Full::new(body)).map_err(|e| ReqError::Transport(e.to_string()))?;
        let exchange = async {
            let res = self.http.request(req).await.map_err(|e| {
                ReqError::Transport(
                    if e.is_connect() { "cannot connect" } else { "request failed" }.into(),
                )
            })?;
            let status = res.status();
            let bytes = res
                .into_body()
                .collect()
                .await
                .map_err(|_| ReqError::Transport("broken body".into()))?
                .to_bytes();
            Ok::<_, ReqError>((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| ReqError::Transport("timed out".into()))??;
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(status_error(status, &value));
        }
        if value.is_null() {
            return Err(ReqError::Unexpected(format!("{status} with a body that is not JSON")));
        }
        Ok(value)
    }

    /// `GET /_matrix/client/versions`, the first request a client makes.
    pub async fn versions(&self) -> Res<Value> {
        self.call(Method::GET, "/_matrix/client/versions", None, None).await
    }

    /// Register `localpart` in one request with `m.login.dummy` auth, as clients do when the
    /// server offers the dummy flow (spec: client-server-api "Account registration").
    pub async fn register(&self, localpart: &str, password: Option<&str>) -> Res<User> {
        let mut body = json!({
            "username": localpart,
            "auth": {"type": "m.login.dummy"},
            "initial_device_display_name": "hearth-bench",
        });
        if let Some(password) = password {
            body["password"] = json!(password);
        }
        let res = self.call(Method::POST, "/_matrix/client/v3/register", None, Some(&body)).await?;
        user_from(&res)
    }

    /// Registration for setup, as cheap as the server allows: without a password (no hashing)
    /// unless the server requires one, or `password` is needed to log in later.
    pub async fn register_for_setup(&self, localpart: &str, password: bool) -> Res<User> {
        if password || self.needs_password.load(Ordering::Relaxed) {
            return self.register(localpart, Some(PASSWORD)).await;
        }
        match self.register(localpart, None).await {
            Err(e) if e.is_missing_param() => {
                self.needs_password.store(true, Ordering::Relaxed);
                self.register(localpart, Some(PASSWORD)).await
            }
            other => other,
        }
    }

    /// A new device for `user_id`, logged in with its password.
    pub async fn login(&self, user_id: &str) -> Res<User> {
        let body = json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user_id},
            "password": PASSWORD,
        });
        let res = self.call(Method::POST, "/_matrix/client/v3/login", None, Some(&body)).await?;
        user_from(&res)
    }

    pub async fn create_room(&self, user: &User, body: &Value) -> Res<String> {
        let res = self
            .call(Method::POST, "/_matrix/client/v3/createRoom", Some(&user.token), Some(body))
            .await?;
        string_field(&res, "room_id")
    }

    pub async fn join(&self, user: &User, room_id: &str) -> Res<()> {
        let path = format!("/_matrix/client/v3/join/{}", encode(room_id));
        self.call(Method::POST, &path, Some(&user.token), Some(&json!({}))).await.map(drop)
    }

    /// Send an `m.room.message` with transaction ID `txn`; returns the event ID.
    pub async fn send(
        &self,
        user: &User,
        room_id: &str,
        txn: &str,
        content: &Value,
    ) -> Res<String> {
        let path = format!(
            "/_matrix/client/v3/rooms/{}/send/m.room.message/{}",
            encode(room_id),
            encode(txn)
        );
        let res = self.call(Method::PUT, &path, Some(&user.token), Some(content)).await?;
        string_field(&res, "event_id")
    }

    /// `GET /sync` with optional `since`, inline `filter` JSON and long-poll `timeout`.
    pub async fn sync(
        &self,
        user: &User,
        since: Option<&str>,
        filter: Option<&Value>,
        timeout_ms: u64,
    ) -> Res<Value> {
        let query = {
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("timeout", &timeout_ms.to_string());
            if let Some(since) = since {
                q.append_pair("since", since);
            }
            if let Some(filter) = filter {
                q.append_pair("filter", &filter.to_string());
            }
            q.finish()
        };
        let path = format!("/_matrix/client/v3/sync?{query}");
        let res = self.call(Method::GET, &path, Some(&user.token), None).await?;
        string_field(&res, "next_batch")?;
        Ok(res)
    }

    /// `GET /rooms/{roomId}/messages` backwards from `from`, or from the end of the room when
    /// `from` is absent (spec v1.3+).
    pub async fn messages_backwards(
        &self,
        user: &User,
        room_id: &str,
        from: Option<&str>,
        limit: usize,
    ) -> Res<Value> {
        let query = {
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("dir", "b").append_pair("limit", &limit.to_string());
            if let Some(from) = from {
                q.append_pair("from", from);
            }
            q.finish()
        };
        let path = format!("/_matrix/client/v3/rooms/{}/messages?{query}", encode(room_id));
        let res = self.call(Method::GET, &path, Some(&user.token), None).await?;
        if !res["chunk"].is_array() {
            return Err(ReqError::Unexpected("/messages answer without `chunk`".into()));
        }
        Ok(res)
    }
}

fn user_from(res: &Value) -> Res<User> {
    Ok(User { user_id: string_field(res, "user_id")?, token: string_field(res, "access_token")? })
}

fn string_field(res: &Value, field: &str) -> Res<String> {
    res[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ReqError::Unexpected(format!("answer without `{field}`")))
}

fn status_error(status: StatusCode, body: &Value) -> ReqError {
    ReqError::Status {
        status: status.as_u16(),
        errcode: body["errcode"].as_str().unwrap_or("(no errcode)").to_owned(),
        message: body["error"].as_str().unwrap_or("").chars().take(200).collect(),
    }
}

/// Percent-encode one path segment (room IDs hold `!` and `:`).
pub fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len() * 3);
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_room_ids() {
        assert_eq!(encode("!abc:example.org"), "%21abc%3Aexample.org");
        assert_eq!(encode("txn-1_a.b~"), "txn-1_a.b~");
    }
}
