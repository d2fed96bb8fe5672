//! Signed JSON: canonical form and signature checks, with ruma's signature functions
//! (spec: appendices, "Signing JSON").

use hearth_core::{Error, Result};
use ruma::{
    CanonicalJsonObject, CanonicalJsonValue, UserId,
    serde::{Base64, base64::Standard},
    signatures::{
        SigningKeyAlgorithm, to_canonical_json_string_for_signing, verify_canonical_json_bytes,
    },
};
use serde_json::value::RawValue;

/// Parse client JSON as a canonical JSON object; `M_BAD_JSON` if it is not one (floats, huge
/// integers or a non-object).
pub(crate) fn canonical_object(raw: &RawValue, what: &str) -> Result<CanonicalJsonObject> {
    serde_json::from_str(raw.get()).map_err(|e| Error::bad_json(format!("Invalid {what}: {e}")))
}

/// The canonical JSON text of an object, as stored.
pub(crate) fn to_canonical_string(object: &CanonicalJsonObject) -> String {
    serde_json::to_string(object).expect("canonical JSON serializes")
}

/// The object as it was signed: canonical, without `signatures` and `unsigned`. Two uploads of
/// one key are the same key when these are equal.
pub(crate) fn signed_content(object: &CanonicalJsonObject) -> Result<String> {
    to_canonical_json_string_for_signing(object).map_err(Error::internal)
}

/// The signature `signer` made with `key_id` (`ed25519:...`) on `object`, if there is one.
pub(crate) fn signature<'a>(
    object: &'a CanonicalJsonObject,
    signer: &UserId,
    key_id: &str,
) -> Option<&'a str> {
    let CanonicalJsonValue::Object(signatures) = object.get("signatures")? else { return None };
    let CanonicalJsonValue::Object(by_signer) = signatures.get(signer.as_str())? else {
        return None;
    };
    match by_signer.get(key_id)? {
        CanonicalJsonValue::String(s) => Some(s),
        _ => None,
    }
}

/// Check that `object` carries a valid ed25519 signature by `signer`'s key `key_id` whose
/// public key is `public_key` (unpadded base64). `M_INVALID_SIGNATURE` otherwise.
pub(crate) fn verify(
    object: &CanonicalJsonObject,
    signer: &UserId,
    key_id: &str,
    public_key: &str,
) -> Result<()> {
    let invalid = || Error::invalid_signature(format!("Invalid signature by {signer} {key_id}"));
    let sig = signature(object, signer, key_id)
        .ok_or_else(|| Error::invalid_signature(format!("Missing signature by {key_id}")))?;
    let sig = Base64::<Standard>::parse(sig).map_err(|_| invalid())?;
    let key = Base64::<Standard>::parse(public_key).map_err(|_| invalid())?;
    let content = signed_content(object)?;
    verify_canonical_json_bytes(
        &SigningKeyAlgorithm::Ed25519,
        key.as_bytes(),
        sig.as_bytes(),
        content.as_bytes(),
    )
    .map_err(|_| invalid())
}

/// Whether `key` is unpadded base64 of a 32-byte (ed25519 or curve25519) public key.
pub(crate) fn is_public_key(key: &str) -> bool {
    !key.ends_with('=') && Base64::<Standard>::parse(key).is_ok_and(|k| k.as_bytes().len() == 32)
}

#[cfg(test)]
mod tests {
    use ruma::{signatures::Ed25519KeyPair, user_id};

    use super::*;

    #[test]
    fn verifies_only_the_named_signature() {
        let doc = Ed25519KeyPair::generate();
        let pair = Ed25519KeyPair::from_der(&doc, "DEV".into()).unwrap();
        let public = hearth_core::utils::base64_unpadded(&pair.public_key());
        let alice = user_id!("@alice:x");
        let mut object: CanonicalJsonObject =
            serde_json::from_str(r#"{"a": 1, "unsigned": {"b": 2}}"#).unwrap();
        ruma::signatures::sign_json(alice.as_str(), &pair, &mut object).unwrap();
        verify(&object, alice, "ed25519:DEV", &public).unwrap();
        assert!(verify(&object, alice, "ed25519:OTHER", &public).is_err());
        object.insert("a".into(), CanonicalJsonValue::Integer(2u32.into()));
        let err = verify(&object, alice, "ed25519:DEV", &public).unwrap_err();
        assert_eq!(err.errcode(), "M_INVALID_SIGNATURE");
        assert!(is_public_key(&public));
        assert!(!is_public_key("abc"));
    }
}
