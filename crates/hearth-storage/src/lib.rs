//! Hearth's storage interface.
//!
//! Services see only the traits in this crate: one trait per area, gathered in [`Storage`].
//! A backend implements every area; nothing above this crate knows which backend runs. Each
//! trait method is one atomic unit of work: it either happens entirely or not at all.

pub mod account_data;
pub mod accounts;
pub mod directory;
pub mod e2ee;
pub mod filters;
pub mod media;
pub mod media_files;
pub mod presence;
pub mod profile;
pub mod push;
pub mod receipts;
pub mod relations;
pub mod reports;
pub mod rooms;
pub mod search;
pub mod sliding_sync;
pub mod sqlite;
pub mod sync;
pub mod user_directory;

use std::{path::Path, sync::Arc};

use hearth_core::Result;

pub use account_data::*;
pub use accounts::*;
pub use directory::*;
pub use e2ee::*;
pub use filters::*;
pub use media::*;
pub use media_files::{ByteStream, LocalMediaFiles, MediaFiles};
pub use presence::*;
pub use profile::*;
pub use push::*;
pub use receipts::*;
pub use relations::*;
pub use reports::*;
pub use rooms::*;
pub use search::*;
pub use sliding_sync::*;
pub use sync::*;
pub use user_directory::*;

/// The server-wide stream: every change that sync reports gets a position in it.
pub trait StreamStore {
    /// The highest position whose change is committed and visible to readers.
    fn current_stream_pos(&self) -> i64;
}

/// Everything the services need from a database.
pub trait Storage:
    StreamStore
    + AccountStore
    + ProfileStore
    + AccountDataStore
    + FilterStore
    + MediaStore
    + E2eeStore
    + UserDirectoryStore
    + RoomStore
    + EventStore
    + StateStore
    + MembershipStore
    + AliasStore
    + DirectoryStore
    + RelationStore
    + SearchStore
    + ReportStore
    + ReceiptStore
    + PresenceStore
    + SyncStore
    + PushStore
    + SlidingSyncStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Storage for T where
    T: StreamStore
        + AccountStore
        + ProfileStore
        + AccountDataStore
        + FilterStore
        + MediaStore
        + E2eeStore
        + UserDirectoryStore
        + RoomStore
        + EventStore
        + StateStore
        + MembershipStore
        + AliasStore
        + DirectoryStore
        + RelationStore
        + SearchStore
        + ReportStore
        + ReceiptStore
        + PresenceStore
        + SyncStore
        + PushStore
        + SlidingSyncStore
        + Send
        + Sync
        + 'static
{
}

/// Open the embedded SQLite backend at `path`.
pub fn open_sqlite(path: &Path, read_connections: usize) -> Result<Arc<dyn Storage>> {
    Ok(Arc::new(sqlite::SqliteStore::open(path, read_connections)?))
}
