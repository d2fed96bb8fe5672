//! The sections of the configuration file, each with its defaults.

use std::net::{IpAddr, SocketAddr};

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Addresses to listen on for the client API.
    pub listen: Vec<SocketAddr>,
    /// The largest request body accepted on JSON endpoints, in bytes.
    pub max_request_bytes: usize,
    /// Peers whose `X-Forwarded-For` header is believed: the reverse proxies in front of us.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 8008))],
            max_request_bytes: 1024 * 1024,
            trusted_proxies: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// Connections serving reads in parallel (SQLite in WAL mode).
    pub read_connections: usize,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig { read_connections: 4 }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistrationConfig {
    /// Open registration. Unset: open without a config file, closed with one.
    pub enabled: Option<bool>,
    /// Require a registration token (`hearth token create`) to register.
    pub require_token: bool,
    /// Allow guest accounts (`kind=guest`).
    pub allow_guests: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginConfig {
    /// Lifetime of access tokens issued to clients that support refresh tokens, in seconds.
    pub access_token_lifetime_secs: u64,
    /// Shortest password accepted at registration and password change.
    pub password_min_length: usize,
}

impl Default for LoginConfig {
    fn default() -> Self {
        LoginConfig { access_token_lifetime_secs: 3600, password_min_length: 8 }
    }
}

/// A token bucket: `per_second` requests on average, bursts of up to `burst`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub per_second: f64,
    pub burst: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitsConfig {
    /// Turn every rate limit off (test and benchmark setups).
    pub enabled: bool,
    pub login_per_ip: Rate,
    pub login_per_account: Rate,
    pub registration_per_ip: Rate,
    pub messages_per_user: Rate,
    /// `m.room_key_request` to-device messages a device sends to other users; those above
    /// it are dropped (as Synapse's `rc_key_requests`).
    pub key_requests_per_device: Rate,
}

impl Default for RateLimitsConfig {
    fn default() -> Self {
        RateLimitsConfig {
            enabled: true,
            login_per_ip: Rate { per_second: 0.2, burst: 5 },
            login_per_account: Rate { per_second: 0.2, burst: 5 },
            registration_per_ip: Rate { per_second: 0.2, burst: 5 },
            messages_per_user: Rate { per_second: 10.0, burst: 50 },
            key_requests_per_device: Rate { per_second: 20.0, burst: 100 },
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WellKnownConfig {
    /// `m.homeserver.base_url` served at `/.well-known/matrix/client`; default: public_baseurl.
    pub client: Option<String>,
    /// `m.server` served at `/.well-known/matrix/server` (e.g. `matrix.example.org:443`).
    /// Unset: that path answers 404.
    pub server: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UserDirectoryConfig {
    /// Search every local user, not only those who share a room with the searcher or are in
    /// a public room.
    pub search_all_users: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoomsConfig {
    /// The room version new rooms get when the client does not ask for one.
    pub default_version: String,
    /// Honour `org.matrix.self_destruct_after` (MSC2228, unstable; Synapse's
    /// `enable_ephemeral_messages`, also off by default).
    pub ephemeral_messages: bool,
}

impl Default for RoomsConfig {
    fn default() -> Self {
        RoomsConfig { default_version: "12".to_owned(), ephemeral_messages: false }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PresenceConfig {
    /// Track and share presence. Big servers often turn it off.
    pub enabled: bool,
    /// An online user with no activity for this long becomes `unavailable` (milliseconds).
    pub idle_timeout_ms: u64,
    /// A user none of whose clients syncs for this long becomes `offline` (milliseconds).
    pub offline_timeout_ms: u64,
}

impl Default for PresenceConfig {
    fn default() -> Self {
        PresenceConfig { enabled: true, idle_timeout_ms: 300_000, offline_timeout_ms: 30_000 }
    }
}
