//! Workload 1, register: registrations per second, each a single `/register` request with a
//! password and `m.login.dummy`, as a client signing up does.

use super::{Ctx, Outcome};
use crate::{
    client::PASSWORD,
    runner::{Skip, run_timed},
};

pub async fn run(ctx: &Ctx) -> Result<Outcome, Skip> {
    let s = &ctx.sizes;
    let timed = run_timed(s.register_concurrency, s.register_users, s.phase_cap, |_, i| {
        let localpart = ctx.localpart("reg", i);
        async move { ctx.client.register(&localpart, Some(PASSWORD)).await.map(drop) }
    })
    .await;
    let mut out = Outcome::default();
    out.metric("per_sec", timed.per_sec());
    out.errors = timed.errors;
    out.latencies("register", timed.latencies);
    Ok(out)
}
