//! Hearth's shared ground: the configuration, the one error type that maps onto the spec's
//! `errcode`/`error`/HTTP status, and small utilities used by every layer.

pub mod config;
pub mod error;
pub mod utils;

pub use config::Config;
pub use error::{Error, Result};
