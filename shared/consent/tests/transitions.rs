//! The transition table (docs/architecture.md §5.1), row by row, through `transition::apply`.

use chrono::{DateTime, Duration, Utc};
use consent::evidence::audit::{AuditKind, OptInEvidence, OptOutEvidence, ReplyNote};
use consent::model::consent_capture::{CaptureMethod, ConsentCapture};
use consent::model::keywords::Classification;
use consent::model::language::Language;
use consent::model::phone::PhoneNumber;
use consent::model::record::{
    ConsentBasis, ConsentRecord, ConsentStatus, Delivery, RECENT_INBOUND_IDS, StaffChannel,
};
use consent::model::transition::{ConsentEvent, Effect, Reply, Transition, apply};

const FIRM: &str = "firm-1";

fn t(text: &str) -> DateTime<Utc> {
    text.parse().expect("a valid RFC 3339 instant")
}

fn phone() -> PhoneNumber {
    PhoneNumber::parse("+14155550134").expect("a valid number")
}

/// "Now" for every transition in this file.
fn now() -> DateTime<Utc> {
    t("2026-12-01T18:00:00Z")
}

/// When the records built here last changed status (an hour before now).
fn changed_at() -> DateTime<Utc> {
    t("2026-12-01T17:00:00Z")
}

/// A stored record in `status` with `basis`, at version 7. Built from a new record so fields
/// added later keep their defaults.
fn record(status: ConsentStatus, basis: ConsentBasis) -> ConsentRecord {
    let mut record = apply(
        None,
        FIRM,
        &phone(),
        created(true),
        t("2026-11-01T12:00:00Z"),
    )
    .record
    .expect("a new contact creates a record");
    record.status = status;
    record.basis = basis;
    record.version = 7;
    record.status_changed_at = changed_at();
    record.updated_at = changed_at();
    record.opt_in_sms = Delivery::Sent {
        provider_message_id: "sms-1".to_string(),
        at: t("2026-11-01T12:00:01Z"),
    };
    record.opt_out_confirmation_sent = status == ConsentStatus::OptedOut;
    record.recent_inbound_ids = vec!["old-1".to_string()];
    record.time_zone = None;
    record
}

fn pending() -> ConsentRecord {
    record(ConsentStatus::Pending, ConsentBasis::OptInRequested)
}

fn opted_in() -> ConsentRecord {
    record(ConsentStatus::OptedIn, ConsentBasis::SmsReply)
}

fn opted_out() -> ConsentRecord {
    record(ConsentStatus::OptedOut, ConsentBasis::SmsReply)
}

fn firm_attested() -> ConsentRecord {
    record(ConsentStatus::OptedIn, ConsentBasis::FirmAttested)
}

/// Every existing state, named for assertion messages.
fn every_state() -> Vec<(&'static str, ConsentRecord)> {
    vec![
        ("pending", pending()),
        ("opted_in", opted_in()),
        (
            "opted_in (email)",
            record(ConsentStatus::OptedIn, ConsentBasis::EmailConfirmation),
        ),
        ("opted_in (firm_attested)", firm_attested()),
        ("opted_out", opted_out()),
        (
            "opted_out (carrier)",
            record(ConsentStatus::OptedOut, ConsentBasis::Carrier),
        ),
    ]
}

fn created(double_opt_in: bool) -> ConsentEvent {
    ConsentEvent::ContactCreated {
        contact_id: "c-1".to_string(),
        source: Some("intake form".to_string()),
        email: Some("maria@example.com".to_string()),
        double_opt_in,
        time_zone: Some("America/Chicago".to_string()),
    }
}

fn sms(id: &str, text: &str, received_at: DateTime<Utc>) -> ConsentEvent {
    ConsentEvent::SmsReceived {
        inbound_message_id: id.to_string(),
        text: text.to_string(),
        received_at,
    }
}

/// A text received just before now (after the record's last change).
fn text(text: &str) -> ConsentEvent {
    sms("in-1", text, now() - Duration::seconds(5))
}

fn email() -> ConsentEvent {
    ConsentEvent::EmailConfirmed {
        ip: Some("203.0.113.7".to_string()),
        user_agent: Some("Mozilla/5.0".to_string()),
    }
}

fn run(current: Option<&ConsentRecord>, event: ConsentEvent) -> Transition {
    apply(current, FIRM, &phone(), event, now())
}

fn status(step: &Transition) -> Option<ConsentStatus> {
    step.record.as_ref().map(|r| r.status)
}

fn kinds(step: &Transition) -> Vec<&'static str> {
    step.events.iter().map(|e| e.type_name()).collect()
}

/// The single `ReplyReceived` note of a transition that only recorded a text.
fn note(step: &Transition) -> ReplyNote {
    match step.events.as_slice() {
        [event] => match &event.kind {
            AuditKind::ReplyReceived { note, .. } => *note,
            other => panic!("expected reply_received, got {other:?}"),
        },
        other => panic!("expected exactly one event, got {other:?}"),
    }
}

const OPT_IN_TEXTS: &[&str] = &[
    "YES",
    "yes",
    "Yes!",
    "y",
    "START",
    "unstop",
    "yes please",
    "Subscribe",
];

