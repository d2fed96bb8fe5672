//! Workload 5, initial_sync: one user in many rooms of many members with some messages each.
//! Times the full initial `/sync` of a new device, with and without lazy-loading members, and
//! the incremental sync after one new message.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Ctx, Outcome, fanout::bench_seqs};
use crate::{
    client::{ReqError, User},
    runner::{Skip, setup_all},
};

pub async fn run(ctx: &Ctx) -> Result<Outcome, Skip> {
    let (user, members, rooms) = setup(ctx).await?;
    let mut out = Outcome::default();
    let lazy = json!({"room": {"state": {"lazy_load_members": true}}});
    let (mut full, mut lazy_times) = (Vec::new(), Vec::new());
    let mut last: Option<(User, String)> = None;
    for _ in 0..ctx.sizes.isync_reps {
        if let Some(sample) = initial(ctx, &mut out, &user, None, rooms.len()).await? {
            full.push(sample.0);
            last = Some((sample.1, sample.2));
        }
        if let Some(sample) = initial(ctx, &mut out, &user, Some(&lazy), rooms.len()).await? {
            lazy_times.push(sample.0);
        }
    }
    out.latencies("full", full);
    out.latencies("lazy", lazy_times);
    if let Some((device, since)) = last {
        let incremental = incremental(ctx, &mut out, &device, since, &members[1], &rooms).await;
        out.latencies("incremental", incremental);
    }
    Ok(out)
}

/// The user (index 0, with a password so it can log in new devices), the members, the rooms.
async fn setup(ctx: &Ctx) -> Result<(User, Vec<User>, Vec<String>), Skip> {
    let s = &ctx.sizes;
    let user = ctx
        .client
        .register_for_setup(&ctx.localpart("isync", 0), true)
        .await
        .map_err(|e| Skip::setup("register", e))?;
    // Find out whether the server syncs at all before building 200 rooms for it.
    ctx.client.sync(&user, None, None, 0).await.map_err(|e| Skip::setup("/sync", e))?;
    let mut members = vec![user.clone()];
    members.extend(ctx.users("isyncm", s.isync_members - 1).await?);
    // Named rooms made by different members, as a user's rooms usually are; never two at once
    // by one creator (Hearth then derives the same v12 room ID twice: a bug reported to rooms).
    let in_flight = s.setup_concurrency.min(members.len());
    let rooms = setup_all("createRoom", in_flight, 0..s.isync_rooms, |r| {
        let body = json!({"preset": "public_chat", "name": format!("sync room {r}")});
        let creator = &members[r % members.len()];
        async move { ctx.client.create_room(creator, &body).await }
    })
    .await?;
    let joins = rooms.iter().enumerate().flat_map(|(r, room)| {
        let creator = r % members.len();
        members.iter().enumerate().filter(move |(i, _)| *i != creator).map(move |(_, m)| (room, m))
    });
    setup_all("join", s.setup_concurrency, joins, |(r, m)| ctx.client.join(m, r)).await?;
    let sends = rooms.iter().flat_map(|r| (0..s.isync_messages).map(move |k| (r, k)));
    setup_all("send", s.setup_concurrency, sends, |(r, k)| {
        let sender = &members[k % members.len()];
        async move { ctx.send_text(sender, r, &format!("isync{r}{k}"), k).await }
    })
    .await?;
    Ok((user, members, rooms))
}

/// One initial sync of a freshly logged-in device: its time, the device and its `next_batch`.
async fn initial(
    ctx: &Ctx,
    out: &mut Outcome,
    user: &User,
    filter: Option<&Value>,
    rooms: usize,
) -> Result<Option<(Duration, User, String)>, Skip> {
    // A new device per sync: servers may cache a device's sync answers.
    let device = ctx.client.login(&user.user_id).await.map_err(|e| Skip::setup("login", e))?;
    let start = Instant::now();
    let result = ctx.client.sync(&device, None, filter, 0).await.and_then(|res| {
        let joined = res["rooms"]["join"].as_object().map_or(0, |j| j.len());
        if joined < rooms {
            return Err(ReqError::Unexpected(format!(
                "initial sync has {joined} of {rooms} rooms"
            )));
        }
        Ok(res["next_batch"].as_str().unwrap_or_default().to_owned())
    });
    let elapsed = start.elapsed();
    match result {
        Ok(next_batch) => Ok(Some((elapsed, device, next_batch))),
        Err(e) => {
            out.errors.add(&e);
            Ok(None)
        }
    }
}

/// After each of a few new messages (sent by another member), time the sync that brings it.
async fn incremental(
    ctx: &Ctx,
    out: &mut Outcome,
    device: &User,
    mut since: String,
    sender: &User,
    rooms: &[String],
) -> Vec<Duration> {
    let mut times = Vec::new();
    for k in 0..ctx.sizes.isync_reps * 2 {
        let room = &rooms[k % rooms.len()];
        let seq = 1_000_000 + k;
        if let Err(e) = ctx.send_text(sender, room, &format!("isync-new{k}"), seq).await {
            out.errors.add(&e);
            continue;
        }
        let start = Instant::now();
        let result = ctx.client.sync(device, Some(&since), None, 0).await;
        let elapsed = start.elapsed();
        match result {
            Ok(res) if bench_seqs(&res, room).contains(&seq) => {
                times.push(elapsed);
                since = res["next_batch"].as_str().unwrap_or_default().to_owned();
            }
            Ok(_) => out.errors.add_kind("incremental sync without the new message".into()),
            Err(e) => out.errors.add(&e),
        }
    }
    times
}
