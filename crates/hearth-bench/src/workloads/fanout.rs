//! Workload 4, fanout: one sender, many receivers long-polling `/sync` in the same room. The
//! latency is from the start of a send to each receiver's sync returning that event. The next
//! message is sent only once every receiver has it (or gave up), so deliveries never batch.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{Ctx, Outcome};
use crate::{
    client::{Client, ReqError, User},
    runner::{Skip, setup_all},
    stats::Errors,
};

/// How long each receiver may take to see a message before it counts as not delivered.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
const LONG_POLL_MS: u64 = 30_000;

enum Seen {
    Event(usize, Instant),
    Failed(ReqError),
}

pub async fn run(ctx: &Ctx) -> Result<Outcome, Skip> {
    let receivers_n = ctx.sizes.fanout_receivers;
    let mut users = ctx.users("fan", receivers_n + 1).await?;
    let sender = users.remove(0);
    let room = ctx.room_with(&sender, &users).await?;
    let filter = receiver_filter();
    let sinces = setup_all("initial /sync", ctx.sizes.setup_concurrency, &users, |u| {
        let filter = &filter;
        async move { ctx.client.sync(u, None, Some(filter), 0).await }
    })
    .await?;

    let (tx, mut rx) = mpsc::unbounded_channel();
    let tasks: Vec<_> = users
        .into_iter()
        .zip(sinces)
        .map(|(user, first)| {
            let since = first["next_batch"].as_str().unwrap_or_default().to_owned();
            let receiver = Receiver { client: ctx.client.clone(), user, room: room.clone(), since };
            tokio::spawn(receiver.run(filter.clone(), tx.clone()))
        })
        .collect();

    let mut out = Outcome::default();
    let mut latencies = Vec::new();
    for seq in 0..ctx.sizes.fanout_messages {
        let start = Instant::now();
        if let Err(e) = ctx.send_text(&sender, &room, &format!("fanout{seq}"), seq).await {
            out.errors.add(&e);
            continue;
        }
        let delivered = collect(&mut rx, seq, start, receivers_n, &mut out.errors).await;
        latencies.extend(delivered);
    }
    for task in tasks {
        task.abort();
    }
    out.metric("deliveries", latencies.len() as f64);
    out.latencies("delivery", latencies);
    Ok(out)
}

/// Wait until `expected` receivers have seen message `seq`, or the delivery timeout passes.
async fn collect(
    rx: &mut mpsc::UnboundedReceiver<Seen>,
    seq: usize,
    start: Instant,
    expected: usize,
    errors: &mut Errors,
) -> Vec<Duration> {
    let deadline = tokio::time::Instant::from_std(start + DELIVERY_TIMEOUT);
    let mut latencies = Vec::with_capacity(expected);
    while latencies.len() < expected {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(Seen::Event(s, at))) if s == seq => latencies.push(at - start),
            Ok(Some(Seen::Event(..))) => {}
            Ok(Some(Seen::Failed(e))) => errors.add(&e),
            Ok(None) | Err(_) => {
                for _ in latencies.len()..expected {
                    errors.add_kind(format!("not delivered within {DELIVERY_TIMEOUT:?}"));
                }
                break;
            }
        }
    }
    latencies
}

/// Only the room timeline matters here; presence is left out (not all servers have it).
fn receiver_filter() -> Value {
    json!({"room": {"timeline": {"limit": 10}}, "presence": {"not_types": ["*"]}})
}

struct Receiver {
    client: Client,
    user: User,
    room: String,
    since: String,
}

impl Receiver {
    /// Long-poll forever, reporting each benchmark message seen; the workload aborts it.
    async fn run(mut self, filter: Value, tx: mpsc::UnboundedSender<Seen>) {
        loop {
            match self.client.sync(&self.user, Some(&self.since), Some(&filter), LONG_POLL_MS).await
            {
                Ok(res) => {
                    let at = Instant::now();
                    for seq in bench_seqs(&res, &self.room) {
                        let _ = tx.send(Seen::Event(seq, at));
                    }
                    self.since = res["next_batch"].as_str().unwrap_or_default().to_owned();
                }
                Err(e) => {
                    let _ = tx.send(Seen::Failed(e));
                    // Don't hammer a server that keeps failing.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }
}

/// The sequence numbers of benchmark messages in `room`'s timeline of a sync answer.
pub fn bench_seqs(sync: &Value, room: &str) -> Vec<usize> {
    sync["rooms"]["join"][room]["timeline"]["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter_map(|e| e["content"]["bench_seq"].as_u64().map(|s| s as usize))
                .collect()
        })
        .unwrap_or_default()
}
