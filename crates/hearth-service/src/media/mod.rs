//! The content repository (spec: client-server-api "Content repository"): uploads, async
//! uploads (`/create`), downloads, thumbnails, URL previews; deletion and quarantine for the
//! admin API.
//!
//! Metadata goes through [`hearth_storage::MediaStore`]; bytes through a
//! [`hearth_storage::MediaFiles`] blob store, content-addressed so duplicates are kept once.

mod download;
pub(crate) mod preview;
mod thumbnail;
mod thumbnailer;

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use hearth_core::{
    Error, Result,
    utils::{now_millis, random_string},
};
use hearth_storage::{
    FillOutcome, LocalMediaFiles, MediaContent, MediaFiles, MediaRecord, NewMedia, ReserveOutcome,
    StoredBlob,
};
use http::StatusCode;
use ruma::{OwnedMxcUri, OwnedUserId, ServerName, UserId, api::error::ErrorKind};
use tokio::sync::{RwLock, Semaphore, watch};

pub use download::{Download, DownloadRequest, is_inline_safe};
pub use hearth_storage::ByteStream;
pub use thumbnail::ThumbnailRequest;
pub use thumbnailer::Method;

use crate::{Ctx, Services, accounts::Session, ratelimit::RateLimiter};

/// An upload's body and what the client said about it.
pub struct Upload {
    pub content_type: Option<String>,
    pub filename: Option<String>,
    /// Yields `M_TOO_LARGE` past the size limit; nothing is kept then.
    pub body: ByteStream,
}

pub struct Service {
    ctx: Arc<Ctx>,
    #[allow(dead_code)]
    services: Weak<Services>,
    files: Arc<dyn MediaFiles>,
    upload_limiter: RateLimiter<OwnedUserId>,
    /// Bumped whenever a created media ID gets its content: wakes waiting downloads.
    filled: watch::Sender<u64>,
    /// Uploads hold it shared from storing the blob until its row exists; deletion holds it
    /// exclusively, so a blob is never deleted while a new row is about to reference it.
    blob_lock: RwLock<()>,
    previewer: preview::Previewer,
    /// Thumbnails made at once: each holds a decoded image in memory.
    thumbnail_permits: Semaphore,
}

impl Service {
    pub(crate) fn new(ctx: Arc<Ctx>, services: Weak<Services>) -> Self {
        let config = &ctx.config;
        let files = Arc::new(LocalMediaFiles::new(&config.media_path()));
        let upload_limiter =
            RateLimiter::new(config.media.upload_per_user, config.rate_limits.enabled);
        let previewer = preview::Previewer::new(&config.media);
        Service {
            ctx,
            services,
            files,
            upload_limiter,
            filled: watch::channel(0).0,
            blob_lock: RwLock::new(()),
            previewer,
            thumbnail_permits: Semaphore::new(2),
        }
    }

    fn server_name(&self) -> &ServerName {
        &self.ctx.config.server_name
    }

    /// The upload size limit, `m.upload.size` of `/media/config`.
    pub fn max_upload_bytes(&self) -> u64 {
        self.ctx.config.media.max_upload_bytes
    }

    /// `POST /upload`: store the content under a new media ID.
    pub async fn upload(&self, session: &Session, upload: Upload) -> Result<OwnedMxcUri> {
        no_guests(session)?;
        self.store_upload(&session.user_id, upload).await
    }

    async fn store_upload(&self, user: &UserId, upload: Upload) -> Result<OwnedMxcUri> {
        self.upload_limiter.check(&user.to_owned())?;
        let media_id = random_string(24);
        let server_name = self.server_name().to_owned();
        let content_type = upload.content_type.clone();
        let _guard = self.blob_lock.read().await;
        let blob = self.files.store(upload.body).await?;
        let media = NewMedia {
            server_name: server_name.clone(),
            media_id: media_id.clone(),
            uploader: Some(user.to_owned()),
            content_type: upload.content_type,
            filename: upload.filename,
            blob: Some(blob.clone()),
            expires_ts: None,
            authenticated: self.ctx.config.media.freeze_legacy_media,
        };
        if let Err(e) = self.ctx.storage.create_media(media).await {
            self.forget_blob_if_unused(&blob).await;
            return Err(e);
        }
        self.pregenerate_thumbnails(&server_name, &media_id, content_type.as_deref(), &blob);
        Ok(mxc_uri(&server_name, &media_id))
    }

    /// `POST /create`: reserve a media ID for content uploaded later; returns it with the
    /// time it expires if still empty. Spec: limit pending uploads with `M_LIMIT_EXCEEDED`.
    pub async fn create_mxc(&self, session: &Session) -> Result<(OwnedMxcUri, u64)> {
        no_guests(session)?;
        let user = &session.user_id;
        self.upload_limiter.check(user)?;
        let config = &self.ctx.config.media;
        let now = now_millis();
        let expires_ts = now + config.unused_expiration_secs * 1000;
        let media = NewMedia {
            server_name: self.server_name().to_owned(),
            media_id: random_string(24),
            uploader: Some(user.to_owned()),
            content_type: None,
            filename: None,
            blob: None,
            expires_ts: Some(expires_ts),
            authenticated: config.freeze_legacy_media,
        };
        let uri = mxc_uri(&media.server_name, &media.media_id);
        match self.ctx.storage.reserve_media(media, config.max_pending_uploads, now).await? {
            ReserveOutcome::Reserved => Ok((uri, expires_ts)),
            ReserveOutcome::TooManyPending { first_expiry_ts } => Err(Error::limit_exceeded(
                Duration::from_millis(first_expiry_ts.saturating_sub(now)),
            )),
        }
    }

