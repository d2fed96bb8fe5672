//! Event relationships and threads (spec: client-server-api "Forming relationships between
//! events", "Threading", "Event replacements", "Reference relations"): relations checked on
//! send, `/relations`, `/threads`, and the bundled aggregations every event-serving endpoint
//! includes (`unsigned.m.relations`).

mod aggregations;
mod index;
mod pagination;
mod threads;
mod validate;

use std::sync::{Arc, Weak};

use hearth_core::Result;

pub(crate) use index::new_relation;
pub use pagination::{RelationsPage, RelationsRequest};
pub use threads::ThreadsPage;

use crate::{Ctx, Services, rooms::PaginationToken, stream_token};

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

/// The stream position of a pagination token: ours (`t<pos>`, from `/messages`, `/relations`,
/// `/threads`) or a `/sync` token (spec: `from` of `/relations` may be either).
pub(crate) fn token_position(token: &str) -> Result<i64> {
    match token.parse::<PaginationToken>() {
        Ok(t) => Ok(t.0),
        Err(_) => stream_token::stream_position(token),
    }
}
