//! The verifier: checks every hash, every link, the head and the signature, and says exactly
//! what is wrong and where.

use crate::PROOF_FORMAT;
use crate::keys::{parse_public_key, signing_input};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;

use crate::chain;
pub use crate::problem::Problem;
use crate::problem::shown;
pub use crate::trail::{LEGACY_CONFIRMATION_LINK, WITHHELD};
use crate::trail::{check_chain, check_head, check_unchained, list};

/// The input is not a proof document at all (as opposed to a proof that does not verify).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAProof {
    /// Not a JSON object.
    #[error("the document is not a JSON object")]
    NotAnObject,
    /// No `format`, or another one.
    #[error("the document is not a {PROOF_FORMAT} document (format: {0})")]
    UnknownFormat(String),
}

/// What verifying a proof found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// What makes it invalid (empty: valid).
    pub problems: Vec<Problem>,
    /// What a reader should know without it being invalid (events recorded before the chain).
    pub warnings: Vec<String>,
    /// The signer's key id, as the document names it.
    pub key_id: Option<String>,
    /// The key the signature was checked with, base64.
    pub public_key: Option<String>,
    /// Chained events.
    pub chained: usize,
    /// Unchained events.
    pub unchained: usize,
    /// Events of the firm's own chain, when the document carries it.
    pub firm_chain: Option<usize>,
}

impl Verification {
    /// Whether the proof is valid: every hash, link, the head and the signature check out.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Verifies a proof document with the public key it names, or with `pinned` (which it must
/// name): every event's hash, every link, the head, and the signature.
pub fn verify(document: &Value, pinned: Option<&[u8; 32]>) -> Result<Verification, NotAProof> {
    let Value::Object(members) = document else {
        return Err(NotAProof::NotAnObject);
    };
    match members.get("format").and_then(Value::as_str) {
        Some(PROOF_FORMAT) => {}
        other => {
            return Err(NotAProof::UnknownFormat(
                other.map_or_else(|| "none".to_string(), shown),
            ));
        }
    }
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let text = |path: &[&str]| -> Option<&str> {
        let mut value = document;
        for key in path {
            value = value.get(key)?;
        }
        value.as_str()
    };

    let (Some(firm_id), Some(phone)) = (text(&["firm", "firm_id"]), text(&["phone"])) else {
        problems.push(Problem::Malformed(
            "the document has no firm.firm_id or no phone".to_string(),
        ));
        return Ok(finish(problems, warnings, document, pinned, 0, 0));
    };
    let genesis = chain::genesis(firm_id, phone);
    if text(&["chain", "genesis"]) != Some(genesis.as_str()) {
        problems.push(Problem::GenesisMismatch);
    }

    let mut withheld = Vec::new();
    let events = list(document, "events", &mut problems);
    check_chain(events, &genesis, &mut problems, &mut withheld);
    check_head(document.get("chain"), "chain.length", events, &mut problems);

    let unchained = list(document, "unchained_events", &mut problems);
    for (position, id) in check_unchained(unchained, &mut problems, &mut withheld) {
        warnings.push(format!(
            "unchained event {position} ({id}) has no hash: it was recorded before the \
             trail was hash-chained, so nothing but the signature shows it unchanged"
        ));
    }
    for event in withheld {
        warnings.push(format!(
            "{event}: its confirmation link, sent before links were opaque, is withheld (shown \
             as its SHA-256); the event's hash was computed over the link, so nothing but the \
             links around it and the signature show it unchanged"
        ));
    }
    let firm_chain =
        crate::firm_chain::check_firm_chain(document, firm_id, &mut problems, &mut warnings);
    let (chained, unchained) = (events.len(), unchained.len());
    let mut verification = finish(problems, warnings, document, pinned, chained, unchained);
    verification.firm_chain = firm_chain;
    Ok(verification)
}

/// Adds the signature check and assembles the result.
pub(super) fn finish(
    mut problems: Vec<Problem>,
    warnings: Vec<String>,
    document: &Value,
    pinned: Option<&[u8; 32]>,
    chained: usize,
    unchained: usize,
) -> Verification {
    let signer = document.get("signer");
    let key_id = signer
        .and_then(|s| s.get("key_id"))
        .and_then(Value::as_str)
        .map(shown);
    let named = signer
        .and_then(|s| s.get("public_key"))
        .and_then(Value::as_str);
    let signature = document.get("signature").and_then(Value::as_str);
    let mut used_key = None;
    match (named, signature) {
        (Some(named), Some(signature)) => {
            let named_key = parse_public_key(named).ok();
            let key = match (pinned, named_key) {
                (Some(pinned), named_key) => {
                    if named_key.as_ref() != Some(pinned) {
                        problems.push(Problem::KeyNotPinned {
                            key_id: key_id.clone().unwrap_or_else(|| "?".to_string()),
                            public_key: shown(named),
                        });
                    }
                    Some(*pinned)
                }
                (None, Some(named_key)) => Some(named_key),
                (None, None) => {
                    problems.push(Problem::BadPublicKey);
                    None
                }
            };
            if let Some(key) = key {
                used_key = Some(BASE64.encode(key));
                if !signature_verifies(&key, signature, document) {
                    problems.push(Problem::BadSignature);
                }
            }
        }
        _ => problems.push(Problem::Unsigned),
    }
    Verification {
        problems,
        warnings,
        key_id,
        public_key: used_key,
        chained,
        unchained,
        firm_chain: None,
    }
}

pub(super) fn signature_verifies(key: &[u8; 32], signature: &str, document: &Value) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(key) else {
        return false;
    };
    let Some(signature) = BASE64
        .decode(signature)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
    else {
        return false;
    };
    let message = signing_input(document);
    // Strict: refuses the malleable and small-order forms a plain check would accept.
    key.verify_strict(message.as_bytes(), &Signature::from_bytes(&signature))
        .is_ok()
}
