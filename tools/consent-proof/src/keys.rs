//! Public keys and what a signature is over: shared by the service's signer and this verifier.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::VerifyingKey;
use serde_json::Value;

use crate::canonical::canonical_json;

/// A proof key is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofKeyError {
    /// The key id has characters outside the safe alphabet, or is too long.
    #[error("a proof key id is 1 to 64 letters, digits, '.', '-' or '_'")]
    BadKeyId,
    /// The seed is not base64 or hex of 32 bytes.
    #[error("a proof key seed is base64 or hex of exactly 32 bytes")]
    BadSeed,
    /// A public key is not base64 or hex of 32 bytes, or not a valid Ed25519 point.
    #[error("a public key is base64 or hex of 32 bytes of a valid Ed25519 key")]
    BadPublicKey,
}

/// The text a signature is over: the canonical JSON of `document` without its `signature`.
pub fn signing_input(document: &Value) -> String {
    match document {
        Value::Object(members) => {
            let mut members = members.clone();
            members.remove("signature");
            canonical_json(&Value::Object(members))
        }
        other => canonical_json(other),
    }
}

/// Parses a public key given as base64 (standard alphabet) or hex of its 32 bytes.
pub fn parse_public_key(text: &str) -> Result<[u8; 32], ProofKeyError> {
    let bytes = decode_32(text.trim()).ok_or(ProofKeyError::BadPublicKey)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| ProofKeyError::BadPublicKey)?;
    Ok(bytes)
}

/// 32 bytes from 64 hex digits or from base64 (which is 44 characters for 32 bytes, so the two
/// never overlap).
pub fn decode_32(text: &str) -> Option<[u8; 32]> {
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()
    } else {
        BASE64.decode(text).ok()
    };
    bytes.and_then(|b| b.try_into().ok())
}
