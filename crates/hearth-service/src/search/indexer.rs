//! The search index follows the stream: after commits it reads the new events, extracts their
//! text and indexes them in one write, off the senders' transactions (an FTS5 insert writes
//! several pages; in a batch they are shared).

use std::sync::{Arc, Weak};

use hearth_core::Result;
use hearth_storage::SearchRow;
use tokio::sync::watch;

use super::search_text;
use crate::{Services, stream_follower::Follower};

/// Events read from the stream at once.
const BATCH: usize = 256;
/// A position with nothing new to index is stored once this far behind (indexing an event
/// twice cannot happen: rows and position commit together).
const MAX_UNSTORED: i64 = 1000;

pub(super) async fn run(
    services: Weak<Services>,
    follower: Arc<Follower>,
    mut stop: watch::Receiver<bool>,
) {
    let mut stored = follower.reached();
    loop {
        let Some(s) = services.upgrade() else { return };
        let failed = follower.failed(catch_up(&s, &follower, &mut stored).await);
        drop(s);
        if !follower.idle(&mut stop, failed).await {
            return;
        }
    }
}

/// Index every committed event not indexed yet.
async fn catch_up(s: &Services, follower: &Follower, stored: &mut i64) -> Result<()> {
    loop {
        let from = follower.reached();
        let target = s.ctx.storage.current_stream_pos();
        if from >= target {
            return Ok(());
        }
        let events = s.ctx.storage.events_after(from, target, BATCH).await?;
        let up_to = match events.last() {
            Some(last) if events.len() == BATCH => last.stream_pos.unwrap_or(target),
            _ => target,
        };
        let mut rows = Vec::new();
        for record in events {
            let Some(pos) = record.stream_pos else { continue };
            if record.rejected || record.outlier || record.redacted_by.is_some() {
                continue;
            }
            let (_, pdu) = s.rooms.loaded(record).await?;
            if let Some((key, text)) = search_text(&pdu) {
                rows.push(SearchRow { stream_pos: pos, room_id: pdu.room_id.clone(), key, text });
            }
        }
        if !rows.is_empty() || up_to - *stored >= MAX_UNSTORED {
            s.ctx.storage.index_search(rows, up_to).await?;
            *stored = up_to;
        }
        follower.set_reached(up_to);
    }
}
