//! Proof documents: a number's whole paper trail at one firm, its hash chain, and an Ed25519
//! signature by the service's proof key, in a form anyone can check with the public key alone
//! (the format is described in `docs/proof-format.md`).
//!
//! Building, signing and verifying are pure functions here, so the service, the `consent-proof`
//! command and the tests share one implementation.

use std::collections::{HashMap, HashSet};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::AuditEvent;
use crate::canonical::canonical_json;
use crate::chain;
use crate::firm::Firm;
use crate::record::{ConsentBasis, ConsentRecord, ConsentStatus};

/// The `format` of a proof document of this version.
pub const PROOF_FORMAT: &str = "consent-proof/v1";
/// The signature algorithm.
pub const SIGNATURE_ALGORITHM: &str = "Ed25519";
/// The hash of the chain.
pub const HASH_ALGORITHM: &str = "SHA-256";
/// The canonical form that hashes and the signature are computed over.
pub const CANONICALIZATION: &str = "RFC 8785 (JCS)";

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
        let message = signing_input(&json_of(&document));
        let signature = self.key.sign(message.as_bytes());
        document.signature = Some(BASE64.encode(signature.to_bytes()));
        document
    }
}

/// A public key as documents name their signer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofPublicKey {
    /// Always `Ed25519`.
    pub algorithm: String,
    /// The key id.
    pub key_id: String,
    /// The 32-byte public key, base64 (standard alphabet, padded).
    pub public_key: String,
}

/// The firm a proof is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofFirm {
    /// The firm's id.
    pub firm_id: String,
    /// Its business name.
    pub name: String,
    /// The number it texts from.
    pub sms_number: String,
    /// Its double opt-in setting when the proof was made (each send records the one in force).
    pub double_opt_in: bool,
}

/// Where the number stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofConsent {
    /// The status now.
    pub status: ConsentStatus,
    /// Why.
    pub basis: ConsentBasis,
    /// Since when (the time of the event that set the status).
    pub since: DateTime<Utc>,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// The record's version the proof was made from.
    pub record_version: u64,
}

/// How the chain is built, and where it starts and ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofChain {
    /// Always `SHA-256`.
    pub hash_algorithm: String,
    /// Always `RFC 8785 (JCS)`.
    pub canonicalization: String,
    /// What the first event links to: SHA-256 of `consent-chain/v1\n<firm_id>\n<phone>`.
    pub genesis: String,
    /// The hash of the newest event, as the consent record keeps it.
    pub head: Option<String>,
    /// How many events the chain has.
    pub length: usize,
}

/// A proof of consent: the trail of one number at one firm, signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofDocument {
    /// Always [`PROOF_FORMAT`].
    pub format: String,
    /// When the document was made.
    pub generated_at: DateTime<Utc>,
    /// The firm.
    pub firm: ProofFirm,
    /// The number, E.164.
    pub phone: String,
    /// The current status and basis.
    pub consent: ProofConsent,
    /// The chain's parameters, genesis and head.
    pub chain: ProofChain,
    /// Every chained event, oldest first (chain order), with its evidence and hashes.
    pub events: Vec<AuditEvent>,
    /// Events recorded while the number had no consent record (or before the chain existed):
    /// each has a hash of its content but no link, so their completeness rests on the
    /// signature alone.
    pub unchained_events: Vec<AuditEvent>,
    /// The key that signed the document.
    pub signer: Option<ProofPublicKey>,
    /// Ed25519 signature, base64, over the canonical JSON of the document without this member.
    pub signature: Option<String>,
}

impl ProofDocument {
    /// The document as JSON.
    pub fn to_json(&self) -> Value {
        json_of(self)
    }
}

