//! `[media]`: the content repository (uploads, thumbnails, URL previews).

use ipnet::IpNet;
use serde::Deserialize;

use super::Rate;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaConfig {
    /// The largest upload accepted, in bytes (`m.upload.size` of `/media/config`).
    pub max_upload_bytes: u64,
    /// Per-user upload rate (uploads and `/create`); off when `rate_limits.enabled` is false.
    pub upload_per_user: Rate,
    /// Created (`/create`) but not yet uploaded media IDs a user may hold at once.
    pub max_pending_uploads: u32,
    /// How long a created media ID waits for its content, in seconds.
    pub unused_expiration_secs: u64,
    /// Media uploaded while this is on is served only on the authenticated endpoints
    /// (Synapse's `enable_authenticated_media`: the spec's "freeze" of `/_matrix/media/v3`).
    pub freeze_legacy_media: bool,
    /// Thumbnails made on upload; other sizes are made on demand and kept.
    pub thumbnail_sizes: Vec<ThumbnailSize>,
    /// Images with more pixels than this are not thumbnailed (decompression bombs).
    pub max_thumbnail_pixels: u64,
    /// Fetch pages for `/preview_url`. Off by default: the server makes requests for users.
    pub url_preview_enabled: bool,
    /// Addresses previews may reach despite the built-in deny list (private, loopback, ...).
    pub url_preview_ip_range_whitelist: Vec<IpNet>,
    /// Addresses previews never reach, on top of the built-in deny list.
    pub url_preview_ip_range_blacklist: Vec<IpNet>,
    /// Domains (and their subdomains) never previewed.
    pub url_preview_domain_blacklist: Vec<String>,
    /// The largest page or image a preview downloads, in bytes.
    pub url_preview_max_bytes: u64,
    /// Time allowed for one preview fetch, in seconds.
    pub url_preview_timeout_secs: u64,
    /// How long a preview is reused, in seconds.
    pub url_preview_cache_secs: u64,
    /// Accept any TLS certificate when fetching previews. Only for test harnesses whose
    /// servers use self-signed certificates (SyTest; Synapse's
    /// `use_insecure_ssl_client_just_for_testing_do_not_use`): never in production.
    pub url_preview_accept_invalid_certs: bool,
}

/// A thumbnail size: `method` is `crop` or `scale` (spec: "Thumbnails").
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ThumbnailSize {
    pub width: u32,
    pub height: u32,
    pub method: String,
}

impl Default for MediaConfig {
    fn default() -> Self {
        let size = |width, height, method: &str| ThumbnailSize {
            width,
            height,
            method: method.to_owned(),
        };
        MediaConfig {
            max_upload_bytes: 50 * 1024 * 1024,
            upload_per_user: Rate { per_second: 1.0, burst: 20 },
            max_pending_uploads: 5,
            unused_expiration_secs: 24 * 3600,
            freeze_legacy_media: true,
            // The sizes the spec recommends (and Synapse's defaults).
            thumbnail_sizes: vec![
                size(32, 32, "crop"),
                size(96, 96, "crop"),
                size(320, 240, "scale"),
                size(640, 480, "scale"),
                size(800, 600, "scale"),
            ],
            max_thumbnail_pixels: 32_000_000,
            url_preview_enabled: false,
            url_preview_ip_range_whitelist: Vec::new(),
            url_preview_ip_range_blacklist: Vec::new(),
            url_preview_domain_blacklist: Vec::new(),
            url_preview_max_bytes: 10 * 1024 * 1024,
            url_preview_timeout_secs: 10,
            url_preview_cache_secs: 3600,
            url_preview_accept_invalid_certs: false,
        }
    }
}

impl MediaConfig {
    /// Check values, naming the key at fault.
    pub(super) fn validate(&self) -> Result<(), String> {
        let key = |k: &str, what: &str| Err(format!("config key `media.{k}`: {what}"));
        if self.max_upload_bytes == 0 {
            return key("max_upload_bytes", "must be above 0");
        }
        let rate = self.upload_per_user;
        if !rate.per_second.is_finite() || rate.per_second <= 0.0 || rate.burst == 0 {
            return key("upload_per_user", "per_second and burst must be above 0");
        }
        for size in &self.thumbnail_sizes {
            if size.width == 0 || size.height == 0 {
                return key("thumbnail_sizes", "width and height must be above 0");
            }
            if size.method != "crop" && size.method != "scale" {
                return key("thumbnail_sizes", "method must be \"crop\" or \"scale\"");
            }
        }
        if self.url_preview_max_bytes == 0 || self.url_preview_timeout_secs == 0 {
            return key("url_preview_max_bytes", "and url_preview_timeout_secs must be above 0");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn the_example_file_documents_the_defaults() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hearth.example.toml");
        let config = crate::config::load(Some(&example), Vec::new()).unwrap();
        let defaults = MediaConfig::default();
        assert_eq!(config.media.max_upload_bytes, defaults.max_upload_bytes);
        assert_eq!(config.media.thumbnail_sizes, defaults.thumbnail_sizes);
        assert_eq!(config.media.upload_per_user, defaults.upload_per_user);
        assert!(!config.media.url_preview_enabled);
    }

    #[test]
    fn bad_values_are_named() {
        let mut config = MediaConfig::default();
        config.thumbnail_sizes[0].method = "stretch".into();
        assert!(config.validate().unwrap_err().contains("media.thumbnail_sizes"));
        let config = MediaConfig { max_upload_bytes: 0, ..MediaConfig::default() };
        assert!(config.validate().unwrap_err().contains("media.max_upload_bytes"));
    }
}
