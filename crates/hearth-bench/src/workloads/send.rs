//! Workload 3, send: message throughput and latency with 1, 10 and 100 concurrent senders,
//! all in one room, or spread over 100 rooms. Also the server's CPU time per message.

use super::{Ctx, Outcome, public_room};
use crate::{
    client::User,
    proc,
    runner::{Skip, run_timed, setup_all},
};

const SENDERS: [usize; 3] = [1, 10, 100];
/// The rooms of the spread configurations; every sender count divides it.
const ROOMS: usize = 100;

pub async fn run(ctx: &Ctx) -> Result<Outcome, Skip> {
    let senders = ctx.users("send", 100).await?;
    let spread = spread_rooms(ctx, &senders).await?;
    let mut out = Outcome::default();
    for n in SENDERS {
        // One room whose members are exactly the senders: a fair room size for each count.
        let room = ctx.room_with(&senders[0], &senders[1..n]).await?;
        let rooms = vec![room];
        measure(ctx, &mut out, &format!("room1_s{n}"), &senders[..n], &rooms).await;
    }
    for n in SENDERS {
        measure(ctx, &mut out, &format!("rooms100_s{n}"), &senders[..n], &spread).await;
    }
    if out.messages_sent > 0 {
        out.metric("cpu_s_per_1000_msgs", out.cpu_seconds * 1000.0 / out.messages_sent as f64);
    }
    Ok(out)
}

/// The rooms senders spread over: with `n` senders, sender `w` sends to the rooms `j` with
/// `j % n == w`, so room `j` has senders `j % 100`, `j % 10` and `0` as members.
async fn spread_rooms(ctx: &Ctx, senders: &[User]) -> Result<Vec<String>, Skip> {
    setup_all("spread rooms", ctx.sizes.setup_concurrency, 0..ROOMS, |j| async move {
        let mut members: Vec<&User> = vec![&senders[j % 10], &senders[0]];
        members.retain(|m| m.user_id != senders[j % 100].user_id);
        members.dedup_by(|a, b| a.user_id == b.user_id);
        let room = ctx.client.create_room(&senders[j % 100], &public_room()).await?;
        for m in members {
            ctx.client.join(m, &room).await?;
        }
        Ok(room)
    })
    .await
}

/// Room `j % rooms.len()` for message `i` of sender `w` among `n`: always one of `w`'s rooms.
fn room_for(w: usize, i: usize, n: usize, rooms: usize) -> usize {
    if rooms == 1 { 0 } else { w + n * ((i / n) % (rooms / n)) }
}

async fn measure(ctx: &Ctx, out: &mut Outcome, name: &str, senders: &[User], rooms: &[String]) {
    let n = senders.len();
    let cpu_before = ctx.pid.and_then(proc::cpu_seconds);
    let timed = run_timed(n, ctx.sizes.send_messages, ctx.sizes.phase_cap, |w, i| {
        let room = &rooms[room_for(w, i, n, rooms.len())];
        let txn = format!("{name}-{i}");
        async move { ctx.send_text(&senders[w], room, &txn, i).await.map(drop) }
    })
    .await;
    if let (Some(before), Some(after)) = (cpu_before, ctx.pid.and_then(proc::cpu_seconds)) {
        out.cpu_seconds += after - before;
        out.messages_sent += timed.ok();
    }
    out.metric(format!("{name}_msgs_per_sec"), timed.per_sec());
    out.errors.merge(timed.errors);
    out.latencies(name, timed.latencies);
}

#[cfg(test)]
mod tests {
    use super::room_for;

    #[test]
    fn each_sender_stays_in_its_own_rooms() {
        for n in [1, 10, 100] {
            for w in 0..n {
                for i in 0..1000 {
                    let j = room_for(w, i, n, 100);
                    assert!(j < 100 && j % n == w, "n={n} w={w} i={i} -> {j}");
                }
            }
        }
        assert_eq!(room_for(3, 77, 10, 1), 0);
    }
}
