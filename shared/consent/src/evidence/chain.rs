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

use serde_json::Value;

pub use consent_proof::chain::{
    CHAIN_DOMAIN, FIRM_CHAIN_DOMAIN, event_hash, firm_genesis, genesis, hex, sha256_hex,
};

use crate::evidence::audit::AuditEvent;
use crate::evidence::canonical::CanonicalError;
use crate::evidence::shown::{self, ShownTexts};
use crate::model::phone::PhoneNumber;
use crate::model::record::ConsentRecord;

/// An event the chain refuses to hash: it holds a value two JSON parsers could read differently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {event_id} ({kind}) cannot be hashed: {reason}")]
pub struct UnhashableEvent {
    /// The event's id.
    pub event_id: String,
    /// Its type.
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

/// An event as JSON in the form the chain hashes and a default proof shows: its text that is
/// not a consent message as its commitment, no salt ([`crate::evidence::shown`]).
pub fn event_json(event: &AuditEvent) -> Value {
    shown::event_json(event, ShownTexts::Committed)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::audit::{AuditKind, CarrierOptInOutcome};
    use crate::evidence::canonical::canonical_json_without;
    use chrono::Utc;

    fn skipped(reason: &str) -> AuditEvent {
        AuditEvent::new(
            Utc::now(),
            AuditKind::EmailSkipped {
                reason: reason.into(),
            },
        )
    }

    #[test]
    fn links_each_event_to_the_one_before() {
        let mut events = vec![skipped("a"), skipped("b"), skipped("c")];
        let head = seal("f1", "+14155550100", None, &mut events).unwrap();
        assert_eq!(
            events[0].prev_hash.as_deref(),
            Some(genesis("f1", "+14155550100").as_str())
        );
        assert_eq!(events[1].prev_hash, events[0].hash);
        assert_eq!(events[2].prev_hash, events[1].hash);
        assert_eq!(head, events[2].hash);
        for event in &events {
            assert_eq!(event.hash, Some(hash_of(event).unwrap()));
        }
        // Continuing from the head links to it.
        let mut more = vec![skipped("d")];
        let next = seal("f1", "+14155550100", head.as_deref(), &mut more).unwrap();
        assert_eq!(more[0].prev_hash, head);
        assert_eq!(next, more[0].hash);
        // No events: the head stays.
        assert_eq!(seal("f1", "+1", next.as_deref(), &mut []), Ok(next));
    }

    #[test]
    fn every_kind_is_written_and_hashed_as_through_json() {
        use crate::evidence::audit::{OptInEvidence, ReplyNote};
        use crate::model::gate::{BlockReason, MessageCategory, MessageKind};
        use crate::model::keywords::Classification;
        use crate::model::record::{ConsentBasis, ConsentStatus};
        let at = Utc::now();
        let text = "Quote \" back\\slash \u{1} é €".to_string();
        let kinds = vec![
            AuditKind::ContactCreated {
                contact_id: text.clone(),
                source: None,
                email: Some("a@b.example".into()),
                double_opt_in: true,
                existing_status: Some(ConsentStatus::Pending),
                consent_capture: None,
                language: None,
            },
            AuditKind::ContactCreated {
                contact_id: "c-2".into(),
                source: Some("web".into()),
                email: None,
                double_opt_in: true,
                existing_status: None,
                consent_capture: Some(crate::model::consent_capture::ConsentCapture {
                    method: crate::model::consent_capture::CaptureMethod::WebForm,
                    captured_at: at,
                    disclosure_text: Some(text.clone()),
                    form_url: Some("https://firm.example/intake?a=1&b=é".into()),
                    ip: Some("2001:db8::1".into()),
                    user_agent: None,
                    captured_by: Some(text.clone()),
                }),
                language: Some(crate::model::language::Language::Es),
            },
            AuditKind::EmailSent {
                to: "a@b.example".into(),
                subject: text.clone(),
                text: text.clone(),
                html: "<p>\n</p>".into(),
                provider_message_id: "m".into(),
            },
            AuditKind::EmailSkipped {
                reason: text.clone(),
            },
            AuditKind::OptedIn {
                from: None,
                basis: ConsentBasis::SmsReply,
                evidence: OptInEvidence::Sms {
                    text: "YES".into(),
                    inbound_message_id: "in-1".into(),
                    received_at: at,
                },
            },
            AuditKind::OptedIn {
                from: Some(ConsentStatus::Pending),
                basis: ConsentBasis::EmailConfirmation,
                evidence: OptInEvidence::Email {
                    ip: Some("192.0.2.1".into()),
                    user_agent: None,
                    confirmed_at: at,
                },
            },
            AuditKind::OptedIn {
                from: None,
                basis: ConsentBasis::OptInRequested,
                evidence: OptInEvidence::FirmAttested {
                    contact_id: "c".into(),
                },
            },
            AuditKind::OptedOut {
                from: Some(ConsentStatus::OptedIn),
                basis: ConsentBasis::SmsReply,
                text: Some("stop".into()),
                matched: Some("STOP".into()),
                inbound_message_id: None,
                evidence: None,
            },
            AuditKind::OptedOut {
                from: Some(ConsentStatus::Pending),
                basis: ConsentBasis::EmailDecline,
                text: None,
                matched: None,
                inbound_message_id: None,
                evidence: Some(crate::evidence::audit::OptOutEvidence::Email {
                    ip: Some("192.0.2.1".into()),
                    user_agent: Some(text.clone()),
                    declined_at: at,
                }),
            },
            AuditKind::EmailDeclineIgnored {
                status: ConsentStatus::OptedOut,
                ip: None,
                user_agent: Some(text.clone()),
            },
            AuditKind::ReplyReceived {
                text: text.clone(),
                inbound_message_id: "in-2".into(),
                classification: Classification::Help {
                    word: "HELP".into(),
                },
                received_at: at,
                note: ReplyNote::Help,
            },
            AuditKind::ReplyReceived {
                text: "?".into(),
                inbound_message_id: "in-3".into(),
                classification: Classification::Other,
                received_at: at,
                note: ReplyNote::Unrecognized,
            },
            AuditKind::CarrierOptInRequested {
                outcome: CarrierOptInOutcome::OptedIn,
                error: None,
            },
            AuditKind::CarrierOptInRequested {
                outcome: CarrierOptInOutcome::Failed,
                error: Some(text.clone()),
            },
            AuditKind::EmailConfirmationIgnored {
                status: ConsentStatus::OptedOut,
                ip: None,
                user_agent: Some(text.clone()),
            },
            AuditKind::MessageAllowed {
                kind: MessageKind::FirmMessage,
                category: MessageCategory::Transactional,
                body: text.clone(),
                from: "+12025550142".into(),
                double_opt_in: false,
                idempotency_key: Some("k".into()),
            },
            AuditKind::MessageSent {
                allowed_event_id: "a".into(),
                provider_message_id: "p".into(),
            },
            AuditKind::MessageFailed {
                allowed_event_id: "a".into(),
                error: text.clone(),
            },
            AuditKind::MessageUnconfirmed {
                allowed_event_id: "a".into(),
                error: "timeout".into(),
            },
            AuditKind::MessageDeferred {
                kind: MessageKind::OptInRequest,
                category: MessageCategory::Marketing,
                body: text.clone(),
                not_before: at,
                idempotency_key: None,
                rule: Some(crate::model::state_rules::RuleId::Texas),
            },
            AuditKind::MessageBlocked {
                kind: MessageKind::OptOutConfirmation,
                category: MessageCategory::Transactional,
                body: text.clone(),
                reason: BlockReason::OptedOut,
                idempotency_key: None,
                rule: None,
            },
            AuditKind::OptOutConfirmationSkipped {
                body: text.clone(),
                reason: BlockReason::ConfirmationWindowPassed,
            },
            AuditKind::DoubleOptInChanged {
                enabled: false,
                changed_by: "ops@firm".into(),
                acknowledge_risk: true,
                actor: Some("arn:aws:iam::123456789012:user/ops".into()),
            },
            AuditKind::TemplateChanged {
                name: "opt_in_sms".into(),
                language: Some(crate::model::language::Language::Es),
                reset: false,
                actor: None,
            },
            AuditKind::OptOutRecorded {
                from: Some(ConsentStatus::OptedIn),
                channel: crate::model::record::StaffChannel::PhoneCall,
                recorded_by: text.clone(),
                note: None,
                occurred_at: Some(at),
                confirmation_requested: true,
                actor: Some("local".into()),
            },
            AuditKind::FirmUpdated {
                name: text.clone(),
                sms_number: "+12025550142".into(),
                actor: None,
            },
        ];
        let mut events: Vec<AuditEvent> =
            kinds.into_iter().map(|k| AuditEvent::new(at, k)).collect();
        seal("f1", "+14155550100", None, &mut events).unwrap();
        let mut unchained = vec![skipped("no record")];
        seal_unchained(&mut unchained).unwrap();
        for event in events.iter().chain(&unchained) {
            let text = canonical_json_without(&event_json(event), "hash");
            assert_eq!(
                crate::evidence::audit_canonical::without_hash(event).as_deref(),
                Ok(text.as_str())
            );
            let through_json = event_hash(&event_json(event));
            assert_eq!(
                hash_of(event),
                Ok(through_json.clone()),
                "{}",
                event.type_name()
            );
            assert_eq!(event.hash.as_deref(), Some(through_json.as_str()));
            // An independent RFC 8785 implementation writes the very same bytes.
            let mut hashed = event_json(event);
            if let Some(members) = hashed.as_object_mut() {
                members.remove("hash");
            }
            let independent = serde_json_canonicalizer::to_string(&hashed).unwrap();
            assert_eq!(independent, text, "{}", event.type_name());
            // Why no event is refused: the only number an audit event holds is a committed
            // text's length, far inside ±(2^53−1).
            assert!(
                !holds_a_number(&without_commitment_lengths(event_json(event))),
                "{}",
                event.type_name()
            );
        }
    }

    /// `event` without the lengths of its commitments (the one number an event may hold).
    fn without_commitment_lengths(mut event: Value) -> Value {
        if let Some(members) = event.as_object_mut() {
            for value in members.values_mut() {
                if crate::evidence::commitment::Commitment::of(value).is_some() {
                    *value = Value::Null;
                }
            }
        }
        event
    }

    fn holds_a_number(value: &Value) -> bool {
        match value {
            Value::Number(_) => true,
            Value::Array(items) => items.iter().any(holds_a_number),
            Value::Object(members) => members.values().any(holds_a_number),
            _ => false,
        }
    }

    /// A hasher standing for an event with a value the canonical writer refuses.
    fn refusing(event: &AuditEvent) -> Result<String, UnhashableEvent> {
        Err(UnhashableEvent {
            event_id: event.id.clone(),
            kind: event.type_name(),
            reason: CanonicalError::NonFinite("NaN".into()),
        })
    }

    #[test]
    fn a_refused_value_is_an_error_of_the_sealing_not_a_hash() {
        let phone = PhoneNumber::parse("+14155550100").unwrap();
        // From JSON, so fields added later keep their defaults.
        let now = Utc::now();
        let mut record: ConsentRecord = serde_json::from_value(serde_json::json!({
            "firm_id": "f1", "phone": phone, "status": "opted_in", "basis": "sms_reply",
            "version": 3, "created_at": now, "status_changed_at": now, "updated_at": now,
            "audit_head": "h0",
        }))
        .unwrap();
        let mut events = vec![skipped("a")];
        let refused = seal_record_with(refusing, "f1", &phone, Some(&mut record), &mut events);
        assert!(
            matches!(&refused, Err(e) if e.reason == CanonicalError::NonFinite("NaN".into())),
            "{refused:?}"
        );
        assert_eq!(
            record.audit_head.as_deref(),
            Some("h0"),
            "the head did not move"
        );
        assert!(events[0].hash.is_none());
        assert!(seal_record_with(refusing, "f1", &phone, None, &mut events).is_err());
        assert!(seal_with(refusing, None, || "g".into(), &mut events).is_err());
        // Where a write cannot fail yet: nothing hashed, nothing linked, the head unmoved.
        let chained_onto =
            seal_or_leave_unsealed(refusing, "f1", &phone, Some(&mut record), &mut events);
        assert_eq!(chained_onto.as_deref(), Some("h0"));
        assert_eq!(record.audit_head.as_deref(), Some("h0"));
        assert!(events[0].hash.is_none() && events[0].prev_hash.is_none());
        // The message names the event and the value, for the log.
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("email_skipped") && message.contains("NaN"),
            "{message}"
        );
    }

