//! The user directory (spec: client-server-api "User directory").

use std::sync::Arc;

use hearth_core::Result;
use ruma::{OwnedMxcUri, api::client::user_directory::search_users};

use crate::{Ctx, accounts::Session};

/// Synapse's cap on `limit`.
const MAX_LIMIT: usize = 50;

pub struct Service {
    ctx: Arc<Ctx>,
}

impl Service {
    pub(crate) fn new(ctx: Arc<Ctx>) -> Self {
        Service { ctx }
    }

    /// Users matching `term` by ID or display name, at most `limit`; `limited` when more
    /// matched. By default the users who share a room with the searcher or are in a public
    /// room (Synapse's default); with `[user_directory] search_all_users`, every active local
    /// user.
    pub async fn search(
        &self,
        searcher: &Session,
        term: &str,
        limit: usize,
    ) -> Result<search_users::v3::Response> {
        let limit = limit.min(MAX_LIMIT);
        let term = term.trim();
        let storage = &self.ctx.storage;
        let mut found = if self.ctx.config.user_directory.search_all_users {
            storage.search_local_users(term, limit + 1).await?
        } else {
            storage.search_visible_users(&searcher.user_id, term, limit + 1).await?
        };
        let limited = found.len() > limit;
        found.truncate(limit);
        let results = found
            .into_iter()
            .map(|entry| {
                let mut user = search_users::v3::User::new(entry.user_id);
                user.display_name = entry.display_name;
                user.avatar_url = entry.avatar_url.map(OwnedMxcUri::from);
                user
            })
            .collect();
        Ok(search_users::v3::Response::new(results, limited))
    }
}