const OPT_OUT_TEXTS: &[&str] = &[
    "STOP",
    "stop",
    "Stop!!!",
    "STOPALL",
    "UNSUBSCRIBE",
    "cancel",
    "END",
    "quit",
    "REVOKE",
    "optout",
    "opt out",
    "OPT-OUT",
    "remove",
    "ARRET",
    "TD",
    "stop texting me",
    "please stop texting me",
    "remove me",
    "Remove me from this list",
    "don't text me",
    "do not text me again",
    "wrong number",
    "Leave me alone",
    "no más",
    "basta",
    "yes stop",
];

// --- contact created -------------------------------------------------------------------------

#[test]
fn contact_created_without_record_is_pending_when_double_opt_in_is_on() {
    let step = run(None, created(true));
    assert_eq!(step.effect, Effect::Created(ConsentStatus::Pending));
    assert_eq!(step.expected_version, None, "the record must not exist yet");
    assert!(
        step.replies.is_empty(),
        "the request is sent by the flow, not as a reply"
    );
    let record = step.record.as_ref().expect("a record is created");
    assert_eq!(record.status, ConsentStatus::Pending);
    assert_eq!(record.basis, ConsentBasis::OptInRequested);
    assert_eq!(record.version, 1);
    assert_eq!(record.firm_id, FIRM);
    assert_eq!(record.phone, phone());
    assert_eq!(record.created_at, now());
    assert_eq!(record.status_changed_at, now());
    assert_eq!(record.opt_in_sms, Delivery::NotSent);
    assert_eq!(record.opt_in_email, Delivery::NotSent);
    assert!(!record.opt_out_confirmation_sent);
    assert_eq!(record.time_zone.as_deref(), Some("America/Chicago"));
    match step.events.as_slice() {
        [event] => match &event.kind {
            AuditKind::ContactCreated {
                contact_id,
                double_opt_in,
                existing_status,
                email,
                source,
                consent_capture,
                language,
            } => {
                assert_eq!(*consent_capture, None, "none given");
                assert_eq!(*language, None, "said by `with_language`");
                assert_eq!(contact_id, "c-1");
                assert!(*double_opt_in);
                assert_eq!(*existing_status, None);
                assert_eq!(email.as_deref(), Some("maria@example.com"));
                assert_eq!(source.as_deref(), Some("intake form"));
            }
            other => panic!("expected contact_created, got {other:?}"),
        },
        other => panic!("expected one event, got {other:?}"),
    }
}

#[test]
fn a_new_record_takes_the_contacts_language_and_an_old_one_keeps_its_own_unless_told() {
    let spoken = |step: &Transition| {
        step.events.iter().find_map(|e| match &e.kind {
            AuditKind::ContactCreated { language, .. } => *language,
            _ => None,
        })
    };
    let step = run(None, created(true)).with_language(Some(Language::Es));
    let record = step.record.clone().expect("a record is created");
    assert_eq!(record.language, Language::Es);
    assert_eq!(spoken(&step), Some(Language::Es));
    // Not said: a new record is English, and the event says so.
    let step = run(None, created(true)).with_language(None);
    assert_eq!(step.record.as_ref().map(|r| r.language), Some(Language::En));
    assert_eq!(spoken(&step), Some(Language::En));
    // A second contact on a Spanish number who says nothing leaves it Spanish; one who says
    // English switches it.
    let step = run(Some(&record), created(true)).with_language(None);
    assert_eq!(step.record.map(|r| r.language), Some(Language::Es));
    let step = run(Some(&record), created(true)).with_language(Some(Language::En));
    assert_eq!(step.record.map(|r| r.language), Some(Language::En));
}

#[test]
fn contact_created_without_record_is_firm_attested_when_double_opt_in_is_off() {
    let step = run(None, created(false));
    assert_eq!(step.effect, Effect::Created(ConsentStatus::OptedIn));
    assert!(step.replies.is_empty());
    let record = step.record.as_ref().expect("a record is created");
    assert_eq!(record.status, ConsentStatus::OptedIn);
    assert_eq!(record.basis, ConsentBasis::FirmAttested);
    assert_eq!(record.version, 1);
    assert_eq!(kinds(&step), ["contact_created", "opted_in"]);
    match &step.events[1].kind {
        AuditKind::OptedIn {
            from,
            basis,
            evidence,
        } => {
            assert_eq!(*from, None);
            assert_eq!(*basis, ConsentBasis::FirmAttested);
            assert_eq!(
                *evidence,
                OptInEvidence::FirmAttested {
                    contact_id: "c-1".to_string()
                }
            );
        }
        other => panic!("expected opted_in, got {other:?}"),
    }
}

#[test]
fn contact_created_with_a_record_changes_nothing_and_sends_nothing() {
    for double_opt_in in [true, false] {
        for (name, current) in every_state() {
            let step = run(Some(&current), created(double_opt_in));
            assert_eq!(step.effect, Effect::Recorded, "{name}");
            assert!(step.replies.is_empty(), "{name}: nothing is re-sent");
            assert_eq!(step.expected_version, Some(current.version), "{name}");
            let record = step.record.as_ref().expect("the contact is recorded");
            assert_eq!(record.status, current.status, "{name}");
            assert_eq!(record.basis, current.basis, "{name}");
            assert_eq!(
                record.status_changed_at, current.status_changed_at,
                "{name}"
            );
            assert_eq!(record.opt_in_sms, current.opt_in_sms, "{name}");
            assert_eq!(record.opt_in_email, current.opt_in_email, "{name}");
            assert_eq!(
                record.opt_out_confirmation_sent, current.opt_out_confirmation_sent,
                "{name}"
            );
            assert_eq!(kinds(&step), ["contact_created"], "{name}");
            match &step.events[0].kind {
                AuditKind::ContactCreated {
                    existing_status, ..
                } => assert_eq!(*existing_status, Some(current.status), "{name}"),
                other => panic!("expected contact_created, got {other:?}"),
            }
        }
    }
}

