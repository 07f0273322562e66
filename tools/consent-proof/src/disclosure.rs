//! `consent-proof verify FILE --disclose TEXT --salt SALT [--event ID]`: whether a text the
//! firm discloses, with its salt, is the one a proof commits to. The proof must verify too: a
//! commitment in a document that does not verify proves nothing.

use serde_json::Value;

use crate::commitment::{Commitment, Mismatch, SALT_LEN, commitments};
use crate::problem::shown;

/// A text and its salt, as the firm discloses them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    /// The text as the firm discloses it, byte for byte as it was sent or received.
    pub text: String,
    /// Its 32-byte salt.
    pub salt: [u8; SALT_LEN],
    /// The event it is said to belong to (its id); any event when `None`.
    pub event_id: Option<String>,
}

/// Where a disclosed text's commitment was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosed {
    /// The event, as `event 4 (01K…)` or `unchained event 1 (01K…)`.
    pub event: String,
    /// The member holding the commitment (`body`, `text`).
    pub member: String,
}

/// Why a disclosed text is not one the proof commits to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotDisclosed {
    /// No event has the id given.
    #[error("the proof has no event {0}")]
    NoSuchEvent(String),
    /// The event named holds no commitment.
    #[error("{0} holds no commitment (its texts, if any, are shown in full)")]
    NoCommitment(String),
    /// The event's commitment is not to this text under this salt.
    #[error("{event}: the {member} commitment does not match: {reason}")]
    Mismatch {
        /// The id of the event named by `--event`.
        event: String,
        /// The committed member of that event (`body`, `text`).
        member: String,
        /// How the commitment differs from this text and salt (length or digest).
        reason: Mismatch,
    },
    /// No commitment of the proof is to this text under this salt.
    #[error(
        "none of the proof's {0} commitments is to this text with this salt: a wrong salt, another text, or an altered commitment"
    )]
    NoMatch(usize),
}

/// Finds the commitment `disclosure` answers in `document` (a proof): in the event it names,
/// or in any event.
pub fn check(document: &Value, disclosure: &Disclosure) -> Result<Disclosed, NotDisclosed> {
    let events = events(document);
    if let Some(wanted) = &disclosure.event_id {
        let (name, event) = events
            .into_iter()
            .find(|(_, e)| e.get("id").and_then(Value::as_str) == Some(wanted))
            .ok_or_else(|| NotDisclosed::NoSuchEvent(shown(wanted)))?;
        let held = commitments(event);
        if held.is_empty() {
            return Err(NotDisclosed::NoCommitment(name));
        }
        let mut last = None;
        for (member, commitment) in held {
            match commitment.check(&disclosure.text, &disclosure.salt) {
                Ok(()) => {
                    return Ok(Disclosed {
                        event: name,
                        member: member.to_string(),
                    });
                }
                Err(reason) => last = Some((member.to_string(), reason)),
            }
        }
        let (member, reason) = last.unwrap_or((String::new(), Mismatch::Digest));
        return Err(NotDisclosed::Mismatch {
            event: name,
            member,
            reason,
        });
    }
    let mut seen = 0;
    for (name, event) in events {
        for (member, commitment) in commitments(event) {
            seen += 1;
            if answers(&commitment, disclosure) {
                return Ok(Disclosed {
                    event: name,
                    member: member.to_string(),
                });
            }
        }
    }
    Err(NotDisclosed::NoMatch(seen))
}

fn answers(commitment: &Commitment<'_>, disclosure: &Disclosure) -> bool {
    commitment.check(&disclosure.text, &disclosure.salt).is_ok()
}

/// Every event of the document with its name, chained first.
fn events(document: &Value) -> Vec<(String, &Value)> {
    let list = |name: &str| {
        document
            .get(name)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
    let id = |event: &Value| {
        event
            .get("id")
            .and_then(Value::as_str)
            .map_or_else(|| "no id".to_string(), shown)
    };
    let chained = list("events")
        .iter()
        .enumerate()
        .map(|(i, e)| (format!("event {} ({})", i + 1, id(e)), e));
    let unchained = list("unchained_events")
        .iter()
        .enumerate()
        .map(|(i, e)| (format!("unchained event {} ({})", i + 1, id(e)), e));
    chained.chain(unchained).collect()
}
