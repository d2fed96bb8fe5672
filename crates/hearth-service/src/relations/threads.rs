//! `GET /rooms/{roomId}/threads` (spec: "Querying threads in a room"): thread roots, most
//! recently active first, with their aggregations; `participated` keeps the threads the viewer
//! started or replied in. A root sent by an ignored user is served without its content.

use hearth_core::{Error, Result};
use ruma::RoomId;
use serde_json::{Value, json, value::RawValue};

use super::{Service, token_position};
use crate::rooms::{PaginationToken, Viewer};

const DEFAULT_LIMIT: u64 = 5;
const MAX_LIMIT: u64 = 100;

pub struct ThreadsPage {
    pub chunk: Vec<Box<RawValue>>,
    pub next_batch: Option<String>,
}

impl Service {
    /// `participated`: only threads the viewer took part in. Tokens are `t<pos>`: threads whose
    /// latest event is below `pos` come next.
    pub async fn threads(
        &self,
        viewer: Viewer<'_>,
        room_id: &RoomId,
        participated: bool,
        from: Option<&str>,
        limit: Option<u64>,
    ) -> Result<ThreadsPage> {
        let rooms = &self.services()?.rooms;
        rooms.readable_state(viewer.user, room_id).await?;
        let before = from.map(token_position).transpose()?.map(|p| p + 1);
        let limit = limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT) as usize;
        let participant = participated.then_some(viewer.user);
        let storage = &self.ctx.storage;
        let threads = storage.threads(room_id, participant, before, limit).await?;
        let next_batch = match (threads.len() == limit, threads.last()) {
            (true, Some((_, pos))) => Some(PaginationToken::before(*pos).to_string()),
            _ => None,
        };
        let ids: Vec<_> = threads.into_iter().map(|(root, _)| root).collect();
        let mut records = storage.get_events(ids.clone()).await?;
        records.retain(|r| r.room_id == room_id && !r.outlier && !r.rejected);
        records.sort_by_key(|r| ids.iter().position(|id| *id == r.event_id));
        let mut loaded = Vec::with_capacity(records.len());
        for record in records {
            loaded.push(rooms.loaded(record).await?);
        }
        let visible = rooms.filter_visible(viewer.user, room_id, loaded).await?;
        let ignored = self.ignored_users(viewer.user).await?;
        let mut chunk = self.client_events(viewer, &visible).await?;
        for (event, (_, pdu)) in chunk.iter_mut().zip(&visible) {
            if ignored.contains(&pdu.sender) {
                *event = without_content(event)?;
            }
        }
        Ok(ThreadsPage { chunk, next_batch })
    }
}

fn without_content(raw: &RawValue) -> Result<Box<RawValue>> {
    let mut event: Value = serde_json::from_str(raw.get())?;
    event["content"] = json!({});
    serde_json::value::to_raw_value(&event).map_err(Error::from)
}