// --- opt-in by SMS ---------------------------------------------------------------------------

#[test]
fn opt_in_word_from_pending_opts_in_with_a_confirmation() {
    for word in OPT_IN_TEXTS {
        let received_at = now() - Duration::seconds(5);
        let step = run(Some(&pending()), sms("in-9", word, received_at));
        assert_eq!(
            step.effect,
            Effect::Changed {
                from: ConsentStatus::Pending,
                to: ConsentStatus::OptedIn
            },
            "{word}"
        );
        assert_eq!(step.replies, [Reply::OptInConfirmation], "{word}");
        assert!(
            matches!(step.classification, Some(Classification::OptIn { .. })),
            "{word}"
        );
        let record = step.record.as_ref().expect("written");
        assert_eq!(record.status, ConsentStatus::OptedIn, "{word}");
        assert_eq!(record.basis, ConsentBasis::SmsReply, "{word}");
        assert_eq!(record.status_changed_at, received_at, "{word}");
        assert!(record.has_applied("in-9"), "{word}: the id is remembered");
        assert_eq!(kinds(&step), ["opted_in"], "{word}");
        match &step.events[0].kind {
            AuditKind::OptedIn {
                from,
                basis,
                evidence,
            } => {
                assert_eq!(*from, Some(ConsentStatus::Pending));
                assert_eq!(*basis, ConsentBasis::SmsReply);
                assert_eq!(
                    *evidence,
                    OptInEvidence::Sms {
                        text: word.to_string(),
                        inbound_message_id: "in-9".to_string(),
                        received_at,
                    }
                );
            }
            other => panic!("expected opted_in, got {other:?}"),
        }
    }
}

#[test]
fn opt_in_word_from_opted_out_opts_back_in_with_a_confirmation() {
    for current in [
        opted_out(),
        record(ConsentStatus::OptedOut, ConsentBasis::Carrier),
    ] {
        for word in ["START", "UNSTOP", "YES"] {
            let step = run(Some(&current), text(word));
            assert_eq!(
                step.effect,
                Effect::Changed {
                    from: ConsentStatus::OptedOut,
                    to: ConsentStatus::OptedIn
                },
                "{word}"
            );
            assert_eq!(step.replies, [Reply::OptInConfirmation], "{word}");
            assert_eq!(status(&step), Some(ConsentStatus::OptedIn));
            assert_eq!(step.record.as_ref().unwrap().basis, ConsentBasis::SmsReply);
            match &step.events[..] {
                [event] => assert!(matches!(
                    event.kind,
                    AuditKind::OptedIn {
                        from: Some(ConsentStatus::OptedOut),
                        ..
                    }
                )),
                other => panic!("expected one opted_in event, got {other:?}"),
            }
        }
    }
}

#[test]
fn opt_in_word_without_a_record_is_recorded_and_creates_no_consent() {
    for word in OPT_IN_TEXTS {
        let step = run(None, text(word));
        assert_eq!(step.effect, Effect::Recorded, "{word}");
        assert_eq!(
            step.record, None,
            "{word}: an unsolicited YES creates no record"
        );
        assert_eq!(step.expected_version, None);
        assert!(step.replies.is_empty(), "{word}");
        assert_eq!(note(&step), ReplyNote::NoEffect, "{word}");
    }
}

#[test]
fn opt_in_word_while_opted_in_is_recorded_and_changes_nothing() {
    for current in [
        opted_in(),
        record(ConsentStatus::OptedIn, ConsentBasis::EmailConfirmation),
    ] {
        let step = run(Some(&current), text("YES"));
        assert_eq!(step.effect, Effect::Recorded);
        assert!(step.replies.is_empty());
        let record = step.record.as_ref().expect("the id is remembered");
        assert_eq!(record.status, ConsentStatus::OptedIn);
        assert_eq!(record.basis, current.basis);
        assert_eq!(record.status_changed_at, current.status_changed_at);
        assert_eq!(note(&step), ReplyNote::NoEffect);
    }
}

// --- email link ------------------------------------------------------------------------------

#[test]
fn email_confirmation_from_pending_opts_in_with_evidence() {
    let step = run(Some(&pending()), email());
    assert_eq!(
        step.effect,
        Effect::Changed {
            from: ConsentStatus::Pending,
            to: ConsentStatus::OptedIn
        }
    );
    assert_eq!(step.replies, [Reply::OptInConfirmation]);
    let record = step.record.as_ref().expect("written");
    assert_eq!(record.basis, ConsentBasis::EmailConfirmation);
    assert_eq!(record.status_changed_at, now());
    match step.events.as_slice() {
        [event] => match &event.kind {
            AuditKind::OptedIn {
                from,
                basis,
                evidence,
            } => {
                assert_eq!(*from, Some(ConsentStatus::Pending));
                assert_eq!(*basis, ConsentBasis::EmailConfirmation);
                assert_eq!(
                    *evidence,
                    OptInEvidence::Email {
                        ip: Some("203.0.113.7".to_string()),
                        user_agent: Some("Mozilla/5.0".to_string()),
                        confirmed_at: now(),
                    }
                );
            }
            other => panic!("expected opted_in, got {other:?}"),
        },
        other => panic!("expected one event, got {other:?}"),
    }
}