    #[test]
    fn the_hash_covers_the_content_and_the_link() {
        let mut events = vec![skipped("a")];
        seal("f1", "+14155550100", None, &mut events).unwrap();
        let original = events[0].clone();
        let mut changed = original.clone();
        changed.kind = AuditKind::EmailSkipped { reason: "b".into() };
        assert_ne!(hash_of(&changed), hash_of(&original));
        let mut relinked = original.clone();
        relinked.prev_hash = Some(genesis("f2", "+14155550100"));
        assert_ne!(hash_of(&relinked), hash_of(&original));
        // The stored hash itself is not part of the hashed content.
        let mut rehashed = original.clone();
        rehashed.hash = Some("00".into());
        assert_eq!(hash_of(&rehashed), hash_of(&original));
    }

    #[test]
    fn genesis_binds_firm_and_number() {
        assert_ne!(genesis("f1", "+14155550100"), genesis("f2", "+14155550100"));
        assert_ne!(genesis("f1", "+14155550100"), genesis("f1", "+14155550101"));
        assert_eq!(
            genesis("f1", "+14155550100"),
            sha256_hex(b"consent-chain/v1\nf1\n+14155550100")
        );
    }

    #[test]
    fn unchained_events_have_a_hash_and_no_link() {
        let mut events = vec![skipped("a")];
        seal_unchained(&mut events).unwrap();
        assert!(events[0].prev_hash.is_none());
        assert_eq!(events[0].hash, Some(hash_of(&events[0]).unwrap()));
    }

    #[test]
    fn sha256_of_nothing() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
