//! The chain's tests: sealing, the canonical bytes of every audit kind, verification.

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
    let mut events: Vec<AuditEvent> = kinds.into_iter().map(|k| AuditEvent::new(at, k)).collect();
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