#[test]
fn email_confirmation_after_an_opt_out_changes_nothing() {
    for current in [
        opted_out(),
        record(ConsentStatus::OptedOut, ConsentBasis::Carrier),
    ] {
        let step = run(Some(&current), email());
        assert_eq!(step.effect, Effect::Recorded);
        assert!(
            step.replies.is_empty(),
            "no confirmation: the number stays opted out"
        );
        let record = step.record.as_ref().expect("the attempt is recorded");
        assert_eq!(record.status, ConsentStatus::OptedOut);
        assert_eq!(record.basis, current.basis);
        assert_eq!(kinds(&step), ["email_confirmation_ignored"]);
        assert!(matches!(
            step.events[0].kind,
            AuditKind::EmailConfirmationIgnored {
                status: ConsentStatus::OptedOut,
                ..
            }
        ));
    }
}

#[test]
fn email_confirmation_while_opted_in_changes_nothing() {
    for current in [
        opted_in(),
        record(ConsentStatus::OptedIn, ConsentBasis::EmailConfirmation),
    ] {
        let step = run(Some(&current), email());
        assert_eq!(step.effect, Effect::Recorded);
        assert!(step.replies.is_empty(), "no second confirmation");
        let record = step.record.as_ref().unwrap();
        assert_eq!(record.status, ConsentStatus::OptedIn);
        assert_eq!(record.basis, current.basis);
        assert_eq!(record.status_changed_at, current.status_changed_at);
        assert_eq!(kinds(&step), ["email_confirmation_ignored"]);
    }
}

#[test]
fn email_confirmation_without_a_record_writes_nothing() {
    let step = run(None, email());
    assert_eq!(step.effect, Effect::NoRecord);
    assert_eq!(step.record, None);
    assert!(step.events.is_empty());
    assert!(step.replies.is_empty());
    assert!(!step.is_write());
}

fn decline() -> ConsentEvent {
    ConsentEvent::EmailDeclined {
        ip: Some("203.0.113.8".to_string()),
        user_agent: Some("Mozilla/5.0".to_string()),
    }
}

#[test]
fn email_decline_opts_out_a_pending_or_opted_in_number_and_owes_no_text() {
    let states = every_state()
        .into_iter()
        .filter(|(_, r)| r.status != ConsentStatus::OptedOut);
    for (name, current) in states {
        let step = run(Some(&current), decline());
        assert_eq!(
            step.effect,
            Effect::Changed {
                from: current.status,
                to: ConsentStatus::OptedOut
            },
            "{name}"
        );
        assert!(step.replies.is_empty(), "{name}: the page is the answer");
        let record = step.record.as_ref().expect("written");
        assert_eq!(record.basis, ConsentBasis::EmailDecline, "{name}");
        assert_eq!(record.status_changed_at, now(), "{name}");
        assert!(
            record.opt_out_confirmation_sent,
            "{name}: no opt-out confirmation is owed later either"
        );
        match step.events.as_slice() {
            [event] => assert_eq!(
                event.kind,
                AuditKind::OptedOut {
                    from: Some(current.status),
                    basis: ConsentBasis::EmailDecline,
                    text: None,
                    matched: None,
                    inbound_message_id: None,
                    evidence: Some(OptOutEvidence::Email {
                        ip: Some("203.0.113.8".to_string()),
                        user_agent: Some("Mozilla/5.0".to_string()),
                        declined_at: now(),
                    }),
                },
                "{name}"
            ),
            other => panic!("{name}: expected one event, got {other:?}"),
        }
    }
}

#[test]
fn email_decline_after_an_opt_out_is_recorded_and_changes_nothing() {
    for current in [
        opted_out(),
        record(ConsentStatus::OptedOut, ConsentBasis::Carrier),
        record(ConsentStatus::OptedOut, ConsentBasis::EmailDecline),
    ] {
        let step = run(Some(&current), decline());
        assert_eq!(step.effect, Effect::Recorded);
        assert!(step.replies.is_empty());
        let record = step.record.as_ref().expect("the press is recorded");
        assert_eq!(record.status, ConsentStatus::OptedOut);
        assert_eq!(record.basis, current.basis, "the first revocation stays");
        assert_eq!(record.status_changed_at, current.status_changed_at);
        assert_eq!(kinds(&step), ["email_decline_ignored"]);
    }
}

#[test]
fn email_decline_without_a_record_writes_nothing() {
    let step = run(None, decline());
    assert_eq!(step.effect, Effect::NoRecord);
    assert!(!step.is_write());
}

