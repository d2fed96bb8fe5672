//! Workload 2, create_rooms: rooms created per second, by several users at once, each room a
//! private chat with a name (what a client's "new room" dialog sends).

use serde_json::json;

use super::{Ctx, Outcome};
use crate::runner::{Skip, run_timed, setup_all};

pub async fn run(ctx: &Ctx) -> Result<Outcome, Skip> {
    let s = &ctx.sizes;
    let creators = ctx.users("create", s.create_concurrency).await?;
    // One untimed room each: warms the server up and finds out whether it creates rooms at all.
    let probe = json!({"preset": "private_chat"});
    setup_all("createRoom", s.setup_concurrency, &creators, |c| ctx.client.create_room(c, &probe))
        .await?;
    let timed = run_timed(s.create_concurrency, s.create_rooms, s.phase_cap, |w, i| {
        let body = json!({"preset": "private_chat", "name": format!("bench room {i}")});
        let creator = &creators[w];
        async move { ctx.client.create_room(creator, &body).await.map(drop) }
    })
    .await;
    let mut out = Outcome::default();
    out.metric("per_sec", timed.per_sec());
    out.errors = timed.errors;
    out.latencies("create", timed.latencies);
    Ok(out)
}