/// Serializes a model type; cannot fail for the types here (string keys, no custom
/// serializers). Were it ever to, the signature over it would not verify, so it would not pass
/// unnoticed.
fn json_of<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The unsigned proof of `record`'s number at `firm`, from its stored `events` (any order).
pub fn build_proof(
    firm: &Firm,
    record: &ConsentRecord,
    events: Vec<AuditEvent>,
    generated_at: DateTime<Utc>,
) -> ProofDocument {
    let phone = record.phone.as_str();
    let genesis = chain::genesis(&firm.firm_id, phone);
    let (chained, mut unchained): (Vec<_>, Vec<_>) =
        events.into_iter().partition(|e| e.prev_hash.is_some());
    unchained.sort_by(|a, b| a.id.cmp(&b.id));
    let chained = chain_order(chained, record.audit_head.as_deref(), &genesis);
    ProofDocument {
        format: PROOF_FORMAT.to_string(),
        generated_at,
        firm: ProofFirm {
            firm_id: firm.firm_id.clone(),
            name: firm.name.clone(),
            sms_number: firm.sms_number.to_string(),
            double_opt_in: firm.double_opt_in,
        },
        phone: phone.to_string(),
        consent: ProofConsent {
            status: record.status,
            basis: record.basis,
            since: record.status_changed_at,
            created_at: record.created_at,
            record_version: record.version,
        },
        chain: ProofChain {
            hash_algorithm: HASH_ALGORITHM.to_string(),
            canonicalization: CANONICALIZATION.to_string(),
            genesis,
            head: record.audit_head.clone(),
            length: chained.len(),
        },
        events: chained,
        unchained_events: unchained,
        signer: None,
        signature: None,
    }
}

/// The chained events in chain order, found by walking back from the head. If the stored
/// events do not form exactly one chain from the genesis to the head (something was changed
/// or removed in the store), they are given in id (time) order instead, so that the verifier
/// reports where the chain breaks rather than the proof hiding it.
fn chain_order(mut events: Vec<AuditEvent>, head: Option<&str>, genesis: &str) -> Vec<AuditEvent> {
    events.sort_by(|a, b| a.id.cmp(&b.id));
    let by_hash: HashMap<&str, usize> = events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| e.hash.as_deref().map(|h| (h, i)))
        .collect();
    let mut order = Vec::new();
    let mut seen = HashSet::new();
    let mut current = head;
    let complete = loop {
        match current {
            Some(hash) if hash == genesis => break true,
            Some(hash) => match by_hash.get(hash) {
                Some(&i) if seen.insert(i) => {
                    order.push(i);
                    current = events[i].prev_hash.as_deref();
                }
                _ => break false,
            },
            None => break events.is_empty(),
        }
    };
    if !complete || order.len() != events.len() {
        return events;
    }
    let mut slots: Vec<Option<AuditEvent>> = events.into_iter().map(Some).collect();
    order
        .into_iter()
        .rev()
        .filter_map(|i| slots.get_mut(i).and_then(Option::take))
        .collect()
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
fn decode_32(text: &str) -> Option<[u8; 32]> {
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()
    } else {
        BASE64.decode(text).ok()
    };
    bytes.and_then(|b| b.try_into().ok())
}

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

