//! Test-side cryptography: real ed25519 keys and signed JSON, made with ruma's signature
//! functions, so that the server checks genuine signatures.

use ruma::{CanonicalJsonObject, signatures::Ed25519KeyPair};
use serde_json::{Value, json};

use crate::common::User;

/// An ed25519 key pair whose key ID is `ed25519:<name>`.
pub struct Signer {
    pair: Ed25519KeyPair,
    pub public: String,
}

impl Signer {
    /// A key named after its own public key, as cross-signing keys are.
    pub fn cross_signing() -> Signer {
        let der = Ed25519KeyPair::generate();
        let public = b64(&Ed25519KeyPair::from_der(&der, "x".into()).unwrap().public_key());
        Signer { pair: Ed25519KeyPair::from_der(&der, public.clone()).unwrap(), public }
    }

    /// A device's key: named after the device.
    pub fn device(device_id: &str) -> Signer {
        let pair = Ed25519KeyPair::from_der(&Ed25519KeyPair::generate(), device_id.into()).unwrap();
        Signer { public: b64(&pair.public_key()), pair }
    }

    pub fn key_id(&self) -> String {
        format!("ed25519:{}", self.pair.version())
    }

    /// `value` with this key's signature by `user` added.
    pub fn sign(&self, user: &str, value: Value) -> Value {
        let mut object: CanonicalJsonObject = serde_json::from_value(value).unwrap();
        ruma::signatures::sign_json(user, &self.pair, &mut object).unwrap();
        serde_json::to_value(object).unwrap()
    }
}

/// 32 random-looking bytes as unpadded base64: a stand-in curve25519 key.
pub fn curve25519_key() -> String {
    Signer::device("x").public
}

fn b64(bytes: &[u8]) -> String {
    hearth_core::utils::base64_unpadded(bytes)
}

/// A client device's identity: what a real client would upload.
pub struct Device {
    pub user_id: String,
    pub device_id: String,
    pub key: Signer,
    pub curve25519: String,
}

impl Device {
    pub fn of(user: &User) -> Device {
        Device::new(&user.user_id, &user.device_id)
    }

    pub fn new(user_id: &str, device_id: &str) -> Device {
        Device {
            user_id: user_id.into(),
            device_id: device_id.into(),
            key: Signer::device(device_id),
            curve25519: curve25519_key(),
        }
    }

    /// Signed device keys.
    pub fn device_keys(&self) -> Value {
        self.key.sign(&self.user_id, self.unsigned_device_keys())
    }

    pub fn unsigned_device_keys(&self) -> Value {
        let d = &self.device_id;
        json!({
            "user_id": self.user_id,
            "device_id": d,
            "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
            "keys": {
                format!("curve25519:{d}"): self.curve25519,
                format!("ed25519:{d}"): self.key.public,
            },
        })
    }

    /// A signed `signed_curve25519` key object.
    pub fn signed_key(&self, fallback: bool) -> Value {
        let mut key = json!({ "key": curve25519_key() });
        if fallback {
            key["fallback"] = json!(true);
        }
        self.key.sign(&self.user_id, key)
    }

    /// `one_time_keys` with the given key IDs.
    pub fn one_time_keys(&self, ids: &[&str]) -> Value {
        let keys: serde_json::Map<String, Value> = ids
            .iter()
            .map(|id| (format!("signed_curve25519:{id}"), self.signed_key(false)))
            .collect();
        Value::Object(keys)
    }

    pub fn fallback_key(&self, id: &str) -> Value {
        json!({ format!("signed_curve25519:{id}"): self.signed_key(true) })
    }
}

/// A user's three cross-signing keys.
pub struct CrossSigning {
    pub user_id: String,
    pub master: Signer,
    pub self_signing: Signer,
    pub user_signing: Signer,
}

impl CrossSigning {
    pub fn new(user_id: &str) -> CrossSigning {
        CrossSigning {
            user_id: user_id.into(),
            master: Signer::cross_signing(),
            self_signing: Signer::cross_signing(),
            user_signing: Signer::cross_signing(),
        }
    }

    pub fn key(&self, signer: &Signer, usage: &str) -> Value {
        json!({
            "user_id": self.user_id,
            "usage": [usage],
            "keys": { signer.key_id(): signer.public },
        })
    }

    pub fn master_key(&self) -> Value {
        self.key(&self.master, "master")
    }

    /// The self-signing key, signed by the master key.
    pub fn self_signing_key(&self) -> Value {
        self.master.sign(&self.user_id, self.key(&self.self_signing, "self_signing"))
    }

    /// The user-signing key, signed by the master key.
    pub fn user_signing_key(&self) -> Value {
        self.master.sign(&self.user_id, self.key(&self.user_signing, "user_signing"))
    }

    /// The body of a first `/keys/device_signing/upload`.
    pub fn upload_body(&self) -> Value {
        json!({
            "master_key": self.master_key(),
            "self_signing_key": self.self_signing_key(),
            "user_signing_key": self.user_signing_key(),
        })
    }
}
