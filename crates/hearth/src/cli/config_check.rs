//! `hearth config check [FILE]`.

use std::path::Path;

use hearth_core::config::{self, ConfigError, check_data_dir};

/// Load and validate the configuration as `hearth serve` would, without creating anything.
pub fn check_config(file: Option<&Path>) -> Result<(), ConfigError> {
    let config = config::load(file, std::env::vars())?;
    check_data_dir(&config, false)
}
