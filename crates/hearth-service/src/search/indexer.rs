//! The search index follows the stream: after commits it reads the new events, extracts their
//! text and indexes them in one write, off the senders' transactions (an FTS5 insert writes
//! several pages; in a batch they are shared).

use std::future::Future;

use hearth_core::Result;
use hearth_storage::SearchRow;

use super::search_text;
use crate::{
    Services,
    stream_follower::{Batch, Follow},
};

/// A position with nothing new to index is stored once this far behind (indexing an event
/// twice cannot happen: rows and position commit together).
const MAX_UNSTORED: i64 = 1000;

pub(super) struct Indexer {
    /// The position last stored.
    pub stored: i64,
}

impl Follow for Indexer {
    fn catch_up<'a>(&'a mut self, s: &'a Services) -> impl Future<Output = Result<()>> + Send + 'a {
        self.index_new(s)
    }
}

impl Indexer {
    /// Index every committed event not indexed yet.
    async fn index_new(&mut self, s: &Services) -> Result<()> {
        while let Some(Batch { events, up_to, .. }) = s.search.indexing.next_batch(s).await? {
            let mut rows = Vec::new();
            for record in events {
                let Some(pos) = record.stream_pos else { continue };
                if record.rejected || record.outlier || record.redacted_by.is_some() {
                    continue;
                }
                let (_, pdu) = s.rooms.loaded(record).await?;
                if let Some((key, text)) = search_text(&pdu) {
                    let room_id = pdu.room_id.clone();
                    rows.push(SearchRow { stream_pos: pos, room_id, key, text });
                }
            }
            if !rows.is_empty() || up_to - self.stored >= MAX_UNSTORED {
                s.ctx.storage.index_search(rows, up_to).await?;
                self.stored = up_to;
            }
            s.search.indexing.set_reached(up_to);
        }
        Ok(())
    }
}
