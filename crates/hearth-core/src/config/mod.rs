//! Configuration: built-in defaults, then a TOML file, then `HEARTH_*` environment variables.
//!
//! With no file, Hearth serves `localhost` on 127.0.0.1:8008 with open registration, data in
//! `./hearth-data`. Every key is listed with its default in `hearth.example.toml`. Unknown keys
//! and bad values are refused with a message naming the key.

mod load;
mod media;
mod push;
mod sections;

use std::path::PathBuf;

use ruma::OwnedServerName;
use serde::Deserialize;

pub use load::{ConfigError, ROOM_VERSIONS, check_data_dir, load};
pub use media::{MediaConfig, ThumbnailSize};
pub use push::PushConfig;
pub use sections::*;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The domain in user IDs and room aliases: `@alice:<server_name>`.
    pub server_name: OwnedServerName,
    /// The URL clients reach this server at; used in `.well-known/matrix/client`.
    pub public_baseurl: Option<String>,
    /// Where the database, signing key and media live.
    pub data_dir: PathBuf,
    /// The `tracing` filter, e.g. `info` or `hearth=debug,info`.
    pub log: String,
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub registration: RegistrationConfig,
    pub login: LoginConfig,
    pub rate_limits: RateLimitsConfig,
    pub well_known: WellKnownConfig,
    pub user_directory: UserDirectoryConfig,
    pub rooms: RoomsConfig,
    pub presence: PresenceConfig,
    pub media: MediaConfig,
    pub push: PushConfig,

    /// Set by the loader: whether a config file was read (it decides open registration).
    #[serde(skip)]
    pub from_file: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server_name: "localhost".try_into().expect("valid server name"),
            public_baseurl: None,
            data_dir: PathBuf::from("./hearth-data"),
            log: "info".to_owned(),
            http: HttpConfig::default(),
            database: DatabaseConfig::default(),
            registration: RegistrationConfig::default(),
            login: LoginConfig::default(),
            rate_limits: RateLimitsConfig::default(),
            well_known: WellKnownConfig::default(),
            user_directory: UserDirectoryConfig::default(),
            rooms: RoomsConfig::default(),
            presence: PresenceConfig::default(),
            media: MediaConfig::default(),
            push: PushConfig::default(),
            from_file: false,
        }
    }
}

impl Config {
    /// Registration is open in the zero-config default (which listens on loopback only); with a
    /// config file it is closed unless the file opens it.
    pub fn registration_open(&self) -> bool {
        self.registration.enabled.unwrap_or(!self.from_file)
    }

    /// The base URL clients use, derived from the first listener when not configured.
    pub fn public_baseurl(&self) -> String {
        match &self.public_baseurl {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => {
                let addr =
                    self.http.listen.first().copied().unwrap_or(([127, 0, 0, 1], 8008).into());
                format!("http://{addr}")
            }
        }
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("hearth.sqlite3")
    }

    /// Where media files live (content-addressed).
    pub fn media_path(&self) -> PathBuf {
        self.data_dir.join("media")
    }
}