/// Something that makes a proof invalid, saying exactly what and where. Positions count from 1
/// in document order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// A member is missing or has the wrong type.
    #[error("{0}")]
    Malformed(String),
    /// A chained event has no `hash`.
    #[error("event {position} ({id}): has no hash")]
    MissingHash {
        /// Position in `events`.
        position: usize,
        /// The event's id.
        id: String,
    },
    /// A chained event's `hash` is not the hash of its content.
    #[error("event {position} ({id}): hash does not match its content")]
    HashMismatch {
        /// Position in `events`.
        position: usize,
        /// The event's id.
        id: String,
    },
    /// A chained event has no `prev_hash`.
    #[error("event {position} ({id}): has no prev_hash")]
    MissingLink {
        /// Position in `events`.
        position: usize,
        /// The event's id.
        id: String,
    },
    /// The first event does not link to the genesis of this firm and number.
    #[error(
        "event 1 ({id}): prev_hash is not the start of this firm and number's chain: events are missing before it, or it belongs to another trail"
    )]
    NotGenesis {
        /// The event's id.
        id: String,
    },
    /// An event links to no event of the document.
    #[error(
        "event missing between event {previous} ({previous_id}) and event {position} ({id}): event {position}'s prev_hash does not link to event {previous}, or event {previous} was changed"
    )]
    Gap {
        /// Position of the event whose link is broken.
        position: usize,
        /// Its id.
        id: String,
        /// Position of the event before it.
        previous: usize,
        /// That event's id.
        previous_id: String,
    },
    /// An event links to another event than the one before it.
    #[error(
        "event {position} ({id}): prev_hash does not link to event {previous} but to event {links_to}: the events are out of order"
    )]
    OutOfOrder {
        /// Position of the event.
        position: usize,
        /// Its id.
        id: String,
        /// Position of the event before it.
        previous: usize,
        /// Position of the event it links to.
        links_to: usize,
    },
    /// `chain.genesis` is not the genesis of the document's firm and number.
    #[error("the chain's genesis is not the one of this firm and number")]
    GenesisMismatch,
    /// `chain.head` is not the last event's hash.
    #[error(
        "the chain's head is not the hash of the last event: events are missing at the end, or the head was changed"
    )]
    HeadMismatch,
    /// `chain.length` is not the number of events.
    #[error("the chain declares {declared} events but the document has {found}")]
    LengthMismatch {
        /// `chain.length`.
        declared: u64,
        /// Events in the document.
        found: usize,
    },
    /// An unchained event's `hash` is not the hash of its content.
    #[error("unchained event {position} ({id}): hash does not match its content")]
    UnchainedHashMismatch {
        /// Position in `unchained_events`.
        position: usize,
        /// The event's id.
        id: String,
    },
    /// An unchained event has a `prev_hash`: it was taken out of the chain.
    #[error("unchained event {position} ({id}): has a prev_hash, so it belongs in the chain")]
    UnchainedWithLink {
        /// Position in `unchained_events`.
        position: usize,
        /// The event's id.
        id: String,
    },
    /// No signature or no signer.
    #[error("the document is not signed")]
    Unsigned,
    /// The signer's public key is not a valid Ed25519 key.
    #[error("the signer's public key is not a valid Ed25519 key")]
    BadPublicKey,
    /// The document names another key than the pinned one.
    #[error("the document is signed by key {key_id} ({public_key}), not by the pinned public key")]
    KeyNotPinned {
        /// The document's key id.
        key_id: String,
        /// The document's public key.
        public_key: String,
    },
    /// The signature does not verify with the key.
    #[error(
        "signature does not verify: the document was changed after it was signed, or another key signed it"
    )]
    BadSignature,
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

    let events = list(document, "events", &mut problems);
    check_chain(events, &genesis, &mut problems);
    let last = events
        .last()
        .and_then(|e| e.get("hash"))
        .and_then(Value::as_str);
    let head = document.get("chain").and_then(|c| c.get("head"));
    let head_ok = match (head, last) {
        (Some(Value::String(head)), Some(last)) => head == last,
        (None | Some(Value::Null), None) => events.is_empty(),
        _ => false,
    };
    if !head_ok {
        problems.push(Problem::HeadMismatch);
    }
    match document
        .get("chain")
        .and_then(|c| c.get("length"))
        .and_then(Value::as_u64)
    {
        Some(declared) if usize::try_from(declared).is_ok_and(|d| d == events.len()) => {}
        Some(declared) => problems.push(Problem::LengthMismatch {
            declared,
            found: events.len(),
        }),
        None => problems.push(Problem::Malformed(
            "chain.length is missing or not a number".to_string(),
        )),
    }

    let unchained = list(document, "unchained_events", &mut problems);
    for (i, event) in unchained.iter().enumerate() {
        let position = i + 1;
        let id = event_id(event);
        if event.get("prev_hash").is_some_and(|p| !p.is_null()) {
            problems.push(Problem::UnchainedWithLink {
                position,
                id: id.clone(),
            });
        }
        match event.get("hash").and_then(Value::as_str) {
            Some(hash) if hash == chain::event_hash(event) => {}
            Some(_) => problems.push(Problem::UnchainedHashMismatch { position, id }),
            None => warnings.push(format!(
                "unchained event {position} ({id}) has no hash: it was recorded before the \
                 trail was hash-chained, so nothing but the signature shows it unchanged"
            )),
        }
    }
    let (chained, unchained) = (events.len(), unchained.len());
    Ok(finish(
        problems, warnings, document, pinned, chained, unchained,
    ))
}

/// Checks every chained event's hash and its link to the one before.
fn check_chain(events: &[Value], genesis: &str, problems: &mut Vec<Problem>) {
    let hashes: Vec<Option<&str>> = events
        .iter()
        .map(|e| e.get("hash").and_then(Value::as_str))
        .collect();
    for (i, event) in events.iter().enumerate() {
        let position = i + 1;
        let id = event_id(event);
        match hashes[i] {
            None => problems.push(Problem::MissingHash {
                position,
                id: id.clone(),
            }),
            Some(hash) if hash != chain::event_hash(event) => {
                problems.push(Problem::HashMismatch {
                    position,
                    id: id.clone(),
                });
            }
            Some(_) => {}
        }
        let Some(prev) = event.get("prev_hash").and_then(Value::as_str) else {
            problems.push(Problem::MissingLink { position, id });
            continue;
        };
        let expected = if i == 0 { Some(genesis) } else { hashes[i - 1] };
        if expected == Some(prev) {
            continue;
        }
        let links_to = hashes.iter().position(|h| *h == Some(prev));
        problems.push(match (i, links_to) {
            (_, Some(j)) if i > 0 => Problem::OutOfOrder {
                position,
                id,
                previous: i,
                links_to: j + 1,
            },
            (0, _) => Problem::NotGenesis { id },
            _ => Problem::Gap {
                position,
                id,
                previous: i,
                previous_id: event_id(&events[i - 1]),
            },
        });
    }
}

