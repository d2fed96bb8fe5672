//! Media metadata: uploaded and reserved media IDs, their thumbnails, URL preview cache.
//! The bytes live in a [`crate::MediaFiles`] blob store, addressed by SHA-256.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{OwnedServerName, OwnedUserId, ServerName, UserId};

/// Bytes in the blob store: their SHA-256 (lowercase hex) and length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, Clone)]
pub struct MediaRecord {
    pub server_name: OwnedServerName,
    pub media_id: String,
    pub uploader: Option<OwnedUserId>,
    pub content_type: Option<String>,
    pub filename: Option<String>,
    /// `None` while a media ID created with `/create` waits for its content.
    pub blob: Option<StoredBlob>,
    pub created_ts: u64,
    /// When a created media ID without content expires.
    pub expires_ts: Option<u64>,
    pub quarantined: bool,
    /// Served only on the authenticated endpoints (uploaded after the legacy freeze).
    pub authenticated: bool,
}

/// A complete upload, or a reservation when `blob` is `None`.
#[derive(Debug, Clone)]
pub struct NewMedia {
    pub server_name: OwnedServerName,
    pub media_id: String,
    pub uploader: Option<OwnedUserId>,
    pub content_type: Option<String>,
    pub filename: Option<String>,
    pub blob: Option<StoredBlob>,
    pub expires_ts: Option<u64>,
    pub authenticated: bool,
}

/// The content given to a reserved media ID.
#[derive(Debug, Clone)]
pub struct MediaContent {
    pub content_type: Option<String>,
    pub filename: Option<String>,
    pub blob: StoredBlob,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReserveOutcome {
    Reserved,
    /// The uploader holds too many pending reservations; the first expires at this time.
    TooManyPending {
        first_expiry_ts: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FillOutcome {
    Filled,
    /// Never created, or expired.
    NotFound,
    /// Created by someone else.
    NotUploader,
    AlreadyFilled,
}

/// A stored thumbnail, keyed by the size and method it was made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThumbnailRecord {
    pub width: u32,
    pub height: u32,
    pub method: String,
    pub animated: bool,
    pub content_type: String,
    pub blob: StoredBlob,
}

#[async_trait]
pub trait MediaStore {
    /// Store a new media ID. The caller generates unique IDs; a clash is an error.
    async fn create_media(&self, media: NewMedia) -> Result<()>;

    /// Reserve a media ID for `media.uploader` unless they already hold `max_pending`
    /// unexpired reservations. Expired reservations are dropped on the way.
    async fn reserve_media(
        &self,
        media: NewMedia,
        max_pending: u32,
        now: u64,
    ) -> Result<ReserveOutcome>;

    /// Give a reserved, unexpired media ID created by `uploader` its content.
    async fn fill_media(
        &self,
        server_name: &ServerName,
        media_id: &str,
        uploader: &UserId,
        content: MediaContent,
        now: u64,
    ) -> Result<FillOutcome>;

    async fn get_media(
        &self,
        server_name: &ServerName,
        media_id: &str,
    ) -> Result<Option<MediaRecord>>;

    /// Keep a thumbnail; a second one for the same key is ignored.
    async fn add_thumbnail(
        &self,
        server_name: &ServerName,
        media_id: &str,
        thumbnail: ThumbnailRecord,
    ) -> Result<()>;

    async fn get_thumbnail(
        &self,
        server_name: &ServerName,
        media_id: &str,
        width: u32,
        height: u32,
        method: &str,
        animated: bool,
    ) -> Result<Option<ThumbnailRecord>>;

    /// The sizes (width, height, method) of the media's kept thumbnails.
    async fn thumbnail_sizes(
        &self,
        server_name: &ServerName,
        media_id: &str,
    ) -> Result<Vec<(u32, u32, String)>>;

    /// Forget the media and its thumbnails. Returns the blobs nothing references any more,
    /// for the caller to delete; `None` if the media did not exist.
    async fn delete_media(
        &self,
        server_name: &ServerName,
        media_id: &str,
    ) -> Result<Option<Vec<String>>>;

    /// Whether any media or thumbnail references the blob.
    async fn blob_referenced(&self, sha256: &str) -> Result<bool>;

    /// Set or clear quarantine; `false` if the media does not exist.
    async fn set_media_quarantined(
        &self,
        server_name: &ServerName,
        media_id: &str,
        quarantined: bool,
    ) -> Result<bool>;

    /// A cached preview (its JSON) that has not expired.
    async fn get_url_preview(&self, url: &str, now: u64) -> Result<Option<String>>;

    /// Cache a preview until `expires_ts`; drops expired entries on the way.
    async fn put_url_preview(&self, url: &str, og: &str, expires_ts: u64, now: u64) -> Result<()>;
}