#[test]
fn how_a_number_was_collected_rides_on_the_contact_created_event_only() {
    let capture = ConsentCapture {
        method: CaptureMethod::PaperForm,
        captured_at: t("2026-11-30T16:00:00Z"),
        disclosure_text: Some("I agree to receive texts about my case.".to_string()),
        form_url: None,
        ip: None,
        user_agent: None,
        captured_by: Some("J. Reyes".to_string()),
    };
    for (name, current) in [("new", None), ("known", Some(pending()))] {
        let step =
            run(current.as_ref(), created(false)).with_consent_capture(Some(capture.clone()));
        let captures: Vec<_> = step
            .events
            .iter()
            .map(|e| match &e.kind {
                AuditKind::ContactCreated {
                    consent_capture, ..
                } => consent_capture.clone(),
                _ => None,
            })
            .collect();
        assert_eq!(captures[0].as_ref(), Some(&capture), "{name}");
        assert!(
            captures[1..].iter().all(Option::is_none),
            "{name}: only the contact_created event carries it"
        );
        let without = run(current.as_ref(), created(false));
        assert_eq!(
            step.record.map(|r| (r.status, r.basis)),
            without.record.map(|r| (r.status, r.basis)),
            "{name}: evidence only, no change of state"
        );
    }
}

// --- opt-out ---------------------------------------------------------------------------------

#[test]
fn opt_out_from_any_state_opts_out_with_exactly_one_confirmation() {
    let mut states: Vec<(&str, Option<ConsentRecord>)> = vec![("no record", None)];
    states.extend(
        every_state()
            .into_iter()
            .filter(|(_, r)| r.status != ConsentStatus::OptedOut)
            .map(|(name, r)| (name, Some(r))),
    );
    for (name, current) in &states {
        for word in OPT_OUT_TEXTS {
            let received_at = now() - Duration::seconds(5);
            let step = run(current.as_ref(), sms("in-stop", word, received_at));
            let before = current.as_ref().map(|r| r.status);
            let expected_effect = match before {
                None => Effect::Created(ConsentStatus::OptedOut),
                Some(from) => Effect::Changed {
                    from,
                    to: ConsentStatus::OptedOut,
                },
            };
            assert_eq!(step.effect, expected_effect, "{name} / {word:?}");
            assert_eq!(
                step.replies,
                [Reply::OptOutConfirmation],
                "{name} / {word:?}: exactly one confirmation"
            );
            let Some(Classification::OptOut { matched }) = step.classification.clone() else {
                panic!("{name} / {word:?}: not read as an opt-out");
            };
            let record = step.record.as_ref().expect("written");
            assert_eq!(record.status, ConsentStatus::OptedOut, "{name} / {word:?}");
            assert_eq!(record.basis, ConsentBasis::SmsReply, "{name} / {word:?}");
            assert!(!record.opt_out_confirmation_sent, "{name} / {word:?}: owed");
            assert_eq!(record.status_changed_at, received_at, "{name} / {word:?}");
            assert!(record.has_applied("in-stop"), "{name} / {word:?}");
            match step.events.as_slice() {
                [event] => match &event.kind {
                    AuditKind::OptedOut {
                        from,
                        basis,
                        text,
                        matched: event_matched,
                        inbound_message_id,
                        evidence,
                    } => {
                        assert_eq!(
                            *evidence, None,
                            "{name} / {word:?}: a text is its own proof"
                        );
                        assert_eq!(*from, before, "{name} / {word:?}");
                        assert_eq!(*basis, ConsentBasis::SmsReply);
                        assert_eq!(text.as_deref(), Some(*word));
                        assert_eq!(event_matched.as_deref(), Some(matched.as_str()));
                        assert_eq!(inbound_message_id.as_deref(), Some("in-stop"));
                    }
                    other => panic!("{name} / {word:?}: expected opted_out, got {other:?}"),
                },
                other => panic!("{name} / {word:?}: expected one event, got {other:?}"),
            }
        }
    }
}

#[test]
fn repeat_opt_out_while_opted_out_sends_no_second_confirmation() {
    for current in [
        opted_out(),
        record(ConsentStatus::OptedOut, ConsentBasis::Carrier),
    ] {
        assert!(current.opt_out_confirmation_sent);
        for word in ["STOP", "stop texting me", "UNSUBSCRIBE"] {
            let step = run(Some(&current), text(word));
            assert_eq!(step.effect, Effect::Recorded, "{word}");
            assert!(
                step.replies.is_empty(),
                "{word}: the one confirmation went out already"
            );
            let record = step.record.as_ref().unwrap();
            assert_eq!(record.status, ConsentStatus::OptedOut);
            assert_eq!(record.basis, current.basis, "{word}");
            assert_eq!(record.status_changed_at, current.status_changed_at);
            assert!(record.opt_out_confirmation_sent);
            assert_eq!(note(&step), ReplyNote::AlreadyOptedOut, "{word}");
        }
    }
}

#[test]
fn repeat_opt_out_while_the_confirmation_is_still_owed_asks_for_it_again() {
    let mut current = opted_out();
    current.opt_out_confirmation_sent = false;
    let step = run(Some(&current), text("STOP"));
    assert_eq!(step.effect, Effect::Recorded);
    assert_eq!(step.replies, [Reply::OptOutConfirmation]);
    assert_eq!(note(&step), ReplyNote::AlreadyOptedOut);
}

