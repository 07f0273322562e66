//! The verifier: checks every hash, every link, the head and the signature, and says exactly
//! what is wrong and where.

use crate::PROOF_FORMAT;
use crate::keys::{parse_public_key, signing_input};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;

use crate::chain;
use crate::commitment::{Mismatch, check_disclosed};

/// The member marking an event shown with part of its content withheld.
pub const WITHHELD: &str = "withheld";

/// The one reason content may be withheld: an `email_sent` event's confirmation link from
/// before v2 links, live until it expires, which the event's hash covers.
pub const LEGACY_CONFIRMATION_LINK: &str = "legacy_confirmation_link";

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
    /// A text disclosed beside its commitment (`disclosed`) does not answer it.
    #[error("{event}: the disclosed {member} does not match its commitment: {reason}")]
    Disclosure {
        /// The event, as `event 3 (01K…)` or `unchained event 1 (01K…)`.
        event: String,
        /// The member holding the commitment.
        member: String,
        /// Why it does not match.
        reason: Mismatch,
    },
    /// An event is marked `withheld` where nothing may be: only an `email_sent` event's
    /// confirmation link from before v2 links is.
    #[error(
        "{event}: marked withheld, which only an email_sent event's legacy confirmation link may be: its content cannot go unchecked"
    )]
    Withholding {
        /// The event, as `event 3 (01K…)`.
        event: String,
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
    /// A member appears twice in one object: parsers disagree on which one counts.
    #[error("{path} appears more than once in its object: JSON parsers disagree on which counts")]
    DuplicateMember {
        /// Where, as `$.events[3].type`.
        path: String,
    },
    /// A number outside ±(2^53−1), which JSON parsers may read differently.
    #[error("{path} is a number outside ±(2^53-1), which JSON parsers may read differently")]
    UnsafeNumber {
        /// Where, as `$.chain.length`.
        path: String,
    },
    /// A problem of the firm's own chain (`firm_chain`), named as in a number's chain.
    #[error("the firm's chain: {0}")]
    FirmChain(Box<Problem>),
    /// `firm_chain.genesis` is not the genesis of the document's firm.
    #[error("its genesis is not the one of this firm")]
    FirmGenesisMismatch,
    /// The first event of the firm's chain does not link to the firm's genesis.
    #[error(
        "event 1 ({id}): prev_hash is not the start of this firm's chain: events are missing before it, or it belongs to another firm"
    )]
    NotFirmGenesis {
        /// The event's id.
        id: String,
    },
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

/// Checks that `chain.head` is the last event's hash and `chain.length` the number of events
/// (`length_name` names the length member in a problem).
pub(super) fn check_head(
    chain: Option<&Value>,
    length_name: &str,
    events: &[Value],
    problems: &mut Vec<Problem>,
) {
    let last = events
        .last()
        .and_then(|e| e.get("hash"))
        .and_then(Value::as_str);
    let head = chain.and_then(|c| c.get("head"));
    let head_ok = match (head, last) {
        (Some(Value::String(head)), Some(last)) => head == last,
        (None | Some(Value::Null), None) => events.is_empty(),
        _ => false,
    };
    if !head_ok {
        problems.push(Problem::HeadMismatch);
    }
    match chain.and_then(|c| c.get("length")).and_then(Value::as_u64) {
        Some(declared) if usize::try_from(declared).is_ok_and(|d| d == events.len()) => {}
        Some(declared) => problems.push(Problem::LengthMismatch {
            declared,
            found: events.len(),
        }),
        None => problems.push(Problem::Malformed(format!(
            "{length_name} is missing or not a number"
        ))),
    }
}

/// Checks unchained events: no link, and a hash that matches. Returns the position and id of
/// each one without a hash (recorded before its trail was hash-chained).
pub(super) fn check_unchained(
    unchained: &[Value],
    problems: &mut Vec<Problem>,
    withheld: &mut Vec<String>,
) -> Vec<(usize, String)> {
    let mut hashless = Vec::new();
    for (i, event) in unchained.iter().enumerate() {
        let position = i + 1;
        let id = event_id(event);
        if event.get("prev_hash").is_some_and(|p| !p.is_null()) {
            problems.push(Problem::UnchainedWithLink {
                position,
                id: id.clone(),
            });
        }
        disclosures(
            event,
            || format!("unchained event {position} ({id})"),
            problems,
        );
        let name = || format!("unchained event {position} ({id})");
        match (
            event.get("hash").and_then(Value::as_str),
            withholding(event),
        ) {
            (Some(_), Some(true)) => withheld.push(name()),
            (_, Some(false)) => problems.push(Problem::Withholding { event: name() }),
            (Some(hash), None) if hash == chain::event_hash(event) => {}
            (Some(_), None) => problems.push(Problem::UnchainedHashMismatch { position, id }),
            (None, _) => hashless.push((position, id)),
        }
    }
    hashless
}

/// Whether `event` is shown with content withheld (`Some`), and if so whether that is the one
/// allowed case: an `email_sent` event holding a confirmation link from before v2 links.
fn withholding(event: &Value) -> Option<bool> {
    let reason = event.get(WITHHELD)?;
    Some(
        reason.as_str() == Some(LEGACY_CONFIRMATION_LINK)
            && event.get("type").and_then(Value::as_str) == Some("email_sent"),
    )
}

/// Checks every chained event's hash and its link to the one before; the events shown with a
/// legacy link withheld, whose hash cannot be recomputed, are named in `withheld`.
pub(super) fn check_chain(
    events: &[Value],
    genesis: &str,
    problems: &mut Vec<Problem>,
    withheld: &mut Vec<String>,
) {
    let hashes: Vec<Option<&str>> = events
        .iter()
        .map(|e| e.get("hash").and_then(Value::as_str))
        .collect();
    for (i, event) in events.iter().enumerate() {
        let position = i + 1;
        let id = event_id(event);
        disclosures(event, || format!("event {position} ({id})"), problems);
        match (hashes[i], withholding(event)) {
            (None, _) => problems.push(Problem::MissingHash {
                position,
                id: id.clone(),
            }),
            (Some(_), Some(true)) => withheld.push(format!("event {position} ({id})")),
            (Some(_), Some(false)) => problems.push(Problem::Withholding {
                event: format!("event {position} ({id})"),
            }),
            (Some(hash), None) if hash != chain::event_hash(event) => {
                problems.push(Problem::HashMismatch {
                    position,
                    id: id.clone(),
                });
            }
            (Some(_), None) => {}
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

/// Checks the texts an event discloses against its commitments (`name` names the event).
fn disclosures(event: &Value, name: impl Fn() -> String, problems: &mut Vec<Problem>) {
    for (member, reason) in check_disclosed(event) {
        problems.push(Problem::Disclosure {
            event: name(),
            member: shown(&member),
            reason,
        });
    }
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

/// `document[name]` as a list; a problem if it is missing or not a list.
pub(super) fn list<'a>(
    document: &'a Value,
    name: &str,
    problems: &mut Vec<Problem>,
) -> &'a [Value] {
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

pub(super) fn event_id(event: &Value) -> String {
    event
        .get("id")
        .and_then(Value::as_str)
        .map_or_else(|| "no id".to_string(), shown)
}

/// A value from the document, safe to print: control characters replaced, length capped (a
/// tampered document must not be able to write to the reader's terminal).
pub(super) fn shown(text: &str) -> String {
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

    #[test]
    fn shown_values_cannot_drive_a_terminal() {
        assert_eq!(shown("a\u{1b}[2Jb"), "a?[2Jb");
        assert_eq!(shown(&"x".repeat(100)).chars().count(), 81);
    }
}
