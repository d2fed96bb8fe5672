//! The server's ed25519 signing key (spec: server-server-api "Retrieving server keys"): made on
//! first start and kept in the data dir as `signing_key`, in Synapse's format
//! (`ed25519 <version> <unpadded base64 seed>`), so a key can move between servers.

use std::{fs, path::Path};

use base64::Engine;
use hearth_core::{Config, Error, Result, utils::random_string};
use http::StatusCode;
use ruma::{
    CanonicalJsonObject,
    api::error::ErrorKind,
    room_version_rules::{RedactionRules, RoomVersionRules},
    serde::Base64,
    signatures::{
        Ed25519KeyPair, PublicKeyMap, PublicKeySet, Verified,
        required_server_signatures_to_verify_event,
    },
};

const FILE: &str = "signing_key";
/// PKCS#8 v1 prefix of a bare ed25519 seed (RFC 8410).
const PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

pub struct Service {
    server_name: String,
    key: Ed25519KeyPair,
}

impl Service {
    /// Load the key from the data dir, generating it on first start.
    pub fn load(config: &Config) -> Result<Service> {
        let path = config.data_dir.join(FILE);
        let (version, seed) = if path.exists() { read(&path)? } else { generate(&path)? };
        let mut der = PKCS8_PREFIX.to_vec();
        der.extend_from_slice(&seed);
        let key = Ed25519KeyPair::from_der(&der, version)
            .map_err(|e| Error::internal(format!("signing key {}: {e}", path.display())))?;
        Ok(Service { server_name: config.server_name.to_string(), key })
    }

    /// `ed25519:<version>`.
    pub fn key_id(&self) -> String {
        format!("ed25519:{}", self.key.version())
    }

    /// The public key, unpadded base64.
    pub fn public_key(&self) -> String {
        hearth_core::utils::base64_unpadded(&self.key.public_key())
    }

    /// Add the content hash and this server's signature to a new event.
    pub fn hash_and_sign_event(
        &self,
        event: &mut CanonicalJsonObject,
        rules: &RedactionRules,
    ) -> Result<()> {
        ruma::signatures::hash_and_sign_event(&self.server_name, &self.key, event, rules).map_err(
            |e| match e {
                ruma::signatures::JsonError::PduTooLarge => {
                    Error::too_large("Event is larger than 65536 bytes")
                }
                e => Error::bad_json(format!("cannot sign event: {e}")),
            },
        )
    }
}

impl Service {
    /// Check the signatures and content hash of a received event (spec: server-server-api
    /// "Validating hashes and signatures on received events"). Only this server's own key is
    /// known: events that need another server's signature answer 501 until federation fetches
    /// server keys.
    pub fn verify_event(
        &self,
        event: &CanonicalJsonObject,
        rules: &RoomVersionRules,
    ) -> Result<Verified> {
        let servers = required_server_signatures_to_verify_event(event, &rules.signatures)
            .map_err(|e| Error::bad_json(format!("Invalid event: {e}")))?;
        if let Some(other) = servers.iter().find(|s| s.as_str() != self.server_name) {
            return Err(Error::new(
                StatusCode::NOT_IMPLEMENTED,
                ErrorKind::Unrecognized,
                format!(
                    "The event needs a signature of {other}, whose keys this server cannot fetch: federation is not supported yet"
                ),
            ));
        }
        let keys =
            PublicKeySet::from([(self.key_id(), Base64::new(self.key.public_key().to_vec()))]);
        let map = PublicKeyMap::from([(self.server_name.clone(), keys)]);
        ruma::signatures::verify_event(&map, event, rules)
            .map_err(|e| Error::forbidden(format!("Invalid event signature: {e}")))
    }
}

fn read(path: &Path) -> Result<(String, Vec<u8>)> {
    let fail = |what: &str| Error::internal(format!("signing key {}: {what}", path.display()));
    let text = fs::read_to_string(path).map_err(|e| fail(&e.to_string()))?;
    let mut parts = text.split_whitespace();
    let (Some("ed25519"), Some(version), Some(seed)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(fail("expected `ed25519 <version> <base64 seed>`"));
    };
    let seed = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(seed.trim_end_matches('='))
        .map_err(|e| fail(&e.to_string()))?;
    if seed.len() != 32 {
        return Err(fail("the seed is not 32 bytes"));
    }
    Ok((version.to_owned(), seed))
}

fn generate(path: &Path) -> Result<(String, Vec<u8>)> {
    let seed: [u8; 32] = rand::random();
    let version = format!("a_{}", random_string(4));
    let line = format!("ed25519 {version} {}\n", hearth_core::utils::base64_unpadded(&seed));
    write_private(path, line.as_bytes())
        .map_err(|e| Error::internal(format!("cannot write {}: {e}", path.display())))?;
    tracing::info!(key = %version, "generated the server signing key");
    Ok((version, seed.to_vec()))
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_generated_once_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config { data_dir: dir.path().to_path_buf(), ..Config::default() };
        let first = Service::load(&config).unwrap();
        let again = Service::load(&config).unwrap();
        assert_eq!(first.key_id(), again.key_id());
        assert_eq!(first.public_key(), again.public_key());
        assert!(first.key_id().starts_with("ed25519:a_"));
    }
}