#[test]
fn a_new_opt_out_after_opting_back_in_owes_its_own_confirmation() {
    let back_in = run(
        Some(&opted_out()),
        sms("in-2", "START", now() - Duration::seconds(30)),
    );
    let back_in = back_in.record.expect("opted back in");
    assert_eq!(back_in.status, ConsentStatus::OptedIn);
    let step = run(
        Some(&back_in),
        sms("in-3", "STOP", now() - Duration::seconds(10)),
    );
    assert_eq!(step.replies, [Reply::OptOutConfirmation]);
    assert!(!step.record.unwrap().opt_out_confirmation_sent);
}

// --- help and other texts ---------------------------------------------------------------------

#[test]
fn help_word_gets_the_help_reply_and_changes_nothing() {
    for word in ["HELP", "help", "Help!", "info", "INFO."] {
        for (name, current) in every_state() {
            let step = run(Some(&current), text(word));
            assert_eq!(step.effect, Effect::Recorded, "{name} / {word}");
            assert_eq!(step.replies, [Reply::Help], "{name} / {word}");
            let record = step.record.as_ref().unwrap();
            assert_eq!(record.status, current.status, "{name} / {word}");
            assert_eq!(record.basis, current.basis, "{name} / {word}");
            assert_eq!(record.status_changed_at, current.status_changed_at);
            assert_eq!(note(&step), ReplyNote::Help, "{name} / {word}");
        }
        let step = run(None, text(word));
        assert_eq!(step.effect, Effect::Recorded, "no record / {word}");
        assert_eq!(step.record, None);
        assert_eq!(step.replies, [Reply::Help]);
        assert_eq!(note(&step), ReplyNote::Help);
    }
}

#[test]
fn other_text_is_recorded_for_a_person_and_changes_nothing() {
    let others = [
        "Who is this?",
        "ok",
        "Yes I'll call you tomorrow",
        "Yes?",
        "help me with my case",
        "I need to cancel my appointment",
        "👍",
        "",
    ];
    for body in others {
        for (name, current) in every_state() {
            let step = run(Some(&current), text(body));
            assert_eq!(step.effect, Effect::Recorded, "{name} / {body:?}");
            assert!(step.replies.is_empty(), "{name} / {body:?}");
            assert_eq!(step.classification, Some(Classification::Other), "{body:?}");
            let record = step.record.as_ref().unwrap();
            assert_eq!(record.status, current.status, "{name} / {body:?}");
            assert_eq!(record.basis, current.basis);
            assert_eq!(note(&step), ReplyNote::Unrecognized, "{name} / {body:?}");
            match &step.events[0].kind {
                AuditKind::ReplyReceived {
                    text,
                    inbound_message_id,
                    ..
                } => {
                    assert_eq!(text, body, "the text is kept as received");
                    assert_eq!(inbound_message_id, "in-1");
                }
                other => panic!("expected reply_received, got {other:?}"),
            }
        }
        let step = run(None, text(body));
        assert_eq!(step.effect, Effect::Recorded);
        assert_eq!(step.record, None);
        assert!(step.replies.is_empty());
        assert_eq!(note(&step), ReplyNote::Unrecognized);
    }
}

// --- out of order and duplicates ----------------------------------------------------------------

#[test]
fn an_opt_out_older_than_the_current_state_is_recorded_as_superseded() {
    let stale = changed_at() - Duration::minutes(1);
    // Only the contact's own newer opt-in outranks a revocation (see the next test).
    let current = opted_in();
    let step = run(Some(&current), sms("in-old", "STOP", stale));
    assert_eq!(step.effect, Effect::Recorded);
    assert!(
        step.replies.is_empty(),
        "no confirmation for a superseded opt-out"
    );
    let record = step.record.as_ref().unwrap();
    assert_eq!(record.status, current.status, "no override");
    assert_eq!(record.status_changed_at, current.status_changed_at);
    assert!(record.has_applied("in-old"), "recorded as applied");
    assert_eq!(note(&step), ReplyNote::Superseded);
}

/// A carrier-stamped STOP a moment older than the pending record (clock skew, or a STOP sent
/// before the CRM created the contact) still revokes: only the contact's own newer opt-in
/// outranks a revocation, not the record's creation or the firm's attestation.
#[test]
fn an_opt_out_older_than_the_record_creation_still_revokes() {
    for current in [pending(), firm_attested()] {
        let step = run(
            Some(&current),
            sms("in-early", "STOP", changed_at() - Duration::seconds(1)),
        );
        assert_eq!(
            status(&step),
            Some(ConsentStatus::OptedOut),
            "{:?}",
            current.basis
        );
        assert_eq!(step.replies, [Reply::OptOutConfirmation]);
    }
}

#[test]
fn an_opt_in_older_than_an_opt_out_is_recorded_as_superseded() {
    let stale = changed_at() - Duration::seconds(1);
    let step = run(Some(&opted_out()), sms("in-old", "YES", stale));
    assert_eq!(step.effect, Effect::Recorded);
    assert!(step.replies.is_empty());
    assert_eq!(status(&step), Some(ConsentStatus::OptedOut));
    assert_eq!(note(&step), ReplyNote::Superseded);
}

#[test]
fn an_event_at_exactly_the_last_change_is_not_stale() {
    let step = run(Some(&opted_in()), sms("in-same", "STOP", changed_at()));
    assert_eq!(status(&step), Some(ConsentStatus::OptedOut));
}

