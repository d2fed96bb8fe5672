//! URL previews (spec: `GET /_matrix/client/v1/media/preview_url`): fetch the page through
//! the guarded [`fetch::Fetcher`], read its OpenGraph data, store its image as local media
//! (`og:image` becomes an `mxc://` URI with `matrix:image:size`), and cache the result.

pub(crate) mod fetch;
mod html;
pub(crate) mod ip;

use std::{collections::BTreeMap, time::Duration};

use bytes::Bytes;
use hearth_core::{Error, Result, config::MediaConfig, utils::now_millis};
use http::StatusCode;
use reqwest::Url;
use ruma::UserId;
use serde_json::{Map, Value, json};

use super::{Service, Upload, no_guests, thumbnailer::Source};
use crate::accounts::Session;

pub(super) struct Previewer {
    /// `None` when previews are off; an error if the HTTP client could not be built.
    fetcher: Option<Result<fetch::Fetcher>>,
    cache_for: Duration,
}

impl Previewer {
    pub(super) fn new(config: &MediaConfig) -> Previewer {
        let fetcher = if config.url_preview_enabled {
            let policy = ip::IpPolicy::new(
                &config.url_preview_ip_range_blacklist,
                &config.url_preview_ip_range_whitelist,
            );
            Some(fetch::Fetcher::new(
                policy,
                config.url_preview_domain_blacklist.clone(),
                config.url_preview_max_bytes,
                Duration::from_secs(config.url_preview_timeout_secs),
                config.url_preview_accept_invalid_certs,
            ))
        } else {
            None
        };
        Previewer { fetcher, cache_for: Duration::from_secs(config.url_preview_cache_secs) }
    }
}

impl Service {
    /// The OpenGraph data of `url` as a JSON object, from the cache when fresh.
    pub async fn preview_url(
        &self,
        session: &Session,
        url: &str,
    ) -> Result<Box<serde_json::value::RawValue>> {
        let Some(fetcher) = &self.previewer.fetcher else {
            // Synapse has no such endpoint when previews are off.
            return Err(Error::unrecognized(StatusCode::NOT_FOUND, "URL previews are disabled"));
        };
        no_guests(session)?;
        let fetcher =
            fetcher.as_ref().map_err(|e| Error::internal(format!("preview client: {e}")))?;
        let parsed =
            Url::parse(url).map_err(|e| Error::invalid_param(format!("Invalid URL: {e}")))?;
        fetcher.check_url(&parsed)?;
        let now = now_millis();
        if let Some(cached) = self.ctx.storage.get_url_preview(url, now).await? {
            return serde_json::value::RawValue::from_string(cached).map_err(Error::from);
        }
        let page = fetcher.fetch(parsed).await?;
        let og = self.opengraph(fetcher, &session.user_id, page).await?;
        let json = Value::Object(og).to_string();
        let expires = now + self.previewer.cache_for.as_millis() as u64;
        self.ctx.storage.put_url_preview(url, &json, expires, now).await?;
        serde_json::value::RawValue::from_string(json).map_err(Error::from)
    }

    async fn opengraph(
        &self,
        fetcher: &fetch::Fetcher,
        user: &UserId,
        page: fetch::Fetched,
    ) -> Result<Map<String, Value>> {
        let content_type = page.content_type.as_deref().unwrap_or("").to_ascii_lowercase();
        if content_type.starts_with("image/") {
            // The URL is an image: it is its own preview.
            let mut og = Map::new();
            self.add_image(&mut og, user, page).await;
            return Ok(og);
        }
        if !content_type.starts_with("text/html") && !content_type.contains("xhtml") {
            return Ok(Map::new());
        }
        let tags: BTreeMap<String, String> =
            html::parse_opengraph(&String::from_utf8_lossy(&page.body));
        let mut og: Map<String, Value> =
            tags.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        let image_url = tags.get("og:image").and_then(|i| page.url.join(i).ok());
        og.remove("og:image");
        if let Some(image_url) = image_url {
            // An image that cannot be fetched or is not an image only drops the image.
            if let Ok(image) = fetcher.fetch(image_url).await {
                self.add_image(&mut og, user, image).await;
            }
        }
        Ok(og)
    }

    /// Store a fetched image as media of `user` and describe it in `og`; skipped if it does
    /// not decode as an image.
    async fn add_image(&self, og: &mut Map<String, Value>, user: &UserId, image: fetch::Fetched) {
        let max_pixels = self.ctx.config.media.max_thumbnail_pixels;
        let bytes = Bytes::from(image.body);
        let probe = bytes.clone();
        let probed = tokio::task::spawn_blocking(move || {
            Source::probe(&probe, max_pixels)
                .ok()
                .map(|s| (s.width, s.height, s.format.to_mime_type()))
        })
        .await;
        let Ok(Some((width, height, mime))) = probed else { return };
        let size = bytes.len();
        let upload = Upload {
            content_type: Some(mime.to_owned()),
            filename: None,
            body: Box::pin(futures_util::stream::once(async move { Ok(bytes) })),
        };
        let Ok(uri) = self.store_upload(user, upload).await else { return };
        og.insert("og:image".into(), json!(uri.to_string()));
        og.insert("og:image:type".into(), json!(mime));
        og.insert("og:image:width".into(), json!(width));
        og.insert("og:image:height".into(), json!(height));
        og.insert("matrix:image:size".into(), json!(size));
    }
}
