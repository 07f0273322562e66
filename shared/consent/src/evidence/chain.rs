//! The hash chain of a number's audit trail: each event carries the hash of the one before it,
//! so no stored event can be edited, removed or reordered without breaking a link.
//!
//! - An event's `hash` is the lowercase hex SHA-256 of the canonical JSON ([`crate::evidence::canonical`])
//!   of the event in its committed form ([`event_json`]: a text that is not a consent message
//!   as its salted commitment, [`crate::evidence::commitment`]), without its `hash` member (its
//!   `prev_hash` included).
//! - The first event of a (firm, number) trail links to the trail's genesis, the hash of
//!   `consent-chain/v1\n<firm_id>\n<phone>`, so a trail cannot be passed off as another
//!   number's; every later event links to the hash of the event before it.
//! - The consent record keeps the hash of the newest event (`audit_head`). Events are appended
//!   in the same conditional write as the record (conditioned on the version read), so two
//!   writers can never both extend the same head: the chain cannot fork.
//! - Events written while the number has no consent record (a send blocked as
//!   `unknown_recipient`, a text from a stranger that changed nothing) have no head to extend
//!   and no version to condition on. They are sealed unchained: `prev_hash` absent, `hash` over
//!   their content. A proof lists them apart; their hash shows an edit, but nothing shows their
//!   removal from the store.
//!
//! - An event holding a value two JSON parsers could read differently (a number outside
//!   ±(2^53−1), a NaN) is not hashed: sealing fails with [`UnhashableEvent`].
//!
//! Sealing happens in one place, [`crate::ports::ConsentWrite::new`], which every consent write
//! goes through. A firm's own events are chained the same way ([`crate::evidence::firm_chain`]).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

pub use consent_proof::chain::{
    CHAIN_DOMAIN, FIRM_CHAIN_DOMAIN, event_hash, firm_genesis, genesis, hex, sha256_hex,
};

use crate::evidence::audit::AuditEvent;
use crate::evidence::canonical::CanonicalError;
use crate::evidence::shown;
use crate::model::phone::PhoneNumber;
use crate::model::record::ConsentRecord;

/// An event the chain refuses to hash: it holds a value two JSON parsers could read differently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {event_id} ({kind}) cannot be hashed: {reason}")]
pub struct UnhashableEvent {
    /// The event's id.
    pub event_id: String,
    /// The event's type name (`message_allowed`, ...).
    pub kind: &'static str,
    /// What the canonical writer refused.
    #[source]
    pub reason: CanonicalError,
}

/// The hash of an event as it would be stored (its `hash` member ignored): the same as
/// [`event_hash`] of [`event_json`], written without the `Value` in between. Refused for an
/// event holding a number outside ±(2^53−1) or a non-finite one.
pub fn hash_of(event: &AuditEvent) -> Result<String, UnhashableEvent> {
    let refused = |reason| UnhashableEvent {
        event_id: event.id.clone(),
        kind: event.type_name(),
        reason,
    };
    match crate::evidence::audit_canonical::without_hash(event) {
        Ok(text) => Ok(sha256_hex(text.as_bytes())),
        // Every value was read and none refused: the `Value` path writes the rest.
        Err(CanonicalError::Unsupported) => serde_json::to_value(event)
            .map(|json| event_hash(&json))
            .map_err(|e| refused(CanonicalError::NotJson(e.to_string()))),
        Err(reason) => Err(refused(reason)),
    }
}

/// An event as JSON in the form the chain hashes: its text that is not a consent message as its
/// commitment, no salt ([`crate::evidence::shown`]; a default proof shows the same, a legacy
/// confirmation link withheld).
pub fn event_json(event: &AuditEvent) -> Value {
    shown::hashed_json(event)
}

/// Chains `events` onto `head` (the trail's genesis when `None`) in order, setting each one's
/// `prev_hash` and `hash`; returns the new head (`head` itself when there are no events). On a
/// refusal the events are half sealed: discard them.
pub fn seal(
    firm_id: &str,
    phone: &str,
    head: Option<&str>,
    events: &mut [AuditEvent],
) -> Result<Option<String>, UnhashableEvent> {
    seal_from(head, || genesis(firm_id, phone), events)
}

/// [`seal`] onto any trail: `genesis` gives the value the first event links to when there is
/// no head yet.
pub fn seal_from(
    head: Option<&str>,
    genesis: impl FnOnce() -> String,
    events: &mut [AuditEvent],
) -> Result<Option<String>, UnhashableEvent> {
    seal_with(hash_of, head, genesis, events)
}

