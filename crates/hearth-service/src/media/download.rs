//! Downloads: waiting for content not yet uploaded, the legacy freeze, and what the HTTP layer
//! needs to serve the bytes with safe headers.

use std::{ops::Range, sync::Arc, time::Duration};

use hearth_core::{Error, Result, utils::now_millis};
use hearth_storage::{ByteStream, MediaFiles, MediaRecord, StoredBlob};
use http::StatusCode;
use ruma::{ServerName, api::error::ErrorKind};

use super::Service;

/// The longest a download waits for content still being uploaded, whatever the client asks
/// (spec: the server SHOULD cap `timeout_ms`).
const MAX_WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct DownloadRequest {
    /// How long to wait for content not yet uploaded (`timeout_ms`).
    pub timeout: Duration,
    /// Through the deprecated unauthenticated `/_matrix/media/v3` endpoints.
    pub legacy: bool,
}

/// Content ready to be served: its metadata and a handle on the bytes.
pub struct Download {
    pub content_type: String,
    pub filename: Option<String>,
    pub size: u64,
    /// `Content-Disposition: inline` is safe for this content type (else `attachment`).
    pub inline: bool,
    blob: String,
    files: Arc<dyn MediaFiles>,
}

impl Download {
    pub(super) fn new(
        content_type: String,
        filename: Option<String>,
        blob: &StoredBlob,
        files: Arc<dyn MediaFiles>,
    ) -> Download {
        Download {
            inline: is_inline_safe(&content_type),
            content_type,
            filename,
            size: blob.size,
            blob: blob.sha256.clone(),
            files,
        }
    }

    /// The bytes, or the byte `range` of them (checked against `size` by the caller).
    pub async fn open(&self, range: Option<Range<u64>>) -> Result<ByteStream> {
        self.files.read(&self.blob, range).await
    }
}

/// Spec: "Serving inline content": only these types may be served `inline`.
pub fn is_inline_safe(content_type: &str) -> bool {
    const INLINE: &[&str] = &[
        "text/css",
        "text/plain",
        "text/csv",
        "application/json",
        "application/ld+json",
        "image/jpeg",
        "image/gif",
        "image/png",
        "image/apng",
        "image/webp",
        "image/avif",
        "video/mp4",
        "video/webm",
        "video/ogg",
        "video/quicktime",
        "audio/mp4",
        "audio/webm",
        "audio/aac",
        "audio/mpeg",
        "audio/ogg",
        "audio/wave",
        "audio/wav",
        "audio/x-wav",
        "audio/x-pn-wav",
        "audio/flac",
        "audio/x-flac",
    ];
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    INLINE.contains(&essence.as_str())
}

impl Service {
    /// The content of `mxc://server_name/media_id`.
    pub async fn download(
        &self,
        server_name: &ServerName,
        media_id: &str,
        req: &DownloadRequest,
    ) -> Result<Download> {
        let (record, blob) = self.uploaded_record(server_name, media_id, req).await?;
        let content_type =
            record.content_type.unwrap_or_else(|| "application/octet-stream".to_owned());
        Ok(Download::new(content_type, record.filename, &blob, self.files.clone()))
    }

    /// The record of servable local media with its content, waiting up to `req.timeout` for
    /// content that a created media ID does not have yet (spec: `M_NOT_YET_UPLOADED`, 504).
    pub(super) async fn uploaded_record(
        &self,
        server_name: &ServerName,
        media_id: &str,
        req: &DownloadRequest,
    ) -> Result<(MediaRecord, StoredBlob)> {
        let deadline = tokio::time::Instant::now() + req.timeout.min(MAX_WAIT);
        // Subscribe before looking, so content arriving in between still wakes us.
        let mut filled = self.filled.subscribe();
        loop {
            let record = self.local_record(server_name, media_id).await?;
            if record.quarantined {
                return Err(Error::not_found("This media is quarantined"));
            }
            // Spec: after the freeze, new media is not served on the unauthenticated endpoints.
            if req.legacy && record.authenticated {
                return Err(Error::not_found(
                    "Not found: use the authenticated /_matrix/client/v1/media endpoints",
                ));
            }
            if let Some(blob) = record.blob.clone() {
                return Ok((record, blob));
            }
            if record.expires_ts.is_some_and(|t| t <= now_millis()) {
                return Err(Error::not_found("Unknown media"));
            }
            let woken = tokio::time::timeout_at(deadline, filled.changed()).await;
            if !matches!(woken, Ok(Ok(()))) {
                return Err(Error::new(
                    StatusCode::GATEWAY_TIMEOUT,
                    ErrorKind::NotYetUploaded,
                    "Content has not yet been uploaded",
                ));
            }
        }
    }
}
