//! End-to-end encryption in SQLite: device, one-time, fallback and cross-signing keys and their
//! signatures, the device-list change stream, to-device messages, key backups.
//!
//! Device rows themselves belong to the accounts area (`devices`); queries here join it so that
//! keys and messages of a device that no longer exists are never handed out.

mod backup;
mod cross_signing;
mod dehydrated;
mod device_lists;
mod keys;
mod to_device;

use super::migrations::Area;

pub(in crate::sqlite) const AREA: Area = Area {
    name: "e2ee",
    migrations: &["
        CREATE TABLE e2e_device_keys (
            user_id TEXT NOT NULL,
            device_id TEXT NOT NULL,
            key_json TEXT NOT NULL,
            PRIMARY KEY (user_id, device_id)
        );
        CREATE TABLE e2e_one_time_keys (
            id INTEGER PRIMARY KEY,
            user_id TEXT NOT NULL,
            device_id TEXT NOT NULL,
            algorithm TEXT NOT NULL,
            key_id TEXT NOT NULL,
            key_json TEXT NOT NULL,
            UNIQUE (user_id, device_id, algorithm, key_id)
        );
        -- Claims hand keys out oldest first: rowid order within a device and algorithm.
        CREATE INDEX e2e_one_time_keys_by_device ON e2e_one_time_keys (user_id, device_id, algorithm);
        CREATE TABLE e2e_fallback_keys (
            user_id TEXT NOT NULL,
            device_id TEXT NOT NULL,
            algorithm TEXT NOT NULL,
            key_id TEXT NOT NULL,
            key_json TEXT NOT NULL,
            used INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (user_id, device_id, algorithm)
        );
        CREATE TABLE e2e_cross_signing_keys (
            user_id TEXT NOT NULL,
            key_type TEXT NOT NULL,
            public_key TEXT NOT NULL,
            key_json TEXT NOT NULL,
            PRIMARY KEY (user_id, key_type)
        );
        -- Signatures added after upload (keys/signatures/upload), kept apart from the key so
        -- that each reader sees only the signatures the spec lets them see.
        CREATE TABLE e2e_signatures (
            target_user_id TEXT NOT NULL,
            target_key_id TEXT NOT NULL,
            signer_user_id TEXT NOT NULL,
            signer_key_id TEXT NOT NULL,
            signature TEXT NOT NULL,
            PRIMARY KEY (target_user_id, target_key_id, signer_user_id, signer_key_id)
        );
        CREATE INDEX e2e_signatures_by_signer ON e2e_signatures (signer_user_id, signer_key_id);
        CREATE TABLE e2e_device_list_stream (
            stream_pos INTEGER NOT NULL,
            user_id TEXT NOT NULL,
            only_for TEXT
        );
        CREATE INDEX e2e_device_list_stream_pos ON e2e_device_list_stream (stream_pos);
        CREATE TABLE e2e_to_device (
            user_id TEXT NOT NULL,
            device_id TEXT NOT NULL,
            stream_pos INTEGER NOT NULL,
            event_json TEXT NOT NULL,
            PRIMARY KEY (user_id, device_id, stream_pos)
        ) WITHOUT ROWID;
        CREATE TABLE e2e_to_device_txns (
            user_id TEXT NOT NULL,
            device_id TEXT NOT NULL,
            txn_id TEXT NOT NULL,
            created_ts INTEGER NOT NULL,
            PRIMARY KEY (user_id, device_id, txn_id)
        );
        CREATE TABLE e2e_room_keys_versions (
            user_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            algorithm TEXT NOT NULL,
            auth_data TEXT NOT NULL,
            etag INTEGER NOT NULL DEFAULT 0,
            deleted INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (user_id, version)
        );
        CREATE TABLE e2e_room_keys (
            user_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            room_id TEXT NOT NULL,
            session_id TEXT NOT NULL,
            first_message_index INTEGER NOT NULL,
            forwarded_count INTEGER NOT NULL,
            is_verified INTEGER NOT NULL,
            key_json TEXT NOT NULL,
            PRIMARY KEY (user_id, version, room_id, session_id)
        );
        -- MSC3814: at most one dehydrated device per user.
        CREATE TABLE e2e_dehydrated_devices (
            user_id TEXT PRIMARY KEY,
            device_id TEXT NOT NULL,
            device_data TEXT NOT NULL
        );
    "],
};
