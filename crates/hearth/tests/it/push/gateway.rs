//! A push gateway for tests: an HTTP server on loopback that records every
//! `/_matrix/push/v1/notify` request and answers with scripted responses (200 `{}` otherwise).

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{StatusCode, header},
    routing::post,
};
use serde_json::{Value, json};
use tokio::{net::TcpListener, sync::mpsc};

#[derive(Clone)]
struct Shared {
    requests: mpsc::UnboundedSender<Value>,
    responses: Arc<Mutex<VecDeque<(u16, Value)>>>,
}

pub(crate) struct Gateway {
    pub addr: SocketAddr,
    received: mpsc::UnboundedReceiver<Value>,
    responses: Arc<Mutex<VecDeque<(u16, Value)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Gateway {
    pub async fn start() -> Gateway {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    pub async fn start_on(addr: SocketAddr) -> Gateway {
        let listener = TcpListener::bind(addr).await.expect("gateway binds");
        let addr = listener.local_addr().unwrap();
        let (tx, received) = mpsc::unbounded_channel();
        let responses = Arc::new(Mutex::new(VecDeque::new()));
        let shared = Shared { requests: tx, responses: responses.clone() };
        let app = Router::new().route("/_matrix/push/v1/notify", post(notify)).with_state(shared);
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Gateway { addr, received, responses, task }
    }

    /// The URL pushers point at.
    pub fn url(&self) -> String {
        format!("http://{}/_matrix/push/v1/notify", self.addr)
    }

    /// Answer the next request with `status` and `body` (in order, one per request).
    pub fn respond_next(&self, status: u16, body: Value) {
        self.responses.lock().unwrap().push_back((status, body));
    }

    /// The next request's `notification`, waiting up to 10 s.
    pub async fn next(&mut self) -> Value {
        let body = tokio::time::timeout(Duration::from_secs(10), self.received.recv())
            .await
            .expect("a push arrives")
            .expect("gateway running");
        body["notification"].clone()
    }

    /// The next notification about an event (skipping badge updates).
    pub async fn next_event(&mut self) -> Value {
        loop {
            let n = self.next().await;
            if n.get("event_id").is_some() {
                return n;
            }
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn notify(
    State(shared): State<Shared>,
    body: Bytes,
) -> (StatusCode, [(header::HeaderName, &'static str); 1], String) {
    let (status, answer) = shared.responses.lock().unwrap().pop_front().unwrap_or((200, json!({})));
    let _ = shared.requests.send(serde_json::from_slice(&body).unwrap_or(Value::Null));
    let json = [(header::CONTENT_TYPE, "application/json")];
    (StatusCode::from_u16(status).unwrap(), json, answer.to_string())
}
