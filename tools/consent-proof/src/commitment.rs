//! Salted text commitments: how a proof holds a text without showing it. A message that is
//! not a consent message (a firm's own text, a reply that changed nothing) is given in a proof
//! as `{"commitment": <hex>, "length": <UTF-8 bytes>}` in place of the text, where the
//! commitment is the lowercase hex SHA-256 of the bytes of `consent-text/v1\n`, then the
//! message's 32-byte random salt, then the text in UTF-8. The event's hash covers the
//! commitment, so the proof verifies without the text; the firm holds the salt, so a short text
//! cannot be guessed from its hash, and a text it discloses with its salt can be checked by
//! anyone. A document may carry the texts beside their commitments in an event's `disclosed`
//! member (`{"body": {"text", "salt"}}`), which the event's hash leaves out.

use serde_json::Value;
use sha2::{Digest, Sha256};

pub use crate::chain::DISCLOSED;
use crate::chain::hex;

/// The domain of a text commitment (and the version of its rule).
pub const TEXT_COMMITMENT_DOMAIN: &str = "consent-text/v1";

/// The length of a salt in bytes.
pub const SALT_LEN: usize = 32;

/// The commitment to `text` under `salt`: lowercase hex SHA-256 of
/// `consent-text/v1\n` ‖ salt ‖ UTF-8 of the text.
pub fn commitment_of(salt: &[u8; SALT_LEN], text: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(TEXT_COMMITMENT_DOMAIN.as_bytes());
    hasher.update(b"\n");
    hasher.update(salt);
    hasher.update(text.as_bytes());
    hex(&hasher.finalize())
}

/// A salt written as 64 hex digits (either case); `None` for anything else.
pub fn parse_salt(text: &str) -> Option<[u8; SALT_LEN]> {
    let text = text.trim();
    if text.len() != 2 * SALT_LEN || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut salt = [0u8; SALT_LEN];
    for (i, byte) in salt.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(salt)
}

/// A commitment as a proof holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitment<'a> {
    /// Lowercase hex SHA-256 (64 digits).
    pub digest: &'a str,
    /// The committed text's length in UTF-8 bytes.
    pub length: u64,
}

impl<'a> Commitment<'a> {
    /// `value` read as a commitment: an object of exactly `commitment` (64 lowercase hex
    /// digits) and `length` (a non-negative integer); `None` for anything else.
    pub fn of(value: &'a Value) -> Option<Self> {
        let members = value.as_object()?;
        if members.len() != 2 {
            return None;
        }
        let digest = members.get("commitment")?.as_str()?;
        let well_formed = digest.len() == 64
            && digest
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let length = members.get("length")?.as_u64()?;
        well_formed.then_some(Self { digest, length })
    }

    /// Whether `text` under `salt` is what was committed to; the reason if not.
    pub fn check(&self, text: &str, salt: &[u8; SALT_LEN]) -> Result<(), Mismatch> {
        let length = text.len() as u64;
        if length != self.length {
            return Err(Mismatch::Length {
                disclosed: length,
                committed: self.length,
            });
        }
        if commitment_of(salt, text) != self.digest {
            return Err(Mismatch::Digest);
        }
        Ok(())
    }
}

/// Why a disclosed text does not answer a commitment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    /// The text's length differs from the committed one: another text.
    #[error("the text is {disclosed} bytes long but the commitment is to {committed} bytes")]
    Length {
        /// The disclosed text's length (UTF-8 bytes).
        disclosed: u64,
        /// The committed length.
        committed: u64,
    },
    /// Same length, another hash.
    #[error(
        "the text and salt do not hash to the commitment: a wrong salt, another text, or an altered commitment"
    )]
    Digest,
    /// The member disclosed holds no commitment.
    #[error("that member holds no commitment")]
    NotACommitment,
    /// A disclosure without a text, or with a salt that is not 64 hex digits.
    #[error("the disclosure is not {{\"text\": <string>, \"salt\": <64 hex digits>}}")]
    Malformed,
}

/// Checks the `disclosed` member of `event` against its commitments: each entry names the
/// member holding the commitment and gives `{"text", "salt"}`. Returns the member and the
/// reason of every one that does not match (`disclosed` absent: nothing to check).
pub fn check_disclosed(event: &Value) -> Vec<(String, Mismatch)> {
    let Some(disclosed) = event.get(DISCLOSED) else {
        return Vec::new();
    };
    let Some(entries) = disclosed.as_object() else {
        return vec![(DISCLOSED.to_string(), Mismatch::Malformed)];
    };
    let mut found = Vec::new();
    for (member, entry) in entries {
        let text = entry.get("text").and_then(Value::as_str);
        let salt = entry
            .get("salt")
            .and_then(Value::as_str)
            .and_then(parse_salt);
        let (Some(text), Some(salt)) = (text, salt) else {
            found.push((member.clone(), Mismatch::Malformed));
            continue;
        };
        let outcome = match event.get(member).and_then(Commitment::of) {
            Some(commitment) => commitment.check(text, &salt),
            None => Err(Mismatch::NotACommitment),
        };
        if let Err(reason) = outcome {
            found.push((member.clone(), reason));
        }
    }
    found
}

/// The commitments an event holds, by member name (its top-level members only: that is where
/// the service writes them).
pub fn commitments(event: &Value) -> Vec<(&str, Commitment<'_>)> {
    event
        .as_object()
        .map(|members| {
            members
                .iter()
                .filter_map(|(name, value)| Commitment::of(value).map(|c| (name.as_str(), c)))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_commitment_is_over_the_domain_the_salt_and_the_text() {
        let salt = [7u8; SALT_LEN];
        let mut input = b"consent-text/v1\n".to_vec();
        input.extend_from_slice(&salt);
        input.extend_from_slice("ok é".as_bytes());
        assert_eq!(
            commitment_of(&salt, "ok é"),
            crate::chain::sha256_hex(&input)
        );
        assert_ne!(commitment_of(&salt, "ok"), commitment_of(&[8; 32], "ok"));
    }

    #[test]
    fn only_a_well_formed_object_is_a_commitment() {
        let digest = "ab".repeat(32);
        assert!(Commitment::of(&json!({"commitment": digest, "length": 2})).is_some());
        assert!(
            Commitment::of(&json!({"commitment": digest.to_uppercase(), "length": 2})).is_none()
        );
        assert!(Commitment::of(&json!({"commitment": digest, "length": -1})).is_none());
        assert!(Commitment::of(&json!({"commitment": digest, "length": 2, "x": 1})).is_none());
        assert!(Commitment::of(&json!("text")).is_none());
    }

    #[test]
    fn salts_are_64_hex_digits() {
        assert_eq!(parse_salt(&"0A".repeat(32)), Some([10; 32]));
        assert_eq!(parse_salt(&"0".repeat(63)), None);
        assert_eq!(parse_salt(&"g".repeat(64)), None);
        assert_eq!(parse_salt("é"), None);
    }
}