#[test]
fn a_newer_event_never_moves_the_change_time_backwards() {
    // An email confirmation at `now` after a text stamped later by the carrier.
    let mut current = pending();
    current.status_changed_at = now() + Duration::minutes(10);
    let step = run(Some(&current), email());
    let record = step.record.unwrap();
    assert_eq!(record.status, ConsentStatus::OptedIn);
    assert_eq!(record.status_changed_at, now() + Duration::minutes(10));
}

#[test]
fn a_duplicate_inbound_message_id_writes_nothing() {
    for (name, mut current) in every_state() {
        current.opt_out_confirmation_sent = false;
        current.remember_inbound("in-dup");
        for body in ["STOP", "YES", "HELP", "hello?"] {
            let step = run(Some(&current), sms("in-dup", body, now()));
            assert_eq!(step.effect, Effect::Duplicate, "{name} / {body}");
            assert_eq!(step.record, None, "{name} / {body}");
            assert!(step.events.is_empty(), "{name} / {body}");
            assert!(step.replies.is_empty(), "{name} / {body}");
            assert!(!step.is_write(), "{name} / {body}");
        }
    }
}

#[test]
fn applying_an_inbound_text_twice_equals_applying_it_once() {
    let first = run(Some(&pending()), sms("in-7", "STOP", now()));
    let after = first.record.clone().unwrap();
    let second = run(Some(&after), sms("in-7", "STOP", now()));
    assert_eq!(second.effect, Effect::Duplicate);
    assert!(!second.is_write());
    assert!(second.replies.is_empty());
}

#[test]
fn the_record_remembers_a_bounded_number_of_inbound_ids() {
    let mut current = pending();
    current.recent_inbound_ids.clear();
    for i in 0..RECENT_INBOUND_IDS + 5 {
        current.remember_inbound(&format!("id-{i}"));
    }
    assert_eq!(current.recent_inbound_ids.len(), RECENT_INBOUND_IDS);
    assert!(!current.has_applied("id-0"), "the oldest is forgotten");
    assert!(!current.has_applied("id-4"), "the oldest is forgotten");
    for i in 5..RECENT_INBOUND_IDS + 5 {
        assert!(
            current.has_applied(&format!("id-{i}")),
            "id-{i} is remembered"
        );
    }
}

// --- carrier opt-out ----------------------------------------------------------------------------

#[test]
fn carrier_opt_out_opts_out_without_our_confirmation() {
    let mut states: Vec<(&str, Option<ConsentRecord>)> = vec![("no record", None)];
    states.extend(
        every_state()
            .into_iter()
            .filter(|(_, r)| r.status != ConsentStatus::OptedOut)
            .map(|(name, r)| (name, Some(r))),
    );
    for (name, current) in states {
        let step = run(current.as_ref(), ConsentEvent::CarrierOptOut);
        let before = current.as_ref().map(|r| r.status);
        let expected_effect = match before {
            None => Effect::Created(ConsentStatus::OptedOut),
            Some(from) => Effect::Changed {
                from,
                to: ConsentStatus::OptedOut,
            },
        };
        assert_eq!(step.effect, expected_effect, "{name}");
        assert!(
            step.replies.is_empty(),
            "{name}: the carrier answered already"
        );
        let record = step.record.as_ref().unwrap();
        assert_eq!(record.status, ConsentStatus::OptedOut, "{name}");
        assert_eq!(record.basis, ConsentBasis::Carrier, "{name}");
        assert!(record.opt_out_confirmation_sent, "{name}: none is owed");
        match step.events.as_slice() {
            [event] => assert!(
                matches!(
                    &event.kind,
                    AuditKind::OptedOut { from, basis: ConsentBasis::Carrier, text: None, .. }
                        if *from == before
                ),
                "{name}: {event:?}"
            ),
            other => panic!("{name}: expected one event, got {other:?}"),
        }
    }
}

#[test]
fn carrier_opt_out_while_opted_out_changes_nothing() {
    let mut current = opted_out();
    current.opt_out_confirmation_sent = false;
    let step = run(Some(&current), ConsentEvent::CarrierOptOut);
    assert_eq!(step.effect, Effect::Duplicate);
    assert!(!step.is_write());
    assert!(step.replies.is_empty());
}

// --- versions and audit --------------------------------------------------------------------------

fn every_event() -> Vec<(&'static str, ConsentEvent)> {
    vec![
        ("created", created(true)),
        ("created (attested)", created(false)),
        ("yes", text("YES")),
        ("stop", text("STOP")),
        ("help", text("HELP")),
        ("other", text("hello")),
        (
            "stale stop",
            sms("in-old", "STOP", changed_at() - Duration::hours(1)),
        ),
        ("email", email()),
        ("decline", decline()),
        ("carrier", ConsentEvent::CarrierOptOut),
    ]
}

#[test]
fn every_write_increments_the_version_by_exactly_one() {
    for (state, current) in every_state() {
        for (name, event) in every_event() {
            let step = run(Some(&current), event);
            assert_eq!(
                step.expected_version,
                Some(current.version),
                "{state} / {name}: conditioned on the version read"
            );
            if let Some(record) = &step.record {
                assert_eq!(record.version, current.version + 1, "{state} / {name}");
                assert_eq!(record.updated_at, now(), "{state} / {name}");
                assert_eq!(record.created_at, current.created_at, "{state} / {name}");
            }
        }
    }
    for (name, event) in every_event() {
        let step = run(None, event);
        assert_eq!(step.expected_version, None, "{name}");
        if let Some(record) = &step.record {
            assert_eq!(record.version, 1, "{name}: a new record starts at 1");
        }
    }
}

