//! Thumbnails: pick the size to serve, serve it from the cache or make it (off the async
//! threads, a few at a time), pre-generate the configured sizes on upload.

use bytes::Bytes;
use hearth_core::{Error, Result};
use hearth_storage::{StoredBlob, ThumbnailRecord};
use ruma::ServerName;

use super::{
    DownloadRequest, Service,
    download::Download,
    thumbnailer::{self, Method, Output, Source, ThumbError, mime},
};

/// Sizes made on demand and kept per media; beyond that, new sizes get the whole image.
const MAX_THUMBNAILS_PER_MEDIA: u64 = 32;

#[derive(Debug, Clone)]
pub struct ThumbnailRequest {
    pub width: u32,
    pub height: u32,
    pub method: Method,
    pub animated: bool,
    pub download: DownloadRequest,
}

impl Service {
    /// A thumbnail of `mxc://server_name/media_id` at least as large as asked where the
    /// content allows (spec: "Thumbnails").
    pub async fn thumbnail(
        &self,
        server_name: &ServerName,
        media_id: &str,
        req: &ThumbnailRequest,
    ) -> Result<Download> {
        if req.width == 0 || req.height == 0 {
            return Err(Error::invalid_param("width and height must be above 0"));
        }
        let (_, source) = self.uploaded_record(server_name, media_id, &req.download).await?;
        let (width, height) = self.box_for(server_name, media_id, req).await?;
        let cached = self
            .ctx
            .storage
            .get_thumbnail(server_name, media_id, width, height, req.method.as_str(), req.animated)
            .await?;
        let thumb = match cached {
            Some(thumb) => thumb,
            None => {
                let boxes = [(width, height, req.method)];
                let made =
                    self.make_thumbnails(server_name, media_id, &source, &boxes, req.animated);
                made.await?.pop().ok_or_else(|| Error::internal("no thumbnail made"))?
            }
        };
        let ext = thumb.content_type.rsplit('/').next().unwrap_or("png").to_owned();
        let filename = Some(format!("thumbnail.{ext}"));
        Ok(Download::new(thumb.content_type, filename, &thumb.blob, self.files.clone()))
    }

    /// The smallest configured size of the method that covers the request, so common sizes
    /// are shared and pre-generated; otherwise exactly the size asked for, unless the media
    /// already has many thumbnails: then the whole image (never smaller than asked, as the
    /// spec requires), so that asking for every size cannot fill the disk.
    async fn box_for(
        &self,
        server_name: &ServerName,
        media_id: &str,
        req: &ThumbnailRequest,
    ) -> Result<(u32, u32)> {
        let configured = self
            .ctx
            .config
            .media
            .thumbnail_sizes
            .iter()
            .filter(|s| s.method == req.method.as_str())
            .filter(|s| s.width >= req.width && s.height >= req.height)
            .min_by_key(|s| u64::from(s.width) * u64::from(s.height));
        if let Some(size) = configured {
            return Ok((size.width, size.height));
        }
        // Sizes made on demand, beyond the configured ones.
        let sizes = &self.ctx.config.media.thumbnail_sizes;
        let kept = self.ctx.storage.thumbnail_sizes(server_name, media_id).await?;
        let configured = |(w, h, m): &(u32, u32, String)| {
            sizes.iter().any(|s| (s.width, s.height, s.method.as_str()) == (*w, *h, m.as_str()))
        };
        let on_demand = kept.iter().filter(|size| !configured(size)).count() as u64;
        let wanted = (req.width, req.height, req.method.as_str());
        let known = kept.iter().any(|(w, h, m)| (*w, *h, m.as_str()) == wanted);
        if !known && on_demand >= MAX_THUMBNAILS_PER_MEDIA {
            return Ok((u32::MAX, u32::MAX));
        }
        Ok((req.width, req.height))
    }

    /// Make (and keep) thumbnails of `source` for each box, decoding it once.
    async fn make_thumbnails(
        &self,
        server_name: &ServerName,
        media_id: &str,
        source: &StoredBlob,
        boxes: &[(u32, u32, Method)],
        animated: bool,
    ) -> Result<Vec<ThumbnailRecord>> {
        let config = &self.ctx.config.media;
        let _permit = self.thumbnail_permits.acquire().await.map_err(Error::internal)?;
        // Look at the first bytes before reading a large file that is no image at all.
        let head = self.files.read_range_all(&source.sha256, 0..source.size.min(64)).await?;
        if !thumbnailer::is_image_format(&head) {
            return Err(thumb_error(ThumbError::NotImage));
        }
        let bytes = self.files.read_all(&source.sha256, config.max_upload_bytes).await?;
        let max_pixels = config.max_thumbnail_pixels;
        let jobs = boxes.to_vec();
        let outputs = tokio::task::spawn_blocking(move || {
            let source = Source::probe(&bytes, max_pixels)?;
            let format = source.format;
            source.thumbnails(&jobs, animated).map(|outputs| (format, outputs))
        })
        .await
        .map_err(Error::internal)?
        .map_err(thumb_error)?;
        let (format, outputs) = outputs;

        let _guard = self.blob_lock.read().await;
        let mut records = Vec::with_capacity(outputs.len());
        for (&(width, height, method), output) in boxes.iter().zip(outputs) {
            let (content_type, blob) = match output {
                // Content no larger than the box is served as it is (spec).
                Output::Original => (mime(format).to_owned(), source.clone()),
                Output::Encoded { bytes, content_type } => {
                    (content_type.to_owned(), self.files.store_bytes(Bytes::from(bytes)).await?)
                }
            };
            let record = ThumbnailRecord {
                width,
                height,
                method: method.as_str().to_owned(),
                animated,
                content_type,
                blob,
            };
            self.ctx.storage.add_thumbnail(server_name, media_id, record.clone()).await?;
            records.push(record);
        }
        Ok(records)
    }

    /// After an upload, make the configured sizes in the background when it looks like an
    /// image; failures only mean they are made (or refused) on demand later.
    pub(super) fn pregenerate_thumbnails(
        &self,
        server_name: &ServerName,
        media_id: &str,
        content_type: Option<&str>,
        blob: &StoredBlob,
    ) {
        if !content_type.is_some_and(|t| t.starts_with("image/")) {
            return;
        }
        let Some(services) = self.services.upgrade() else { return };
        let boxes: Vec<(u32, u32, Method)> = self
            .ctx
            .config
            .media
            .thumbnail_sizes
            .iter()
            .map(|s| {
                (s.width, s.height, if s.method == "crop" { Method::Crop } else { Method::Scale })
            })
            .collect();
        let (server_name, media_id, blob) =
            (server_name.to_owned(), media_id.to_owned(), blob.clone());
        tokio::spawn(async move {
            let media = &services.media;
            if let Err(e) =
                media.make_thumbnails(&server_name, &media_id, &blob, &boxes, false).await
            {
                tracing::debug!(%media_id, "no thumbnails pre-generated: {e}");
            }
        });
    }
}

fn thumb_error(e: ThumbError) -> Error {
    match e {
        ThumbError::NotImage | ThumbError::Corrupt => Error::unknown(
            http::StatusCode::BAD_REQUEST,
            "Cannot generate thumbnails for the requested content",
        ),
        ThumbError::TooLarge => Error::too_large("Content is too large to thumbnail"),
    }
}
