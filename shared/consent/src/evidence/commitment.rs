//! Privileged texts as salted commitments (DESIGN §8). A proof gives consent messages in full;
//! every other text (a firm's own message, a reply that changed nothing) it gives as
//! `{"commitment", "length"}`: SHA-256 over `consent-text/v1\n`, a random per-message salt and
//! the text ([`consent_proof::commitment`]). The salt is drawn when the event is built and kept
//! with it in the store (the firm's copy), never in a default proof, so a short text ("ok")
//! cannot be guessed from its hash. The chain hashes the committed form, so the proof verifies
//! with or without the texts.
//!
//! Which texts are consent messages is decided once, by the event's kind
//! ([`crate::evidence::audit::AuditKind::private_text`]).

use std::fmt;

use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use consent_proof::commitment::{
    Commitment, DISCLOSED, Mismatch, SALT_LEN, TEXT_COMMITMENT_DOMAIN, commitment_of, parse_salt,
};

use consent_proof::chain::hex;

/// A message's random salt: 32 bytes, written as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TextSalt([u8; SALT_LEN]);

impl TextSalt {
    /// A fresh salt from the thread's CSPRNG (ChaCha12 seeded from the OS), the generator the
    /// event ids already draw from.
    pub fn fresh() -> Self {
        let mut bytes = [0u8; SALT_LEN];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// A salt from its 32 bytes.
    pub fn from_bytes(bytes: [u8; SALT_LEN]) -> Self {
        Self(bytes)
    }

    /// Its 32 bytes.
    pub fn bytes(&self) -> &[u8; SALT_LEN] {
        &self.0
    }

    /// Its 64 lowercase hex digits, as the firm's copy shows it.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// The commitment to `text` under this salt, as an event carries it in place of the text.
    pub fn commit(&self, text: &str) -> TextCommitment {
        TextCommitment {
            commitment: commitment_of(&self.0, text),
            length: text.len(),
        }
    }
}

/// Never shows the salt in logs: with it, a short text could be found from its commitment.
impl fmt::Debug for TextSalt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TextSalt(..)")
    }
}

impl Serialize for TextSalt {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for TextSalt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_salt(&text)
            .map(Self)
            .ok_or_else(|| serde::de::Error::custom("a salt is 64 hex digits"))
    }
}

/// A text's commitment as an event carries it: `{"commitment": <hex>, "length": <UTF-8 bytes>}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TextCommitment {
    /// Lowercase hex SHA-256 of `consent-text/v1\n` ‖ salt ‖ UTF-8 text.
    pub commitment: String,
    /// The text's length in UTF-8 bytes.
    pub length: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salts_are_fresh_and_round_trip_as_hex() {
        let (a, b) = (TextSalt::fresh(), TextSalt::fresh());
        assert_ne!(a, b);
        let json = serde_json::to_value(a).unwrap();
        assert_eq!(json.as_str().map(str::len), Some(64));
        assert_eq!(serde_json::from_value::<TextSalt>(json).unwrap(), a);
        assert!(serde_json::from_value::<TextSalt>("00".into()).is_err());
        assert!(!format!("{a:?}").contains(&a.to_hex()));
    }

    #[test]
    fn a_commitment_checks_with_its_salt_only() {
        let salt = TextSalt::fresh();
        let committed = serde_json::to_value(salt.commit("I had two beers")).unwrap();
        let commitment = Commitment::of(&committed).unwrap();
        assert_eq!(commitment.check("I had two beers", salt.bytes()), Ok(()));
        assert_eq!(
            commitment.check("I had two beers", TextSalt::fresh().bytes()),
            Err(Mismatch::Digest)
        );
        assert!(matches!(
            commitment.check("I had one beer", salt.bytes()),
            Err(Mismatch::Length { .. })
        ));
    }
}
