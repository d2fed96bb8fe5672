//! The command line: `hearth [serve]`, `hearth user ...`, `hearth token ...`, `hearth config check`.
//!
//! The admin commands open the database directly, so they work whether or not a server is
//! running (SQLite in WAL mode lets both write); they never take stream positions.

mod admin;
mod config_check;
mod duration;
mod password_input;
mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use hearth_core::config::{self, ConfigError};

pub use admin::{run_token, run_user};
pub use config_check::check_config;
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
    /// Manage local accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage registration tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Work with the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an account. The password comes from --password-file, else from standard input
    /// (prompted for on a terminal).
    Create {
        /// The localpart (`alice`) or full user ID (`@alice:example.org`).
        name: String,
        /// Make the account a server admin.
        #[arg(long)]
        admin: bool,
        /// Read the password from this file (its first line).
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Set a new password and log the account out of every session.
    ResetPassword {
        name: String,
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a registration token and print it.
    Create {
        /// How many accounts it may create (default: unlimited).
        #[arg(long)]
        uses: Option<u32>,
        /// When it stops working: a duration from now (`7d`, `12h`, `30m`) or an RFC 3339
        /// date (`2030-01-31T00:00:00Z`). Default: never.
        #[arg(long)]
        expires: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Validate a configuration file (default: --config / HEARTH_CONFIG), with the
    /// environment's HEARTH_* overrides. Prints "ok", or the problem with exit status 2.
    Check { file: Option<PathBuf> },
}

/// Load the configuration from the file named on the command line and the environment.
pub fn load_config(cli: &Cli) -> Result<hearth_core::Config, ConfigError> {
    config::load(cli.config.as_deref(), std::env::vars())
}
