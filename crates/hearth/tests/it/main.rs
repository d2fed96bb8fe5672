//! Integration tests: each boots a real Hearth on loopback and drives it over HTTP.

#[path = "../common/mod.rs"]
mod common;

mod account;
mod account_data;
mod admin;
mod auth_rules;
mod backup;
mod cli;
mod cross_signing;
mod crypto;
mod dehydrated_device;
mod device_lists;
mod devices;
mod directory;
mod e2ee_support;
mod foundation;
mod hierarchy;
mod keys;
mod legacy;
mod login;
mod media;
mod member_profile;
mod membership;
mod messages;
mod openid;
mod profile;
mod push;
mod redaction;
mod registration;
mod relations;
mod report;
mod room_features;
mod rooms;
mod search;
mod sliding_sync;
mod state_res;
mod sync;
mod tags;
mod threads;
mod timestamp;
mod to_device;
mod upgrade;
mod user_directory;
