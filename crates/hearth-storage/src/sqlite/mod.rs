//! The embedded SQLite backend, the zero-configuration default.
//!
//! One file per storage area implements that area's trait; each area also owns its migrations.

mod account_data;
mod accounts;
mod db;
mod directory;
mod e2ee;
mod filters;
mod media;
mod migrations;
mod presence;
mod profile;
mod push;
mod receipts;
mod relations;
mod reports;
mod rooms;
mod search;
mod sliding_sync;
mod sync;
mod token_cache;
mod user_directory;

use std::path::Path;

use hearth_core::Result;

pub use db::{Db, WriteCtx};

/// Every area's migrations, in the order they are applied on a fresh database.
const AREAS: &[migrations::Area] = &[
    accounts::AREA,
    profile::AREA,
    account_data::AREA,
    filters::AREA,
    media::AREA,
    e2ee::AREA,
    rooms::AREA,
    relations::AREA,
    search::AREA,
    reports::AREA,
    receipts::AREA,
    presence::AREA,
    push::AREA,
    sliding_sync::AREA,
];

pub struct SqliteStore {
    pub(crate) db: Db,
    tokens: token_cache::TokenCache,
}

impl SqliteStore {
    pub fn open(path: &Path, read_connections: usize) -> Result<SqliteStore> {
        let db = Db::open(path, read_connections, |conn| migrations::migrate(conn, AREAS))?;
        Ok(SqliteStore { db, tokens: Default::default() })
    }
}

impl crate::StreamStore for SqliteStore {
    fn current_stream_pos(&self) -> i64 {
        self.db.committed_pos()
    }
}
