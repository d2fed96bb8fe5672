//! `[push]`: delivery of notifications to push gateways.

use std::path::PathBuf;

use ipnet::IpNet;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PushConfig {
    /// Send the event's content to push gateways (`format` other than `event_id_only`).
    pub include_content: bool,
    /// Gateway addresses allowed despite the built-in deny list (private, loopback, ...).
    pub ip_range_whitelist: Vec<IpNet>,
    /// Gateway addresses never reached, on top of the built-in deny list.
    pub ip_range_blacklist: Vec<IpNet>,
    /// Certificate authorities (PEM files) trusted for HTTPS gateways besides the usual roots,
    /// e.g. a private gateway's CA.
    pub tls_extra_ca_files: Vec<PathBuf>,
    /// Time allowed for one request to a push gateway, in seconds.
    pub request_timeout_secs: u64,
    /// Wait before the first retry of a failed delivery, in milliseconds; doubles each time.
    pub retry_initial_ms: u64,
    /// Longest wait between two retries, in milliseconds.
    pub retry_max_ms: u64,
    /// A notification still undelivered after this many seconds is dropped.
    pub give_up_after_secs: u64,
    /// Badge counts rooms with unread notifications (true) or the notifications themselves.
    pub group_unread_count_by_room: bool,
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            include_content: true,
            ip_range_whitelist: Vec::new(),
            ip_range_blacklist: Vec::new(),
            tls_extra_ca_files: Vec::new(),
            request_timeout_secs: 10,
            retry_initial_ms: 1000,
            retry_max_ms: 3600 * 1000,
            give_up_after_secs: 24 * 3600,
            group_unread_count_by_room: true,
        }
    }
}

impl PushConfig {
    /// Check values, naming the key at fault.
    pub(super) fn validate(&self) -> Result<(), String> {
        let key = |k: &str, what: &str| Err(format!("config key `push.{k}`: {what}"));
        if self.request_timeout_secs == 0 {
            return key("request_timeout_secs", "must be above 0");
        }
        if self.retry_initial_ms == 0 {
            return key("retry_initial_ms", "must be above 0");
        }
        for file in &self.tls_extra_ca_files {
            if !file.is_file() {
                return key("tls_extra_ca_files", &format!("{} is not a file", file.display()));
            }
        }
        if self.retry_max_ms < self.retry_initial_ms {
            return key("retry_max_ms", "must be at least retry_initial_ms");
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
        let push = crate::config::load(Some(&example), Vec::new()).unwrap().push;
        let defaults = PushConfig::default();
        assert_eq!(push.include_content, defaults.include_content);
        assert_eq!(push.request_timeout_secs, defaults.request_timeout_secs);
        assert_eq!(push.retry_initial_ms, defaults.retry_initial_ms);
        assert_eq!(push.retry_max_ms, defaults.retry_max_ms);
        assert_eq!(push.give_up_after_secs, defaults.give_up_after_secs);
        assert_eq!(push.group_unread_count_by_room, defaults.group_unread_count_by_room);
        assert!(push.ip_range_whitelist.is_empty() && push.ip_range_blacklist.is_empty());
        assert!(push.tls_extra_ca_files.is_empty());
    }

    #[test]
    fn bad_values_are_named() {
        let config = PushConfig { retry_max_ms: 10, retry_initial_ms: 20, ..Default::default() };
        assert!(config.validate().unwrap_err().contains("push.retry_max_ms"));
        let config = PushConfig { request_timeout_secs: 0, ..Default::default() };
        assert!(config.validate().unwrap_err().contains("push.request_timeout_secs"));
        let missing = PathBuf::from("/nonexistent/ca.pem");
        let config = PushConfig { tls_extra_ca_files: vec![missing], ..Default::default() };
        assert!(config.validate().unwrap_err().contains("push.tls_extra_ca_files"));
    }
}