#[test]
fn every_state_change_carries_its_audit_event() {
    let mut states: Vec<(&str, Option<ConsentRecord>)> = vec![("no record", None)];
    states.extend(every_state().into_iter().map(|(n, r)| (n, Some(r))));
    for (state, current) in &states {
        for (name, event) in every_event() {
            let step = run(current.as_ref(), event);
            let before = current.as_ref().map(|r| r.status);
            let after = status(&step);
            if step.is_write() {
                assert!(
                    !step.events.is_empty(),
                    "{state} / {name}: a write without an event"
                );
            }
            let basis_changed = current
                .as_ref()
                .zip(step.record.as_ref())
                .is_some_and(|(c, n)| c.basis != n.basis);
            if after.is_none() || (after == before && !basis_changed) {
                assert!(
                    !kinds(&step).contains(&"opted_in") && !kinds(&step).contains(&"opted_out"),
                    "{state} / {name}: a consent event without a change"
                );
                continue;
            }
            let to = after.unwrap();
            let change = step.events.iter().find_map(|e| match &e.kind {
                AuditKind::OptedIn { from, basis, .. } if to == ConsentStatus::OptedIn => {
                    Some((*from, *basis))
                }
                AuditKind::OptedOut { from, basis, .. } if to == ConsentStatus::OptedOut => {
                    Some((*from, *basis))
                }
                _ => None,
            });
            let basis = step.record.as_ref().unwrap().basis;
            if to == ConsentStatus::Pending {
                assert_eq!(kinds(&step), ["contact_created"], "{state} / {name}");
            } else {
                assert_eq!(
                    change,
                    Some((before, basis)),
                    "{state} / {name}: the change to {to:?} has no matching audit event"
                );
            }
            for event in &step.events {
                assert_eq!(event.at, now(), "{state} / {name}: events are stamped now");
            }
        }
    }
}

#[test]
fn audit_events_of_one_transition_are_ordered() {
    let step = run(None, created(false));
    let ids: Vec<&str> = step.events.iter().map(|e| e.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(ids, sorted, "ids are unique and in order");
}

fn staff(send_confirmation: bool) -> ConsentEvent {
    ConsentEvent::StaffOptOut {
        channel: StaffChannel::PhoneCall,
        recorded_by: "J. Reyes, front desk".to_string(),
        note: Some("Client called: stop texting me".to_string()),
        occurred_at: Some(t("2026-12-01T17:30:00Z")),
        send_confirmation,
    }
}

#[test]
fn a_revocation_staff_record_opts_out_any_number_even_one_without_a_record() {
    let mut states: Vec<(&str, Option<ConsentRecord>)> = vec![("none", None)];
    states.extend(
        every_state()
            .into_iter()
            .filter(|(_, r)| r.status != ConsentStatus::OptedOut)
            .map(|(name, r)| (name, Some(r))),
    );
    for (name, current) in states {
        let step = run(current.as_ref(), staff(false));
        let record = step.record.as_ref().expect("a record is written");
        assert_eq!(record.status, ConsentStatus::OptedOut, "{name}");
        assert_eq!(record.basis, ConsentBasis::StaffRecorded, "{name}");
        assert_eq!(record.status_changed_at, now(), "{name}");
        assert_eq!(kinds(&step), ["opt_out_recorded"], "{name}");
        assert!(matches!(
            &step.events[0].kind,
            AuditKind::OptOutRecorded {
                from,
                channel: StaffChannel::PhoneCall,
                recorded_by,
                confirmation_requested: false,
                ..
            } if *from == current.as_ref().map(|r| r.status) && recorded_by == "J. Reyes, front desk"
        ));
        // No text unless the contact asked for one, and none owed later.
        assert!(step.replies.is_empty(), "{name}");
        assert!(record.opt_out_confirmation_sent, "{name}");
    }
}

#[test]
fn a_revocation_staff_record_sends_the_one_confirmation_only_when_asked() {
    let step = run(Some(&opted_in()), staff(true));
    assert_eq!(step.replies, [Reply::OptOutConfirmation]);
    let record = step.record.as_ref().expect("a record");
    assert!(!record.opt_out_confirmation_sent);
    assert!(matches!(
        &step.events[0].kind,
        AuditKind::OptOutRecorded {
            confirmation_requested: true,
            ..
        }
    ));
}

#[test]
fn a_revocation_staff_record_beside_an_earlier_one_changes_nothing_but_the_trail() {
    let current = opted_out();
    let step = run(Some(&current), staff(true));
    assert_eq!(step.effect, Effect::Recorded);
    assert_eq!(kinds(&step), ["opt_out_recorded"]);
    let record = step
        .record
        .as_ref()
        .expect("the event is written under the record");
    assert_eq!(record.status, ConsentStatus::OptedOut);
    assert_eq!(
        record.basis, current.basis,
        "the earlier revocation stays the one on record"
    );
    assert_eq!(record.status_changed_at, current.status_changed_at);
    assert!(
        step.replies.is_empty(),
        "the earlier revocation had its confirmation"
    );
}
