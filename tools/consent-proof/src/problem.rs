//! What makes a proof invalid, said exactly ([`Problem`]), and how a value from the document
//! is printed without letting it drive the reader's terminal ([`shown`]).

use crate::commitment::Mismatch;

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

/// A value from the document, safe to print: control characters replaced, length capped (a
/// tampered document must not be able to write to the reader's terminal).
pub(crate) fn shown(text: &str) -> String {
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
