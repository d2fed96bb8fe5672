//! The command line: `hearth [serve]`, `hearth user ...`, `hearth token ...`, `hearth config check`.

mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use hearth_core::config::{self, ConfigError};

pub use serve::serve;

/// Exit status for a configuration that cannot be used.
pub const EXIT_CONFIG: i32 = 2;

#[derive(Parser, Debug)]
#[command(name = "hearth", version, about = "Hearth, a Matrix homeserver")]
pub struct Cli {
    /// Configuration file (TOML). Without one, Hearth runs with built-in defaults.
    #[arg(long, short, global = true, env = "HEARTH_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the homeserver (the default).
    Serve,
}

/// Load the configuration from the file named on the command line and the environment.
pub fn load_config(cli: &Cli) -> Result<hearth_core::Config, ConfigError> {
    config::load(cli.config.as_deref(), std::env::vars())
}