    /// `PUT /upload/{serverName}/{mediaId}`: give a reserved media ID its content.
    pub async fn upload_to(
        &self,
        session: &Session,
        server_name: &ServerName,
        media_id: &str,
        upload: Upload,
    ) -> Result<()> {
        no_guests(session)?;
        let user = &session.user_id;
        self.upload_limiter.check(user)?;
        // Refuse before reading the body when we already know the answer.
        let record = self.local_record(server_name, media_id).await?;
        check_fillable(&record, user, now_millis())?;
        let content_type = upload.content_type.clone();
        let _guard = self.blob_lock.read().await;
        let blob = self.files.store(upload.body).await?;
        let content = MediaContent {
            content_type: upload.content_type,
            filename: upload.filename,
            blob: blob.clone(),
        };
        let outcome =
            self.ctx.storage.fill_media(server_name, media_id, user, content, now_millis()).await;
        match outcome {
            Ok(FillOutcome::Filled) => {}
            other => {
                self.forget_blob_if_unused(&blob).await;
                return Err(fill_error(other?));
            }
        }
        self.filled.send_modify(|n| *n += 1);
        self.pregenerate_thumbnails(server_name, media_id, content_type.as_deref(), &blob);
        Ok(())
    }

    /// Delete media, its thumbnails and the blobs nothing else uses (for the admin API).
    pub async fn delete_media(&self, server_name: &ServerName, media_id: &str) -> Result<()> {
        let _guard = self.blob_lock.write().await;
        let unused = self
            .ctx
            .storage
            .delete_media(server_name, media_id)
            .await?
            .ok_or_else(|| Error::not_found("Unknown media"))?;
        for sha256 in unused {
            self.files.delete(&sha256).await?;
        }
        Ok(())
    }

    /// Quarantine media, or lift it: quarantined media is never served (for the admin API).
    pub async fn set_quarantined(
        &self,
        server_name: &ServerName,
        media_id: &str,
        quarantined: bool,
    ) -> Result<()> {
        if !self.ctx.storage.set_media_quarantined(server_name, media_id, quarantined).await? {
            return Err(Error::not_found("Unknown media"));
        }
        Ok(())
    }

    /// The record of local media. Remote media needs federation, which does not exist yet:
    /// it is not found.
    async fn local_record(&self, server_name: &ServerName, media_id: &str) -> Result<MediaRecord> {
        if server_name != self.server_name() {
            // TODO(federation): fetch remote media over federation once it exists.
            return Err(Error::not_found("Remote media is not available"));
        }
        if !valid_media_id(media_id) {
            return Err(Error::not_found("Unknown media"));
        }
        self.ctx
            .storage
            .get_media(server_name, media_id)
            .await?
            .ok_or_else(|| Error::not_found("Unknown media"))
    }

    /// Delete a just-stored blob that no row ended up referencing.
    async fn forget_blob_if_unused(&self, blob: &StoredBlob) {
        if let Ok(false) = self.ctx.storage.blob_referenced(&blob.sha256).await {
            let _ = self.files.delete(&blob.sha256).await;
        }
    }
}

/// Spec ("Guest access"): guests may download media, not upload it nor preview URLs.
fn no_guests(session: &Session) -> Result<()> {
    if session.is_guest {
        return Err(Error::new(
            StatusCode::FORBIDDEN,
            ErrorKind::GuestAccessForbidden,
            "Guests cannot do this",
        ));
    }
    Ok(())
}

fn mxc_uri(server_name: &ServerName, media_id: &str) -> OwnedMxcUri {
    OwnedMxcUri::from(format!("mxc://{server_name}/{media_id}"))
}

fn check_fillable(record: &MediaRecord, user: &UserId, now: u64) -> Result<()> {
    let outcome = if record.blob.is_some() {
        FillOutcome::AlreadyFilled
    } else if record.expires_ts.is_some_and(|t| t <= now) {
        FillOutcome::NotFound
    } else if record.uploader.as_deref() != Some(user) {
        FillOutcome::NotUploader
    } else {
        return Ok(());
    };
    Err(fill_error(outcome))
}

fn fill_error(outcome: FillOutcome) -> Error {
    match outcome {
        FillOutcome::NotFound => Error::not_found("Unknown or expired media ID"),
        FillOutcome::NotUploader => Error::forbidden("This media ID was created by another user"),
        FillOutcome::AlreadyFilled | FillOutcome::Filled => Error::new(
            StatusCode::CONFLICT,
            ErrorKind::CannotOverwriteMedia,
            "Media already uploaded",
        ),
    }
}

/// A media ID as the spec allows (`A-Za-z0-9_-`), so it is safe anywhere.
pub fn valid_media_id(media_id: &str) -> bool {
    !media_id.is_empty()
        && media_id.len() <= 255
        && media_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
