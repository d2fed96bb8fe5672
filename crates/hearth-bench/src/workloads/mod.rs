//! The workloads of issue 8, each measuring one thing against any homeserver URL.

mod big_room;
mod create_rooms;
mod fanout;
mod initial_sync;
mod messages;
mod register;
mod send;

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::{
    client::{Client, Res, User},
    runner::{Skip, setup_all},
    sizes::Sizes,
    stats::{Errors, Summary},
};

/// Workload names in the order they run.
pub const ALL: &[&str] = &[
    "register",
    "create_rooms",
    "send",
    "fanout",
    "initial_sync",
    "messages",
    "big_room",
    "resources",
];

/// What a workload needs: the client, the sizes, a prefix that keeps its users apart from
/// every other run's, and the server's pid when known (for CPU time).
pub struct Ctx {
    pub client: Client,
    pub sizes: Sizes,
    pub prefix: String,
    pub pid: Option<u32>,
}

/// Measurements of one workload and the failed timed requests.
#[derive(Debug, Default)]
pub struct Outcome {
    pub metrics: BTreeMap<String, f64>,
    pub errors: Errors,
    /// Successful timed operations (counted by `latencies`).
    pub ok_ops: usize,
    /// Messages successfully sent in timed phases and the server CPU seconds they took.
    pub messages_sent: usize,
    pub cpu_seconds: f64,
}

impl Outcome {
    pub fn metric(&mut self, name: impl Into<String>, value: f64) {
        self.metrics.insert(name.into(), value);
    }

    /// `<name>_p50_ms`, `<name>_p99_ms` and `<name>_max_ms` of `latencies`, if any.
    pub fn latencies(&mut self, name: &str, latencies: Vec<Duration>) {
        self.ok_ops += latencies.len();
        if let Some(s) = Summary::of(latencies) {
            self.metric(format!("{name}_p50_ms"), s.p50_ms);
            self.metric(format!("{name}_p99_ms"), s.p99_ms);
            self.metric(format!("{name}_max_ms"), s.max_ms);
        }
    }
}

/// Run the workload `name`.
pub async fn run(name: &str, ctx: &Ctx) -> Result<Outcome, Skip> {
    match name {
        "register" => register::run(ctx).await,
        "create_rooms" => create_rooms::run(ctx).await,
        "send" => send::run(ctx).await,
        "fanout" => fanout::run(ctx).await,
        "initial_sync" => initial_sync::run(ctx).await,
        "messages" => messages::run(ctx).await,
        "big_room" => big_room::run(ctx).await,
        other => Err(Skip(format!("unknown workload {other}"))),
    }
}

impl Ctx {
    /// A localpart unique to this run, workload and index.
    pub fn localpart(&self, workload: &str, i: usize) -> String {
        format!("{}{workload}{i}", self.prefix)
    }

    /// Register `n` users for `workload` (setup: as cheaply as the server allows).
    pub async fn users(&self, workload: &str, n: usize) -> Result<Vec<User>, Skip> {
        self.users_range(workload, 0..n).await
    }

    /// Register the users of `workload` with indices in `range`.
    pub async fn users_range(
        &self,
        workload: &str,
        range: std::ops::Range<usize>,
    ) -> Result<Vec<User>, Skip> {
        setup_all("register", self.sizes.setup_concurrency, range, |i| {
            let localpart = self.localpart(workload, i);
            async move { self.client.register_for_setup(&localpart, false).await }
        })
        .await
    }

    /// A public room created by `owner` and joined by `members`.
    pub async fn room_with(&self, owner: &User, members: &[User]) -> Result<String, Skip> {
        let room = self.create_public_room(owner).await?;
        self.join_all(&room, members).await?;
        Ok(room)
    }

    pub async fn create_public_room(&self, owner: &User) -> Result<String, Skip> {
        self.client
            .create_room(owner, &public_room())
            .await
            .map_err(|e| Skip::setup("createRoom", e))
    }

    pub async fn join_all(&self, room: &str, members: &[User]) -> Result<(), Skip> {
        setup_all("join", self.sizes.setup_concurrency, members, |u| self.client.join(u, room))
            .await
            .map(drop)
    }

    /// Send `count` text messages to `room` (setup), rotating over `senders`, stopping early
    /// once `cap` has passed; returns how many were sent.
    pub async fn fill_room(
        &self,
        room: &str,
        senders: &[User],
        count: usize,
        cap: Duration,
    ) -> Result<usize, Skip> {
        const CHUNK: usize = 500;
        let start = Instant::now();
        let mut sent = 0;
        while sent < count && start.elapsed() < cap {
            let end = (sent + CHUNK).min(count);
            setup_all("send", self.sizes.setup_concurrency, sent..end, |i| {
                let sender = &senders[i % senders.len()];
                async move { self.send_text(sender, room, &format!("setup{i}"), i).await }
            })
            .await?;
            sent = end;
        }
        Ok(sent)
    }

    pub async fn send_text(&self, user: &User, room: &str, txn: &str, seq: usize) -> Res<String> {
        let content = text(seq);
        let txn = format!("{}{txn}", self.prefix);
        self.client.send(user, room, &txn, &content).await
    }
}

/// A room anyone may join without an invite.
pub fn public_room() -> Value {
    json!({"preset": "public_chat"})
}

/// An `m.text` message whose content carries its sequence number, so receivers can match it.
pub fn text(seq: usize) -> Value {
    json!({"msgtype": "m.text", "body": format!("bench message {seq}"), "bench_seq": seq})
}
