//! Workload 6, messages: `/messages` pagination throughput, backwards through a whole room of
//! many events, page after page as a client scrolling up does.

use std::time::Instant;

use super::{Ctx, Outcome};
use crate::runner::Skip;

pub async fn run(ctx: &Ctx) -> Result<Outcome, Skip> {
    let s = &ctx.sizes;
    let senders = ctx.users("msgs", 10).await?;
    let room = ctx.room_with(&senders[0], &senders[1..]).await?;
    // A server too slow to fill the room within the cap is measured on what it has (partial).
    let filled = ctx.fill_room(&room, &senders, s.messages_events, s.messages_fill_cap).await?;
    let mut out = Outcome::default();
    out.metric("room_events", filled as f64);
    if filled < s.messages_events {
        let kind = format!(
            "not attempted: the {:?} cap on filling the room was reached",
            s.messages_fill_cap
        );
        *out.errors.0.entry(kind).or_default() += (s.messages_events - filled) as u64;
    }

    let mut pages = Vec::new();
    let mut events = 0usize;
    let max_pages = filled / s.messages_page * 2 + 20;
    let start = Instant::now();
    for _ in 0..s.messages_passes {
        let mut from: Option<String> = None;
        let mut seen = 0usize;
        for _ in 0..max_pages {
            let t = Instant::now();
            let res =
                ctx.client.messages_backwards(&senders[0], &room, from.as_deref(), s.messages_page);
            match res.await {
                Ok(res) => {
                    pages.push(t.elapsed());
                    let n = res["chunk"].as_array().map_or(0, Vec::len);
                    seen += n;
                    // Spec: no `end` means there are no more events to paginate.
                    match res["end"].as_str() {
                        Some(end) if n > 0 => from = Some(end.to_owned()),
                        _ => break,
                    }
                }
                Err(e) => {
                    out.errors.add(&e);
                    break;
                }
            }
        }
        if seen < filled {
            out.errors.add_kind(format!("pagination ended early: {seen} of {filled} events"));
        }
        events += seen;
    }
    let elapsed = start.elapsed().as_secs_f64();
    out.metric("events_per_sec", events as f64 / elapsed);
    out.metric("pages_per_sec", pages.len() as f64 / elapsed);
    out.latencies("page", pages);
    Ok(out)
}