/// How an event's hash is taken ([`hash_of`]; the tests put a refusing one in its place).
type Hasher = fn(&AuditEvent) -> Result<String, UnhashableEvent>;

fn seal_with(
    hash_of: Hasher,
    head: Option<&str>,
    genesis: impl FnOnce() -> String,
    events: &mut [AuditEvent],
) -> Result<Option<String>, UnhashableEvent> {
    let mut head = head.map(str::to_string);
    let mut genesis = Some(genesis);
    for event in events.iter_mut() {
        let link = head
            .take()
            .or_else(|| genesis.take().map(|start| start()))
            .unwrap_or_default();
        event.prev_hash = Some(link);
        event.hash = None;
        let hash = hash_of(event)?;
        event.hash = Some(hash.clone());
        head = Some(hash);
    }
    Ok(head)
}

/// Seals events written without a consent record: each gets a hash of its content and no link.
pub fn seal_unchained(events: &mut [AuditEvent]) -> Result<(), UnhashableEvent> {
    seal_unchained_with(hash_of, events)
}

fn seal_unchained_with(hash_of: Hasher, events: &mut [AuditEvent]) -> Result<(), UnhashableEvent> {
    for event in events.iter_mut() {
        event.prev_hash = None;
        event.hash = None;
        event.hash = Some(hash_of(event)?);
    }
    Ok(())
}

/// Seals a consent write's events onto the record it will write: chained onto the head the
/// record carries (a copy of the record as read, so the head as read), with the record's head
/// moved to the last of them. Without a record (the number has none) they are sealed
/// unchained. Returns the head they were chained onto, which the store checks is still the
/// stored record's head; on a refusal the record's head is left as it was.
pub fn try_seal_onto_record(
    firm_id: &str,
    phone: &PhoneNumber,
    record: Option<&mut ConsentRecord>,
    events: &mut [AuditEvent],
) -> Result<Option<String>, UnhashableEvent> {
    seal_record_with(hash_of, firm_id, phone, record, events)
}

fn seal_record_with(
    hash_of: Hasher,
    firm_id: &str,
    phone: &PhoneNumber,
    record: Option<&mut ConsentRecord>,
    events: &mut [AuditEvent],
) -> Result<Option<String>, UnhashableEvent> {
    match record {
        Some(record) => {
            let head = record.audit_head.clone();
            let genesis = || genesis(firm_id, phone.as_str());
            record.audit_head = seal_with(hash_of, head.as_deref(), genesis, events)?;
            Ok(head)
        }
        None => {
            seal_unchained_with(hash_of, events)?;
            Ok(None)
        }
    }
}

/// [`try_seal_onto_record`] for [`crate::ports::ConsentWrite::new`], which cannot fail yet.
/// Audit events hold strings, booleans, times and names, and no number but a committed text's
/// length (a test holds every kind to that), so no refusal can happen today. Were one to, nothing is hashed: the events
/// are left without links or hashes, the record's head does not move, and the refusal is
/// logged.
pub fn seal_onto_record(
    firm_id: &str,
    phone: &PhoneNumber,
    record: Option<&mut ConsentRecord>,
    events: &mut [AuditEvent],
) -> Option<String> {
    seal_or_leave_unsealed(hash_of, firm_id, phone, record, events)
}

fn seal_or_leave_unsealed(
    hash_of: Hasher,
    firm_id: &str,
    phone: &PhoneNumber,
    record: Option<&mut ConsentRecord>,
    events: &mut [AuditEvent],
) -> Option<String> {
    let head = record.as_ref().and_then(|r| r.audit_head.clone());
    match seal_record_with(hash_of, firm_id, phone, record, events) {
        Ok(chained_onto) => chained_onto,
        Err(refusal) => {
            tracing::error!(error = %refusal, "an audit event was not hashed");
            for event in events.iter_mut() {
                event.prev_hash = None;
                event.hash = None;
            }
            head
        }
    }
}

/// The chained events in chain order, found by walking back from the head. If the stored
/// events do not form exactly one chain from the genesis to the head (something was changed
/// or removed in the store), they are given in id (time) order instead, so that the verifier
/// reports where the chain breaks rather than the proof hiding it.
pub(crate) fn chain_order(
    mut events: Vec<AuditEvent>,
    head: Option<&str>,
    genesis: &str,
) -> Vec<AuditEvent> {
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

#[cfg(test)]
mod tests;
