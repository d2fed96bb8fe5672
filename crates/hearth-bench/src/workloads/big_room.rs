//! Workload 7, big_room: the time to bring many members into one room (all joining at once,
//! a few at a time), then the send latency there compared with a two-member room.

use std::time::{Duration, Instant};

use super::{Ctx, Outcome};
use crate::runner::{Skip, run_timed};

pub async fn run(ctx: &Ctx) -> Result<Outcome, Skip> {
    let s = &ctx.sizes;
    let mut pair = ctx.users("bigpair", 2).await?;
    let (owner, peer) = (pair.remove(0), pair.remove(0));
    // The rooms first: no point registering the crowd on a server that cannot make a room.
    let big = ctx.create_public_room(&owner).await?;
    let small = ctx.room_with(&owner, std::slice::from_ref(&peer)).await?;
    let users = ctx.users("big", s.big_room_members).await?;

    let mut out = Outcome::default();
    // Joining the whole crowd is one phase; give it more time than the others.
    let cap = s.phase_cap * 5;
    let joins = run_timed(s.big_room_join_concurrency, users.len(), cap, |_, i| {
        let (member, big) = (&users[i], &big);
        async move { ctx.client.join(member, big).await }
    })
    .await;
    out.metric("members", (joins.ok() + 1) as f64);
    out.metric("join_total_s", joins.elapsed.as_secs_f64());
    out.metric("joins_per_sec", joins.per_sec());
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
