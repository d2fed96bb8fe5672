//! Workload 7, big_room: the time to bring many members into one room (joining a few at a
//! time), then the send latency there compared with a two-member room.
//!
//! Members are registered (untimed) and brought in chunk by chunk, so a server too slow to
//! bring everyone in within the cap registers only the members it gets to: its run is
//! reported partial, with the total time projected from its join rate.

use std::time::{Duration, Instant};

use super::{Ctx, Outcome};
use crate::runner::{Skip, Timed, run_timed};

/// Members registered, then joined, at a time.
const CHUNK: usize = 500;

pub async fn run(ctx: &Ctx) -> Result<Outcome, Skip> {
    let s = &ctx.sizes;
    let mut pair = ctx.users("bigpair", 2).await?;
    let (owner, peer) = (pair.remove(0), pair.remove(0));
    // The rooms first: no point registering the crowd on a server that cannot make a room.
    let big = ctx.create_public_room(&owner).await?;
    let small = ctx.room_with(&owner, std::slice::from_ref(&peer)).await?;

    let mut out = Outcome::default();
    let joins = join_in_chunks(ctx, &big).await?;
    let target = s.big_room_members;
    out.metric("members", (joins.ok() + 1) as f64);
    out.metric("join_measured_s", joins.elapsed.as_secs_f64());
    out.metric("joins_per_sec", joins.per_sec());
    // Capped: the time all members would take at the rate measured (the run is partial).
    let total = if joins.ok() < target {
        target as f64 / joins.per_sec().max(1e-9)
    } else {
        joins.elapsed.as_secs_f64()
    };
    out.metric("join_total_s", total);
    out.errors.merge(joins.errors);
    out.latencies("join", joins.latencies);

    // Alternate the rooms so both see the same conditions.
    let (mut in_big, mut in_small) = (Vec::new(), Vec::new());
    for k in 0..s.big_room_sends {
        for (label, room, times) in [("b", &big, &mut in_big), ("s", &small, &mut in_small)] {
            let start = Instant::now();
            match ctx.send_text(&owner, room, &format!("big{label}{k}"), k).await {
                Ok(_) => times.push(start.elapsed()),
                Err(e) => out.errors.add(&e),
            }
        }
    }
    ratio(&mut out, "send_p50_ratio", &in_big, &in_small, 50.0);
    ratio(&mut out, "send_p99_ratio", &in_big, &in_small, 99.0);
    out.latencies("big_send", in_big);
    out.latencies("small_send", in_small);
    Ok(out)
}

/// Register and join the members a chunk at a time until all are in or the joins' time
/// reaches the cap; the members left out are counted as not attempted.
async fn join_in_chunks(ctx: &Ctx, room: &str) -> Result<Timed, Skip> {
    let s = &ctx.sizes;
    let mut all = Timed::default();
    let mut start = 0;
    while start < s.big_room_members && all.elapsed < s.big_room_join_cap {
        let end = (start + CHUNK).min(s.big_room_members);
        let users = ctx.users_range("big", start..end).await?;
        let left = s.big_room_join_cap - all.elapsed;
        let chunk = run_timed(s.big_room_join_concurrency, users.len(), left, |_, i| {
            let member = &users[i];
            async move { ctx.client.join(member, room).await }
        })
        .await;
        all.elapsed += chunk.elapsed;
        all.latencies.extend(chunk.latencies);
        all.errors.merge(chunk.errors);
        start = end;
    }
    if start < s.big_room_members {
        let kind = format!("not attempted: the {:?} time cap was reached", s.big_room_join_cap);
        *all.errors.0.entry(kind).or_default() += (s.big_room_members - start) as u64;
    }
    Ok(all)
}

/// The big room's percentile `p` over the small room's.
fn ratio(out: &mut Outcome, name: &str, big: &[Duration], small: &[Duration], p: f64) {
    let pct = |v: &[Duration]| {
        let mut v = v.to_vec();
        v.sort_unstable();
        crate::stats::percentile_ms(&v, p)
    };
    if let (Some(b), Some(s)) = (pct(big), pct(small)) {
        out.metric(name, b / s.max(1e-9));
    }
}
