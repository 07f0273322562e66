//! The service's proof key: signs the canonical form of proof documents and bundle manifests.

use super::SIGNATURE_ALGORITHM;
use super::document::{ProofDocument, ProofPublicKey, json_of};
use consent_proof::keys::{ProofKeyError, decode_32, signing_input};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signer, SigningKey};

use crate::evidence::chain;

/// The service's proof key: signs proof documents. Its debug output never shows the key.
pub struct ProofSigner {
    key_id: String,
    key: SigningKey,
}

impl std::fmt::Debug for ProofSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProofSigner")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl ProofSigner {
    /// A signer from a 32-byte Ed25519 seed (the private key), named `key_id`.
    pub fn from_seed(key_id: &str, seed: [u8; 32]) -> Result<Self, ProofKeyError> {
        let valid = !key_id.is_empty()
            && key_id.len() <= 64
            && key_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if !valid {
            return Err(ProofKeyError::BadKeyId);
        }
        Ok(Self {
            key_id: key_id.to_string(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// A signer from `kid:seed`, or a bare `seed` (the key id is then derived from the public
    /// key: `ed25519-` and the first 16 hex digits of its SHA-256). The seed is the 32 bytes in
    /// base64 (44 characters) or in hex (64 digits, which a secret generator can write).
    pub fn from_spec(spec: &str) -> Result<Self, ProofKeyError> {
        let spec = spec.trim();
        let (key_id, seed) = match spec.split_once(':') {
            Some((key_id, seed)) => (Some(key_id.trim()), seed.trim()),
            None => (None, spec),
        };
        let seed: [u8; 32] = decode_32(seed).ok_or(ProofKeyError::BadSeed)?;
        match key_id {
            Some(key_id) => Self::from_seed(key_id, seed),
            None => {
                let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
                let fingerprint = chain::sha256_hex(&public);
                Self::from_seed(&format!("ed25519-{}", &fingerprint[..16]), seed)
            }
        }
    }

    /// The key id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The public half, as documents and `GET /v1/proof-key` show it.
    pub fn public_key(&self) -> ProofPublicKey {
        ProofPublicKey {
            algorithm: SIGNATURE_ALGORITHM.to_string(),
            key_id: self.key_id.clone(),
            public_key: BASE64.encode(self.key.verifying_key().to_bytes()),
        }
    }

    /// The public key's 32 bytes in lowercase hex.
    pub fn public_key_hex(&self) -> String {
        chain::hex(&self.key.verifying_key().to_bytes())
    }

    /// Signs `document`: sets its signer to this key and its signature over the canonical
    /// JSON of the document without the `signature` member.
    pub fn sign(&self, mut document: ProofDocument) -> ProofDocument {
        document.signer = Some(self.public_key());
        document.signature = None;
        document.signature = Some(self.signature_of(&json_of(&document)));
        document
    }

    /// Signs a proof document given as JSON (as served, in whichever form of its texts):
    /// sets its `signer` to this key and its `signature` over the rest. What a proof read back
    /// from its JSON is re-signed with, since its committed texts cannot be read back into
    /// events.
    pub fn sign_json(&self, mut document: serde_json::Value) -> serde_json::Value {
        if let Some(members) = document.as_object_mut() {
            members.remove("signature");
            members.insert("signer".to_string(), json_of(&self.public_key()));
        }
        let signature = self.signature_of(&document);
        if let Some(members) = document.as_object_mut() {
            members.insert("signature".to_string(), signature.into());
        }
        document
    }

    /// Base64 of the signature over the canonical JSON of `unsigned` without its `signature`
    /// member (proof documents and bundle manifests alike; their `format` tells them apart).
    pub(super) fn signature_of(&self, unsigned: &serde_json::Value) -> String {
        let message = signing_input(unsigned);
        BASE64.encode(self.key.sign(message.as_bytes()).to_bytes())
    }
}
