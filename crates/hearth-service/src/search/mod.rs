//! Server-side search (spec: client-server-api "Server Side Search"): `room_events` over the
//! text of messages, names and topics in the rooms the user is or was in, ranked by relevance
//! or newest first, with history visibility, the room event filter, event context, profiles,
//! room state and groupings. The index is written after commit by [`indexer`].

mod context;
mod indexer;
mod query;
mod text;

use std::sync::{Arc, Weak};

use hearth_core::Result;
use tokio::sync::watch;

pub use query::SearchPage;
use text::search_text;

use crate::{Ctx, Services, stream_follower::Follower};

pub struct Service {
    ctx: Arc<Ctx>,
    services: Weak<Services>,
    /// The stream position the index covers.
    indexing: Arc<Follower>,
    shutdown: watch::Sender<bool>,
}

impl Service {
    pub(crate) fn new(ctx: Arc<Ctx>, services: Weak<Services>) -> Self {
        Service {
            ctx,
            services,
            indexing: Arc::new(Follower::new("search indexing")),
            shutdown: watch::channel(false).0,
        }
    }

    /// Start indexing (the server does, once; CLI tools do not).
    pub async fn start(&self) -> Result<()> {
        let stored = self.ctx.storage.search_indexed_pos().await?;
        self.indexing.set_reached(stored);
        let work = indexer::Indexer { stored };
        let stop = self.shutdown.subscribe();
        tokio::spawn(self.indexing.clone().run(self.services.clone(), work, stop));
        Ok(())
    }

    pub fn stop(&self) {
        self.shutdown.send_replace(true);
    }

    /// New events are committed: index them. Called after every event commit.
    pub fn wake(&self) {
        self.indexing.wake();
    }

    fn services(&self) -> Result<Arc<Services>> {
        crate::upgrade(&self.services)
    }
}
