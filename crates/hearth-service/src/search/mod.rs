//! Server-side search (spec: client-server-api "Server Side Search"): `room_events` over the
//! text of messages, names and topics in the rooms the user is or was in, ranked by relevance
//! or newest first, with history visibility, the room event filter, event context, profiles,
//! room state and groupings.

mod context;
mod query;
mod text;

use std::sync::{Arc, Weak};

use hearth_core::Result;

pub use query::SearchPage;
pub(crate) use text::search_text;

use crate::{Ctx, Services};

pub struct Service {
    ctx: Arc<Ctx>,
    services: Weak<Services>,
}

impl Service {
    pub(crate) fn new(ctx: Arc<Ctx>, services: Weak<Services>) -> Self {
        Service { ctx, services }
    }

    fn services(&self) -> Result<Arc<Services>> {
        crate::upgrade(&self.services)
    }
}