/// Adds the signature check and assembles the result.
fn finish(
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
    }
}

fn signature_verifies(key: &[u8; 32], signature: &str, document: &Value) -> bool {
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

/// `document[name]` as a list; a problem if it is missing or not a list.
fn list<'a>(document: &'a Value, name: &str, problems: &mut Vec<Problem>) -> &'a [Value] {
    match document.get(name) {
        Some(Value::Array(items)) => items,
        _ => {
            problems.push(Problem::Malformed(format!(
                "{name} is missing or not a list"
            )));
            &[]
        }
    }
}

fn event_id(event: &Value) -> String {
    event
        .get("id")
        .and_then(Value::as_str)
        .map_or_else(|| "no id".to_string(), shown)
}

/// A value from the document, safe to print: control characters replaced, length capped (a
/// tampered document must not be able to write to the reader's terminal).
fn shown(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(80)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().count() > 80 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditKind;
    use crate::phone::PhoneNumber;
    use crate::record::Delivery;

    fn record(events: &mut [AuditEvent]) -> ConsentRecord {
        let now = Utc::now();
        let phone = PhoneNumber::parse("+14155550100").unwrap();
        let head = chain::seal("f1", phone.as_str(), None, events);
        ConsentRecord {
            firm_id: "f1".into(),
            phone,
            status: ConsentStatus::OptedIn,
            basis: ConsentBasis::SmsReply,
            version: 3,
            created_at: now,
            status_changed_at: now,
            updated_at: now,
            opt_in_sms: Delivery::NotSent,
            opt_in_email: Delivery::NotSent,
            opt_out_confirmation_sent: false,
            recent_inbound_ids: Vec::new(),
            recent_sends: Vec::new(),
            time_zone: None,
            audit_head: head,
        }
    }

    fn firm() -> Firm {
        let now = Utc::now();
        Firm {
            firm_id: "f1".into(),
            name: "Hartwell & Pine".into(),
            sms_number: PhoneNumber::parse("+12025550100").unwrap(),
            support_email: "help@example.com".into(),
            support_phone: "1".into(),
            website: "https://example.com".into(),
            double_opt_in: true,
            double_opt_in_changed: None,
            time_zone: None,
            send_window: None,
            limits: Default::default(),
            templates: Default::default(),
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    fn skipped(reason: &str) -> AuditEvent {
        AuditEvent::new(
            Utc::now(),
            AuditKind::EmailSkipped {
                reason: reason.into(),
            },
        )
    }

    fn signer() -> ProofSigner {
        ProofSigner::from_seed("t1", [3; 32]).unwrap()
    }

    fn signed_proof() -> Value {
        let mut events = vec![skipped("a"), skipped("b"), skipped("c")];
        let record = record(&mut events);
        let mut stray = vec![skipped("stray")];
        chain::seal_unchained(&mut stray);
        let mut all = events;
        all.reverse();
        all.extend(stray);
        signer()
            .sign(build_proof(&firm(), &record, all, Utc::now()))
            .to_json()
    }

    #[test]
    fn a_built_proof_verifies_in_chain_order() {
        let proof = signed_proof();
        let result = verify(&proof, None).unwrap();
        assert!(result.is_valid(), "{:?}", result.problems);
        assert_eq!((result.chained, result.unchained), (3, 1));
        assert_eq!(result.key_id.as_deref(), Some("t1"));
        let reasons: Vec<&str> = proof["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["reason"].as_str().unwrap())
            .collect();
        assert_eq!(reasons, ["a", "b", "c"]);
        // Pinned to its own key: valid; to another: not.
        let own = parse_public_key(&signer().public_key().public_key).unwrap();
        assert!(verify(&proof, Some(&own)).unwrap().is_valid());
        let other = parse_public_key(&signer().public_key_hex()).unwrap();
        assert_eq!(own, other);
        let stranger = ProofSigner::from_seed("t2", [4; 32]).unwrap().public_key();
        let stranger = parse_public_key(&stranger.public_key).unwrap();
        let pinned = verify(&proof, Some(&stranger)).unwrap();
        assert!(
            pinned
                .problems
                .iter()
                .any(|p| matches!(p, Problem::KeyNotPinned { .. }))
        );
        assert!(pinned.problems.contains(&Problem::BadSignature));
    }

    #[test]
    fn a_broken_store_chain_is_shown_in_id_order_and_fails() {
        let mut events = vec![skipped("a"), skipped("b"), skipped("c")];
        let record = record(&mut events);
        events.remove(1);
        let proof = signer()
            .sign(build_proof(&firm(), &record, events, Utc::now()))
            .to_json();
        let result = verify(&proof, None).unwrap();
        assert!(
            result
                .problems
                .iter()
                .any(|p| matches!(p, Problem::Gap { position: 2, .. })),
            "{:?}",
            result.problems
        );
    }

    #[test]
    fn tampering_is_named() {
        let proof = signed_proof();
        let check = |mutate: &dyn Fn(&mut Value)| {
            let mut copy = proof.clone();
            mutate(&mut copy);
            verify(&copy, None)
                .unwrap()
                .problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        let edited = check(&|d| d["events"][1]["reason"] = "x".into());
        assert!(
            edited.contains(&format!(
                "event 2 ({}): hash does not match its content",
                proof["events"][1]["id"].as_str().unwrap()
            )),
            "{edited:?}"
        );
        assert!(
            edited
                .iter()
                .any(|p| p.starts_with("signature does not verify"))
        );
        let dropped = check(&|d| {
            d["events"].as_array_mut().unwrap().remove(1);
        });
        assert!(
            dropped
                .iter()
                .any(|p| p.starts_with("event missing between event 1")),
            "{dropped:?}"
        );
        let swapped = check(&|d| d["events"].as_array_mut().unwrap().swap(0, 2));
        assert!(
            swapped.iter().any(|p| p.contains("out of order")),
            "{swapped:?}"
        );
        let truncated = check(&|d| {
            d["events"].as_array_mut().unwrap().pop();
        });
        assert!(
            truncated.iter().any(|p| p.starts_with("the chain's head")),
            "{truncated:?}"
        );
        let stray = check(&|d| d["unchained_events"][0]["reason"] = "y".into());
        assert!(
            stray.iter().any(|p| p.starts_with("unchained event 1")),
            "{stray:?}"
        );
        let unsigned = check(&|d| {
            d.as_object_mut().unwrap().remove("signature");
        });
        assert_eq!(unsigned, ["the document is not signed"]);
    }

    #[test]
    fn not_a_proof() {
        assert_eq!(verify(&Value::Null, None), Err(NotAProof::NotAnObject));
        assert!(matches!(
            verify(&serde_json::json!({"format": "other"}), None),
            Err(NotAProof::UnknownFormat(f)) if f == "other"
        ));
    }

    #[test]
    fn key_specs() {
        let seed = BASE64.encode([9u8; 32]);
        let named = ProofSigner::from_spec(&format!("k7:{seed}")).unwrap();
        assert_eq!(named.key_id(), "k7");
        let bare = ProofSigner::from_spec(&seed).unwrap();
        assert!(bare.key_id().starts_with("ed25519-") && bare.key_id().len() == 24);
        assert_eq!(named.public_key_hex(), bare.public_key_hex());
        let hex = ProofSigner::from_spec(&"09".repeat(32)).unwrap();
        assert_eq!(hex.public_key_hex(), bare.public_key_hex());
        assert_eq!(hex.key_id(), bare.key_id());
        assert_eq!(
            ProofSigner::from_spec("k7:c2hvcnQ=").err(),
            Some(ProofKeyError::BadSeed)
        );
        assert_eq!(
            ProofSigner::from_spec(&format!("bad id:{seed}")).err(),
            Some(ProofKeyError::BadKeyId)
        );
        assert!(!format!("{named:?}").contains(&seed));
        assert_eq!(parse_public_key("zz"), Err(ProofKeyError::BadPublicKey));
    }

    #[test]
    fn shown_values_cannot_drive_a_terminal() {
        assert_eq!(shown("a\u{1b}[2Jb"), "a?[2Jb");
        assert_eq!(shown(&"x".repeat(100)).chars().count(), 81);
    }
}
