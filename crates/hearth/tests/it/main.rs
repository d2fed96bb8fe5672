//! Integration tests: each boots a real Hearth on loopback and drives it over HTTP.

#[path = "../common/mod.rs"]
mod common;

mod account;
mod account_data;
mod cli;
mod devices;
mod foundation;
mod login;
mod media;
mod profile;
mod registration;
