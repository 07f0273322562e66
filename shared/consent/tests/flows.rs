//! The service's scenarios through `Services` on the in-memory adapters.

mod common;

use std::sync::{Arc, Mutex};

use chrono::Duration;
use common::{
    BeforeSend, DAYTIME, FIRM_ID, FIRM_NUMBER, Harness, Hooked, SentKind, contact,
    contact_with_email, firm_message, inbound, phone, t, token_in,
};
use consent::adapters::memory::MemoryStore;
use consent::evidence::audit::AuditKind;
use consent::flows::FlowError;
use consent::flows::admin::FirmSettings;
use consent::flows::email_confirm::{ConfirmError, ConfirmResult, DeclineResult};
use consent::flows::onboarding::{NewContact, RequestDelivery};
use consent::flows::send::{SendOutcome, SendRequest};
use consent::model::consent_capture::{CaptureMethod, NewConsentCapture};
use consent::model::gate::{BlockReason, MessageCategory, MessageKind};
use consent::model::record::{ConsentBasis, ConsentStatus, Delivery};
use consent::model::state_rules::RuleId;
use consent::ports::{ConsentStore, ConsentWrite, OutgoingSms, StoredResponse};

const MARIA: &str = "+14155550134";
const EMAIL: &str = "maria@example.com";

async fn status(h: &Harness, number: &str) -> Option<ConsentStatus> {
    h.store
        .get_consent(FIRM_ID, &phone(number))
        .await
        .unwrap()
        .map(|r| r.status)
}

async fn send_firm_message(h: &Harness, to: &str, body: &str) -> SendOutcome {
    h.services
        .gate
        .send(&h.firm, &firm_message(to, body))
        .await
        .expect("the gate answers")
}

fn is_sent(outcome: &SendOutcome) -> bool {
    matches!(outcome, SendOutcome::Sent { .. })
}

/// Creates a contact and has it reply YES: an opted-in number.
async fn opted_in(h: &Harness, contact_id: &str, number: &str) {
    h.services
        .create_contact(FIRM_ID, contact(contact_id, number))
        .await
        .unwrap();
    let yes = inbound(number, &format!("{contact_id}-yes"), "YES", h.clock_now());
    h.services.receive_sms(yes).await.unwrap();
    assert_eq!(status(h, number).await, Some(ConsentStatus::OptedIn));
}

trait Now {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc>;
}

impl Now for Harness {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use consent::ports::Clock;
        self.clock.now()
    }
}

#[tokio::test]
async fn create_yes_stop_start_scenario() {
    let h = Harness::daytime().await;

    // Contact created: the one request by SMS and by email.
    let created = h
        .services
        .create_contact(
            FIRM_ID,
            consent::flows::onboarding::NewContact {
                first_name: Some("Maria".to_string()),
                ..contact_with_email("c-1", "(415) 555-0134", EMAIL)
            },
        )
        .await
        .unwrap();
    assert_eq!(created.phone, phone(MARIA));
    assert_eq!(created.status, ConsentStatus::Pending);
    assert_eq!(created.sms, RequestDelivery::Sent);
    assert_eq!(created.email, RequestDelivery::Sent);
    assert!(created.created);
    assert_eq!(h.sms_kinds(MARIA), [SentKind::OptInRequest]);
    let sms = &h.outbox.sms_to(MARIA)[0];
    assert_eq!(sms.from, FIRM_NUMBER);
    assert!(sms.body.contains("Hi Maria"));
    let emails = h.outbox.contents().email;
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].to, EMAIL);
    assert!(emails[0].subject.contains("Hartwell & Pine LLP"));
    assert!(!token_in(&emails[0].text).is_empty());
    let record = h
        .store
        .get_consent(FIRM_ID, &phone(MARIA))
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(record.opt_in_sms, Delivery::Sent { .. }));
    assert!(matches!(record.opt_in_email, Delivery::Sent { .. }));

    // Pending: the gate blocks the firm's messages.
    assert_eq!(
        send_firm_message(&h, MARIA, "before consent").await,
        SendOutcome::Blocked {
            reason: BlockReason::NotOptedIn,
            rule: None,
        }
    );

    // YES: opted in, with the confirmation.
    let yes = h
        .services
        .receive_sms(inbound(MARIA, "in-1", "Yes!", t(DAYTIME)))
        .await
        .unwrap();
    assert_eq!(yes.status, Some(ConsentStatus::OptedIn));
    assert!(!yes.duplicate);
    assert_eq!(yes.replies.len(), 1);
    assert!(is_sent(&yes.replies[0]));
    assert!(is_sent(
        &send_firm_message(&h, MARIA, "hearing moved").await
    ));

    // STOP: opted out, exactly one confirmation, and the gate blocks.
    let stop = h
        .services
        .receive_sms(inbound(MARIA, "in-2", "STOP", t(DAYTIME)))
        .await
        .unwrap();
    assert_eq!(stop.status, Some(ConsentStatus::OptedOut));
    assert_eq!(stop.replies.len(), 1);
    assert_eq!(h.count(MARIA, SentKind::OptOutConfirmation), 1);
    assert_eq!(
        send_firm_message(&h, MARIA, "after stop").await,
        SendOutcome::Blocked {
            reason: BlockReason::OptedOut,
            rule: None,
        }
    );
    // A second STOP gets no second confirmation.
    let again = h
        .services
        .receive_sms(inbound(MARIA, "in-3", "stop texting me", t(DAYTIME)))
        .await
        .unwrap();
    assert_eq!(again.status, Some(ConsentStatus::OptedOut));
    assert!(again.replies.iter().all(|r| !is_sent(r)));
    assert_eq!(h.count(MARIA, SentKind::OptOutConfirmation), 1);

    // START: back in.
    let start = h
        .services
        .receive_sms(inbound(MARIA, "in-4", "START", t(DAYTIME)))
        .await
        .unwrap();
    assert_eq!(start.status, Some(ConsentStatus::OptedIn));
    assert!(is_sent(&send_firm_message(&h, MARIA, "welcome back").await));

    assert_eq!(
        h.sms_kinds(MARIA),
        [
            SentKind::OptInRequest,
            SentKind::OptInConfirmation,
            SentKind::FirmMessage,
            SentKind::OptOutConfirmation,
            SentKind::OptInConfirmation,
            SentKind::FirmMessage,
        ]
    );

    // The trail holds every decision.
    let view = h.services.consent(FIRM_ID, MARIA).await.unwrap();
    let types: Vec<&str> = view.events.iter().map(|e| e.type_name()).collect();
    for expected in [
        "contact_created",
        "email_sent",
        "opted_in",
        "opted_out",
        "reply_received",
        "message_allowed",
        "message_sent",
        "message_blocked",
    ] {
        assert!(
            types.contains(&expected),
            "{expected} missing from {types:?}"
        );
    }
    assert_eq!(
        types.iter().filter(|t| **t == "message_blocked").count(),
        2,
        "both refusals are recorded"
    );
}

#[tokio::test]
async fn the_email_link_page_changes_nothing_and_the_button_confirms_once() {
    let h = Harness::daytime().await;
    h.services
        .create_contact(FIRM_ID, contact_with_email("c-1", MARIA, EMAIL))
        .await
        .unwrap();
    let token = token_in(&h.outbox.contents().email[0].text);

    let before = h.store.snapshot();
    let view = h.services.view_confirmation(&token).await.unwrap();
    assert_eq!(view.status, ConsentStatus::Pending);
    assert_eq!(view.firm_name, "Hartwell & Pine LLP");
    assert!(
        !view.phone_masked.contains("5550134"),
        "masked: {}",
        view.phone_masked
    );
    h.services.view_confirmation(&token).await.unwrap();
    assert_eq!(h.store.snapshot(), before, "GET changes nothing");

    let (view, result) = h
        .services
        .confirm_email(
            &token,
            Some("203.0.113.7".into()),
            Some("Mozilla/5.0".into()),
        )
        .await
        .unwrap();
    assert_eq!(result, ConfirmResult::Confirmed);
    assert_eq!(view.status, ConsentStatus::OptedIn);
    let record = h
        .store
        .get_consent(FIRM_ID, &phone(MARIA))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.basis, ConsentBasis::EmailConfirmation);
    assert_eq!(h.count(MARIA, SentKind::OptInConfirmation), 1);

    let (view, result) = h.services.confirm_email(&token, None, None).await.unwrap();
    assert_eq!(result, ConfirmResult::AlreadyConfirmed);
    assert_eq!(view.status, ConsentStatus::OptedIn);
    assert_eq!(
        h.count(MARIA, SentKind::OptInConfirmation),
        1,
        "no second confirmation"
    );
    assert!(is_sent(&send_firm_message(&h, MARIA, "hello").await));
}

#[tokio::test]
async fn after_a_stop_the_email_link_does_not_resubscribe() {
    let h = Harness::daytime().await;
    h.services
        .create_contact(FIRM_ID, contact_with_email("c-1", MARIA, EMAIL))
        .await
        .unwrap();
    let token = token_in(&h.outbox.contents().email[0].text);
    h.services
        .receive_sms(inbound(MARIA, "in-1", "STOP", t(DAYTIME)))
        .await
        .unwrap();

    let view = h.services.view_confirmation(&token).await.unwrap();
    assert_eq!(view.status, ConsentStatus::OptedOut);
    let (view, result) = h.services.confirm_email(&token, None, None).await.unwrap();
    assert_eq!(result, ConfirmResult::OptedOut);
    assert_eq!(view.status, ConsentStatus::OptedOut);
    assert_eq!(status(&h, MARIA).await, Some(ConsentStatus::OptedOut));
    assert_eq!(h.count(MARIA, SentKind::OptInConfirmation), 0);
    assert_eq!(
        send_firm_message(&h, MARIA, "hello").await,
        SendOutcome::Blocked {
            reason: BlockReason::OptedOut,
            rule: None,
        }
    );
    let events = h.store.events(FIRM_ID, &phone(MARIA)).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| matches!(e.kind, AuditKind::EmailConfirmationIgnored { .. })),
        "the attempt is recorded"
    );
}

#[tokio::test]
async fn declining_on_the_email_page_opts_out_and_sends_nothing() {
    let h = Harness::daytime().await;
    h.services
        .create_contact(FIRM_ID, contact_with_email("c-1", MARIA, EMAIL))
        .await
        .unwrap();
    let token = token_in(&h.outbox.contents().email[0].text);

    let (view, result) = h
        .services
        .decline_email(
            &token,
            Some("203.0.113.8".into()),
            Some("Mozilla/5.0".into()),
        )
        .await
        .unwrap();
    assert_eq!(result, DeclineResult::Declined);
    assert_eq!(view.status, ConsentStatus::OptedOut);
    let record = h
        .store
        .get_consent(FIRM_ID, &phone(MARIA))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status, ConsentStatus::OptedOut);
    assert_eq!(record.basis, ConsentBasis::EmailDecline);
    assert_eq!(
        h.sms_kinds(MARIA),
        [SentKind::OptInRequest],
        "no confirmation of either kind"
    );

    // A repeat says so and changes nothing; the confirm button cannot undo it.
    let (_, result) = h.services.decline_email(&token, None, None).await.unwrap();
    assert_eq!(result, DeclineResult::AlreadyOptedOut);
    let (_, result) = h.services.confirm_email(&token, None, None).await.unwrap();
    assert_eq!(result, ConfirmResult::OptedOut);
    assert_eq!(status(&h, MARIA).await, Some(ConsentStatus::OptedOut));
    // A later STOP is recorded beside it and owes no text either.
    h.services
        .receive_sms(inbound(MARIA, "in-1", "STOP", t(DAYTIME)))
        .await
        .unwrap();
    assert_eq!(h.sms_kinds(MARIA), [SentKind::OptInRequest]);
    assert_eq!(
        send_firm_message(&h, MARIA, "hello").await,
        SendOutcome::Blocked {
            reason: BlockReason::OptedOut,
            rule: None,
        }
    );
    let events = h.store.events(FIRM_ID, &phone(MARIA)).await.unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.type_name()).collect();
    assert!(types.contains(&"email_decline_ignored"), "{types:?}");
}

#[tokio::test]
async fn declining_after_opting_in_is_an_opt_out_by_email() {
    let h = Harness::daytime().await;
    h.services
        .create_contact(FIRM_ID, contact_with_email("c-1", MARIA, EMAIL))
        .await
        .unwrap();
    let token = token_in(&h.outbox.contents().email[0].text);
    h.services
        .receive_sms(inbound(MARIA, "in-1", "YES", t(DAYTIME)))
        .await
        .unwrap();
    let (_, result) = h.services.decline_email(&token, None, None).await.unwrap();
    assert_eq!(result, DeclineResult::Declined);
    let events = h.store.events(FIRM_ID, &phone(MARIA)).await.unwrap();
    assert!(events.iter().any(|e| matches!(
        e.kind,
        AuditKind::OptedOut {
            from: Some(ConsentStatus::OptedIn),
            basis: ConsentBasis::EmailDecline,
            ..
        }
    )));
    assert_eq!(h.count(MARIA, SentKind::OptOutConfirmation), 0);
}

#[tokio::test]
async fn a_firm_requiring_prior_consent_stores_and_sends_nothing_without_it() {
    let h = Harness::daytime().await;
    h.services
        .put_firm(
            FIRM_ID,
            FirmSettings {
                name: "Hartwell & Pine LLP".to_string(),
                sms_number: FIRM_NUMBER.to_string(),
                support_email: "help@hartwellpine.example".to_string(),
                support_phone: "(555) 010-0199".to_string(),
                website: "https://hartwellpine.example".to_string(),
                require_consent_capture: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let before = h.store.snapshot();
    let refused = h
        .services
        .create_contact(FIRM_ID, contact_with_email("c-1", MARIA, EMAIL))
        .await;
    assert!(
        matches!(refused, Err(FlowError::ConsentCaptureRequired)),
        "{refused:?}"
    );
    let bad = NewConsentCapture {
        method: Some("web_form".into()),
        captured_at: Some("2026-12-02T18:00:00Z".into()),
        ..NewConsentCapture::default()
    };
    let refused = h
        .services
        .create_contact(
            FIRM_ID,
            NewContact {
                consent_capture: Some(bad),
                ..contact_with_email("c-1", MARIA, EMAIL)
            },
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(FlowError::InvalidField {
                field: "consent_capture.captured_at",
                ..
            })
        ),
        "{refused:?}"
    );
    assert_eq!(h.store.snapshot(), before, "nothing stored");
    let sent = h.outbox.contents();
    assert!(sent.sms.is_empty() && sent.email.is_empty(), "nothing sent");

    let capture = NewConsentCapture {
        method: Some("web_form".into()),
        captured_at: Some("2026-11-30T15:04:00Z".into()),
        form_url: Some("https://hartwellpine.example/intake".into()),
        ..NewConsentCapture::default()
    };
    h.services
        .create_contact(
            FIRM_ID,
            NewContact {
                consent_capture: Some(capture),
                ..contact_with_email("c-1", MARIA, EMAIL)
            },
        )
        .await
        .unwrap();
    assert_eq!(h.sms_kinds(MARIA), [SentKind::OptInRequest]);
    let events = h.store.events(FIRM_ID, &phone(MARIA)).await.unwrap();
    let kept = events.iter().find_map(|e| match &e.kind {
        AuditKind::ContactCreated {
            consent_capture, ..
        } => consent_capture.clone(),
        _ => None,
    });
    assert_eq!(
        kept.map(|c| (c.method, c.form_url)),
        Some((
            CaptureMethod::WebForm,
            Some("https://hartwellpine.example/intake".to_string())
        ))
    );
}

#[tokio::test]
async fn a_tampered_or_expired_link_is_refused() {
    let h = Harness::daytime().await;
    h.services
        .create_contact(FIRM_ID, contact_with_email("c-1", MARIA, EMAIL))
        .await
        .unwrap();
    let token = token_in(&h.outbox.contents().email[0].text);
    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert!(matches!(
        h.services.confirm_email(&tampered, None, None).await,
        Err(ConfirmError::Invalid)
    ));
    assert!(matches!(
        h.services.view_confirmation("garbage").await,
        Err(ConfirmError::Invalid)
    ));
    h.set_now(t(DAYTIME) + Duration::days(15));
    assert!(matches!(
        h.services.confirm_email(&token, None, None).await,
        Err(ConfirmError::Expired)
    ));
    assert_eq!(status(&h, MARIA).await, Some(ConsentStatus::Pending));
}

#[tokio::test]
async fn the_same_contact_created_twice_sends_nothing_again() {
    let h = Harness::daytime().await;
    let first = h
        .services
        .create_contact(FIRM_ID, contact_with_email("c-1", MARIA, EMAIL))
        .await
        .unwrap();
    assert!(first.created);
    let again = h
        .services
        .create_contact(FIRM_ID, contact_with_email("c-1", MARIA, EMAIL))
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.status, ConsentStatus::Pending);
    assert_eq!(h.outbox.contents().sms.len(), 1);
    assert_eq!(h.outbox.contents().email.len(), 1);

    // Another contact sharing the number: the request went out once, ever, per number.
    let sharing = h
        .services
        .create_contact(
            FIRM_ID,
            contact_with_email("c-2", "415.555.0134", "other@example.com"),
        )
        .await
        .unwrap();
    assert!(sharing.created);
    assert_eq!(sharing.status, ConsentStatus::Pending);
    assert_eq!(sharing.sms, RequestDelivery::Skipped);
    assert_eq!(sharing.email, RequestDelivery::Skipped);
    assert_eq!(h.outbox.contents().sms.len(), 1);
    assert_eq!(h.outbox.contents().email.len(), 1);
}

#[tokio::test]
async fn an_opted_out_number_is_never_asked_again() {
    let h = Harness::daytime().await;
    // The STOP comes before the CRM creates the contact.
    h.services
        .receive_sms(inbound(MARIA, "in-1", "STOP", t(DAYTIME)))
        .await
        .unwrap();
    assert_eq!(h.count(MARIA, SentKind::OptOutConfirmation), 1);
    let created = h
        .services
        .create_contact(FIRM_ID, contact_with_email("c-1", MARIA, EMAIL))
        .await
        .unwrap();
    assert_eq!(created.status, ConsentStatus::OptedOut);
    assert_eq!(created.sms, RequestDelivery::Skipped);
    assert_eq!(created.email, RequestDelivery::Skipped);
    assert_eq!(h.count(MARIA, SentKind::OptInRequest), 0);
    assert!(h.outbox.contents().email.is_empty());
}

#[tokio::test]
async fn a_mailer_failure_after_the_sms_is_retried_without_a_second_sms() {
    let h = Harness::daytime().await;
    h.outbox.fail_next_email(1);
    let failed = h
        .services
        .create_contact(FIRM_ID, contact_with_email("c-1", MARIA, EMAIL))
        .await;
    match failed {
        Err(error @ FlowError::Send(_)) => assert!(error.is_retryable()),
        other => panic!("expected a retryable send error, got {other:?}"),
    }
    assert_eq!(h.count(MARIA, SentKind::OptInRequest), 1);
    assert!(h.outbox.contents().email.is_empty());

    let retried = h
        .services
        .create_contact(FIRM_ID, contact_with_email("c-1", MARIA, EMAIL))
        .await
        .unwrap();
    assert_eq!(
        retried.sms,
        RequestDelivery::Sent,
        "the SMS went out the first time"
    );
    assert_eq!(retried.email, RequestDelivery::Sent);
    assert_eq!(h.count(MARIA, SentKind::OptInRequest), 1, "no second SMS");
    assert_eq!(h.outbox.contents().email.len(), 1);

    // A third attempt sends nothing at all.
    h.services
        .create_contact(FIRM_ID, contact_with_email("c-1", MARIA, EMAIL))
        .await
        .unwrap();
    assert_eq!(h.outbox.contents().sms.len(), 1);
    assert_eq!(h.outbox.contents().email.len(), 1);
}

#[tokio::test]
async fn an_sms_failure_of_the_request_is_retried_once() {
    let h = Harness::daytime().await;
    h.outbox.fail_next_sms(1);
    assert!(
        h.services
            .create_contact(FIRM_ID, contact("c-1", MARIA))
            .await
            .is_err()
    );
    assert_eq!(h.count(MARIA, SentKind::OptInRequest), 0);
    let record = h
        .store
        .get_consent(FIRM_ID, &phone(MARIA))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record.opt_in_sms,
        Delivery::NotSent,
        "given back for the retry"
    );
    let retried = h
        .services
        .create_contact(FIRM_ID, contact("c-1", MARIA))
        .await
        .unwrap();
    assert_eq!(retried.sms, RequestDelivery::Sent);
    h.services
        .create_contact(FIRM_ID, contact("c-1", MARIA))
        .await
        .unwrap();
    assert_eq!(h.count(MARIA, SentKind::OptInRequest), 1);
}

#[tokio::test]
async fn a_failed_opt_out_confirmation_goes_out_once_on_redelivery() {
    let h = Harness::daytime().await;
    opted_in(&h, "c-1", MARIA).await;
    h.outbox.fail_next_sms(1);
    let stop = inbound(MARIA, "in-stop", "STOP", t(DAYTIME));
    let failed = h.services.receive_sms(stop.clone()).await;
    match failed {
        Err(error) => assert!(error.is_retryable(), "{error:?}"),
        Ok(outcome) => panic!("expected a retryable failure, got {outcome:?}"),
    }
    assert_eq!(
        status(&h, MARIA).await,
        Some(ConsentStatus::OptedOut),
        "the opt-out holds"
    );
    assert_eq!(h.count(MARIA, SentKind::OptOutConfirmation), 0);

    let redelivered = h.services.receive_sms(stop.clone()).await.unwrap();
    assert!(redelivered.duplicate);
    assert_eq!(redelivered.status, Some(ConsentStatus::OptedOut));
    assert_eq!(h.count(MARIA, SentKind::OptOutConfirmation), 1);

    let once_more = h.services.receive_sms(stop).await.unwrap();
    assert!(once_more.duplicate);
    assert!(once_more.replies.is_empty());
    assert_eq!(h.count(MARIA, SentKind::OptOutConfirmation), 1);
    // A different STOP later: still the one confirmation.
    h.services
        .receive_sms(inbound(MARIA, "in-stop-2", "UNSUBSCRIBE", t(DAYTIME)))
        .await
        .unwrap();
    assert_eq!(h.count(MARIA, SentKind::OptOutConfirmation), 1);
}

#[tokio::test]
async fn a_duplicate_inbound_text_is_applied_once() {
    let h = Harness::daytime().await;
    opted_in(&h, "c-1", MARIA).await;
    let help = inbound(MARIA, "in-help", "HELP", t(DAYTIME));
    let first = h.services.receive_sms(help.clone()).await.unwrap();
    assert!(!first.duplicate);
    let second = h.services.receive_sms(help).await.unwrap();
    assert!(second.duplicate);
    assert!(second.replies.is_empty());
    assert_eq!(h.count(MARIA, SentKind::Help), 1);
}

#[tokio::test]
async fn an_out_of_order_stop_does_not_override_a_newer_yes() {
    let h = Harness::daytime().await;
    h.services
        .create_contact(FIRM_ID, contact("c-1", MARIA))
        .await
        .unwrap();
    let later = t(DAYTIME) + Duration::minutes(5);
    h.services
        .receive_sms(inbound(MARIA, "in-yes", "YES", later))
        .await
        .unwrap();
    let stale = h
        .services
        .receive_sms(inbound(
            MARIA,
            "in-stop",
            "STOP",
            later - Duration::minutes(1),
        ))
        .await
        .unwrap();
    assert_eq!(stale.status, Some(ConsentStatus::OptedIn));
    assert!(stale.replies.is_empty());
    assert_eq!(h.count(MARIA, SentKind::OptOutConfirmation), 0);
}

#[tokio::test]
async fn quiet_hours_defer_a_firm_message_until_the_window_opens() {
    let h = Harness::daytime().await;
    opted_in(&h, "c-1", MARIA).await;
    // 02:00 in San Francisco.
    h.set_now(t("2026-12-02T10:00:00Z"));
    let outcome = send_firm_message(&h, MARIA, "your documents are ready").await;
    assert_eq!(
        outcome,
        SendOutcome::Deferred {
            not_before: t("2026-12-02T16:00:00Z"),
            rule: Some(RuleId::Tcpa),
        }
    );
    assert_eq!(h.count(MARIA, SentKind::FirmMessage), 0);

    let early = h.services.release_due().await.unwrap();
    assert_eq!(early.taken, 0, "not due yet");

    h.set_now(t("2026-12-02T16:00:00Z"));
    let report = h.services.release_due().await.unwrap();
    assert_eq!((report.taken, report.sent), (1, 1));
    assert_eq!(h.count(MARIA, SentKind::FirmMessage), 1);
    let sent = h.outbox.sms_to(MARIA);
    assert_eq!(sent.last().unwrap().sent_at, t("2026-12-02T16:00:00Z"));

    let again = h.services.release_due().await.unwrap();
    assert_eq!(again.taken, 0, "released once");
    assert_eq!(h.count(MARIA, SentKind::FirmMessage), 1);
}

#[tokio::test]
async fn an_opt_out_while_deferred_blocks_the_release() {
    let h = Harness::daytime().await;
    opted_in(&h, "c-1", MARIA).await;
    h.set_now(t("2026-12-02T10:00:00Z"));
    assert!(matches!(
        send_firm_message(&h, MARIA, "reminder").await,
        SendOutcome::Deferred { .. }
    ));
    // The STOP's confirmation is an answer: it goes out at once, at night.
    let stop = h
        .services
        .receive_sms(inbound(MARIA, "in-stop", "STOP", t("2026-12-02T10:05:00Z")))
        .await
        .unwrap();
    assert!(is_sent(&stop.replies[0]));
    assert_eq!(h.count(MARIA, SentKind::OptOutConfirmation), 1);

    h.set_now(t("2026-12-02T16:00:00Z"));
    let report = h.services.release_due().await.unwrap();
    assert_eq!((report.taken, report.sent, report.blocked), (1, 0, 1));
    assert_eq!(h.count(MARIA, SentKind::FirmMessage), 0);
}

#[tokio::test]
async fn an_opt_in_request_at_night_is_deferred_and_released_once() {
    let h = Harness::at(t("2026-12-02T10:00:00Z")).await;
    let created = h
        .services
        .create_contact(FIRM_ID, contact_with_email("c-1", MARIA, EMAIL))
        .await
        .unwrap();
    assert_eq!(created.sms, RequestDelivery::Deferred);
    assert_eq!(created.email, RequestDelivery::Sent);
    assert_eq!(h.count(MARIA, SentKind::OptInRequest), 0);
    // Retrying the create does not queue a second request.
    let again = h
        .services
        .create_contact(FIRM_ID, contact_with_email("c-1", MARIA, EMAIL))
        .await
        .unwrap();
    assert_eq!(again.sms, RequestDelivery::Deferred);

    h.set_now(t("2026-12-02T16:00:00Z"));
    let report = h.services.release_due().await.unwrap();
    assert_eq!((report.taken, report.sent), (1, 1));
    assert_eq!(h.count(MARIA, SentKind::OptInRequest), 1);
    assert_eq!(h.services.release_due().await.unwrap().taken, 0);
    assert_eq!(h.count(MARIA, SentKind::OptInRequest), 1);
}

#[tokio::test]
async fn a_batch_of_mixed_recipients_is_answered_in_order() {
    let h = Harness::daytime().await;
    let (opted, pending, unknown, out) = (
        "+14155550101",
        "+14155550102",
        "+14155550103",
        "+14155550104",
    );
    opted_in(&h, "c-opted", opted).await;
    h.services
        .create_contact(FIRM_ID, contact("c-pending", pending))
        .await
        .unwrap();
    opted_in(&h, "c-out", out).await;
    h.services
        .receive_sms(inbound(out, "in-out", "STOP", t(DAYTIME)))
        .await
        .unwrap();

    let requests: Vec<SendRequest> = [opted, pending, unknown, out, opted]
        .iter()
        .enumerate()
        .map(|(i, to)| firm_message(to, &format!("batch {i}")))
        .collect();
    let results = h
        .services
        .gate
        .send_batch(&h.firm, &requests)
        .await
        .unwrap();
    let outcomes: Vec<SendOutcome> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(outcomes.len(), 5);
    assert!(is_sent(&outcomes[0]));
    assert_eq!(
        outcomes[1],
        SendOutcome::Blocked {
            reason: BlockReason::NotOptedIn,
            rule: None,
        }
    );
    assert_eq!(
        outcomes[2],
        SendOutcome::Blocked {
            reason: BlockReason::UnknownRecipient,
            rule: None,
        }
    );
    assert_eq!(
        outcomes[3],
        SendOutcome::Blocked {
            reason: BlockReason::OptedOut,
            rule: None,
        }
    );
    assert!(is_sent(&outcomes[4]));
    let bodies: Vec<String> = h
        .outbox
        .sms_to(opted)
        .into_iter()
        .filter(|s| s.body.starts_with(common::FIRM_MESSAGE_MARK))
        .map(|s| s.body)
        .collect();
    assert_eq!(bodies, ["[firm] batch 0", "[firm] batch 4"], "in order");
    assert_eq!(h.count(pending, SentKind::FirmMessage), 0);
    assert_eq!(h.count(out, SentKind::FirmMessage), 0);
}

#[tokio::test]
async fn a_batch_at_night_defers_the_allowed_and_still_blocks_the_rest() {
    let h = Harness::daytime().await;
    let (opted, pending) = ("+14155550101", "+14155550102");
    opted_in(&h, "c-opted", opted).await;
    h.services
        .create_contact(FIRM_ID, contact("c-pending", pending))
        .await
        .unwrap();
    h.set_now(t("2026-12-02T10:00:00Z"));
    let requests = [firm_message(opted, "a"), firm_message(pending, "b")];
    let results = h
        .services
        .gate
        .send_batch(&h.firm, &requests)
        .await
        .unwrap();
    assert_eq!(
        results[0].as_ref().unwrap(),
        &SendOutcome::Deferred {
            not_before: t("2026-12-02T16:00:00Z"),
            rule: Some(RuleId::Tcpa),
        }
    );
    assert_eq!(
        results[1].as_ref().unwrap(),
        &SendOutcome::Blocked {
            reason: BlockReason::NotOptedIn,
            rule: None,
        }
    );
}

#[tokio::test]
async fn a_carrier_opt_out_found_at_send_time_is_recorded() {
    let h = Harness::daytime().await;
    opted_in(&h, "c-1", MARIA).await;
    h.outbox.opt_out_at_carrier(&phone(MARIA));
    assert_eq!(
        send_firm_message(&h, MARIA, "hello").await,
        SendOutcome::Blocked {
            reason: BlockReason::OptedOut,
            rule: None,
        }
    );
    let record = h
        .store
        .get_consent(FIRM_ID, &phone(MARIA))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status, ConsentStatus::OptedOut);
    assert_eq!(record.basis, ConsentBasis::Carrier);
    assert_eq!(
        send_firm_message(&h, MARIA, "again").await,
        SendOutcome::Blocked {
            reason: BlockReason::OptedOut,
            rule: None,
        }
    );
}

#[tokio::test]
async fn double_opt_in_off_attests_consent_and_switching_it_back_on_blocks() {
    let h = Harness::daytime().await;
    assert!(matches!(
        h.services
            .set_double_opt_in(FIRM_ID, false, "ops@firm", false)
            .await,
        Err(FlowError::RiskNotAcknowledged)
    ));
    h.services
        .set_double_opt_in(FIRM_ID, false, "ops@firm", true)
        .await
        .unwrap();
    let firm = h.firm().await;
    assert!(!firm.double_opt_in);

    let created = h
        .services
        .create_contact(FIRM_ID, contact_with_email("c-1", MARIA, EMAIL))
        .await
        .unwrap();
    assert_eq!(created.status, ConsentStatus::OptedIn);
    assert_eq!(created.sms, RequestDelivery::Skipped);
    assert_eq!(created.email, RequestDelivery::Skipped);
    assert!(h.outbox.contents().sms.is_empty());
    assert!(is_sent(
        &h.services
            .gate
            .send(&firm, &firm_message(MARIA, "hello"))
            .await
            .unwrap()
    ));

    h.services
        .set_double_opt_in(FIRM_ID, true, "ops@firm", false)
        .await
        .unwrap();
    let firm = h.firm().await;
    assert_eq!(
        h.services
            .gate
            .send(&firm, &firm_message(MARIA, "again"))
            .await
            .unwrap(),
        SendOutcome::Blocked {
            reason: BlockReason::NotOptedIn,
            rule: None,
        }
    );
    // HELP is still answered.
    let help = h
        .services
        .receive_sms(inbound(MARIA, "in-help", "HELP", t(DAYTIME)))
        .await
        .unwrap();
    assert!(is_sent(&help.replies[0]), "{:?}", help.replies);
}

#[tokio::test]
async fn an_idempotent_request_runs_once() {
    let h = Harness::daytime().await;
    opted_in(&h, "c-1", MARIA).await;
    let payload = serde_json::json!({"to": MARIA, "body": "hello"});
    let send = || async {
        let outcome = h
            .services
            .gate
            .send(
                &h.firm,
                &SendRequest {
                    idempotency_key: Some("key-1".to_string()),
                    ..firm_message(MARIA, "hello")
                },
            )
            .await?;
        Ok(StoredResponse {
            status: 202,
            body: serde_json::to_value(outcome).unwrap(),
        })
    };
    let (first, replayed) = h
        .services
        .idempotent("key-1", &payload, send)
        .await
        .unwrap();
    assert!(!replayed);
    let (second, replayed) = h
        .services
        .idempotent("key-1", &payload, send)
        .await
        .unwrap();
    assert!(replayed, "the stored response is replayed");
    assert_eq!(first, second);
    assert_eq!(h.count(MARIA, SentKind::FirmMessage), 1);
    let other = serde_json::json!({"to": MARIA, "body": "different"});
    assert!(matches!(
        h.services.idempotent("key-1", &other, send).await,
        Err(FlowError::IdempotencyMismatch)
    ));
}

#[tokio::test]
async fn replies_to_an_unknown_firm_number_are_rejected() {
    let h = Harness::daytime().await;
    let mut sms = inbound(MARIA, "in-1", "STOP", t(DAYTIME));
    sms.to = "+12125550199".to_string();
    let error = h.services.receive_sms(sms).await.unwrap_err();
    assert!(!error.is_retryable());
    assert_eq!(status(&h, MARIA).await, None);
}

#[tokio::test]
async fn the_gate_records_every_decision() {
    let h = Harness::daytime().await;
    opted_in(&h, "c-1", MARIA).await;
    h.set_now(t("2026-12-02T10:00:00Z"));
    send_firm_message(&h, MARIA, "deferred").await;
    h.services
        .receive_sms(inbound(MARIA, "in-stop", "STOP", t("2026-12-02T10:01:00Z")))
        .await
        .unwrap();
    send_firm_message(&h, MARIA, "blocked").await;
    let events = h.store.events(FIRM_ID, &phone(MARIA)).await.unwrap();
    let deferred = events.iter().any(|e| {
        matches!(&e.kind, AuditKind::MessageDeferred { kind: MessageKind::FirmMessage, body, .. } if body.ends_with("deferred"))
    });
    let blocked = events.iter().any(|e| {
        matches!(&e.kind, AuditKind::MessageBlocked { reason: BlockReason::OptedOut, body, category: MessageCategory::Marketing, .. } if body.ends_with("blocked"))
    });
    assert!(deferred && blocked, "{events:#?}");
}

/// An SMS sender that notes what the store says at the moment the provider gets a message.
struct Observing {
    store: Arc<MemoryStore>,
    seen: Mutex<Vec<(Delivery, bool)>>,
}

#[async_trait::async_trait]
impl BeforeSend for Observing {
    async fn before_send(&self, sms: &OutgoingSms) {
        let record = self
            .store
            .get_consent(FIRM_ID, &sms.to)
            .await
            .unwrap()
            .expect("the gate sends only to known numbers");
        self.seen
            .lock()
            .unwrap()
            .push((record.opt_in_sms, record.opt_out_confirmation_sent));
    }
}

#[tokio::test]
async fn one_time_messages_are_claimed_in_the_store_before_the_provider_gets_them() {
    let (h, observing) = Harness::with_own_sender(t(DAYTIME), |store, outbox| {
        Hooked::new(
            outbox,
            Observing {
                store,
                seen: Mutex::default(),
            },
        )
    })
    .await;

    h.services
        .create_contact(FIRM_ID, contact("c-1", MARIA))
        .await
        .unwrap();
    let (request, _) = observing.seen.lock().unwrap()[0].clone();
    assert!(
        matches!(request, Delivery::Claimed { .. }),
        "a crash during the send must not allow a second request: {request:?}"
    );
    h.services
        .receive_sms(inbound(MARIA, "in-stop", "STOP", t(DAYTIME)))
        .await
        .unwrap();
    let (_, confirmation_claimed) = observing.seen.lock().unwrap()[1].clone();
    assert!(
        confirmation_claimed,
        "the opt-out confirmation is claimed first"
    );
    assert_eq!(h.count(MARIA, SentKind::OptInRequest), 1);
    assert_eq!(h.count(MARIA, SentKind::OptOutConfirmation), 1);
}

#[tokio::test]
async fn a_request_claimed_by_a_process_that_died_is_not_sent_again() {
    let h = Harness::daytime().await;
    h.outbox.fail_next_sms(1);
    // The first attempt fails at the provider: the claim is given back.
    assert!(
        h.services
            .create_contact(FIRM_ID, contact("c-1", MARIA))
            .await
            .is_err()
    );
    // Simulate a process that claimed the request and died before recording the send.
    let mut record = h
        .store
        .get_consent(FIRM_ID, &phone(MARIA))
        .await
        .unwrap()
        .unwrap();
    let expected = record.version;
    record.version += 1;
    record.opt_in_sms = Delivery::Claimed { at: t(DAYTIME) };
    h.store
        .commit(ConsentWrite::new(
            FIRM_ID,
            &phone(MARIA),
            Some(expected),
            Some(record),
            Vec::new(),
        ))
        .await
        .unwrap();
    let retried = h
        .services
        .create_contact(FIRM_ID, contact("c-1", MARIA))
        .await
        .unwrap();
    assert_ne!(retried.sms, RequestDelivery::Deferred);
    assert_eq!(
        h.count(MARIA, SentKind::OptInRequest),
        0,
        "never a second request"
    );
}

/// A sender that takes a while per message and counts how many are in flight at once.
struct Slow {
    in_flight: Mutex<(usize, usize)>,
}

#[async_trait::async_trait]
impl BeforeSend for Slow {
    async fn before_send(&self, _: &OutgoingSms) {
        {
            let mut counts = self.in_flight.lock().unwrap();
            counts.0 += 1;
            counts.1 = counts.1.max(counts.0);
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        self.in_flight.lock().unwrap().0 -= 1;
    }
}

#[tokio::test]
async fn a_batch_sends_to_different_numbers_at_once_and_to_one_number_in_order() {
    let (h, slow) = Harness::with_own_sender(t(DAYTIME), |_, outbox| {
        Hooked::new(
            outbox,
            Slow {
                in_flight: Mutex::new((0, 0)),
            },
        )
    })
    .await;
    let numbers: Vec<String> = (0..40)
        .map(|i| format!("+1415555{:04}", 1000 + i))
        .collect();
    for (i, number) in numbers.iter().enumerate() {
        opted_in(&h, &format!("c-{i}"), number).await;
    }
    *slow.in_flight.lock().unwrap() = (0, 0);
    // Three rounds over the numbers, interleaved: each number's three messages must go in order.
    let requests: Vec<SendRequest> = (0..3)
        .flat_map(|round| {
            numbers
                .iter()
                .map(move |n| firm_message(n, &format!("round {round}")))
        })
        .collect();
    let results = h
        .services
        .gate
        .send_batch(&h.firm, &requests)
        .await
        .unwrap();
    assert_eq!(results.len(), 120);
    assert!(results.iter().all(|r| matches!(r, Ok(o) if is_sent(o))));
    let peak = slow.in_flight.lock().unwrap().1;
    assert!(
        (2..=consent::flows::send::BATCH_CONCURRENCY).contains(&peak),
        "{peak} messages in flight at once"
    );
    for number in &numbers {
        let bodies: Vec<String> = h
            .outbox
            .sms_to(number)
            .into_iter()
            .filter(|s| s.body.starts_with(common::FIRM_MESSAGE_MARK))
            .map(|s| s.body)
            .collect();
        assert_eq!(
            bodies,
            ["[firm] round 0", "[firm] round 1", "[firm] round 2"],
            "{number}"
        );
    }
}

#[tokio::test]
async fn the_trail_keeps_the_sent_email_without_a_usable_link() {
    let h = Harness::daytime().await;
    h.services
        .create_contact(FIRM_ID, contact_with_email("c-1", MARIA, EMAIL))
        .await
        .unwrap();
    let email = &h.outbox.contents().email[0];
    let token = token_in(&email.text);
    let events = h.store.events(FIRM_ID, &phone(MARIA)).await.unwrap();
    let trail = serde_json::to_string(&events).unwrap();
    assert!(
        !trail.contains(&token),
        "a live token in the trail: {trail}"
    );
    let marker = consent::evidence::token::withheld_marker(&token);
    let sent = events
        .iter()
        .find_map(|e| match &e.kind {
            AuditKind::EmailSent { text, html, .. } => Some((text.clone(), html.clone())),
            _ => None,
        })
        .expect("an email_sent event");
    // The link that was sent is still provable: its hash stands where the token was.
    assert_eq!(sent.0, email.text.replace(&token, &marker));
    assert_eq!(sent.1, email.html.replace(&token, &marker));
    // And the link the contact got still works.
    let (_, result) = h
        .services
        .confirm_email(&token, Some("203.0.113.9".into()), None)
        .await
        .unwrap();
    assert_eq!(result, ConfirmResult::Confirmed);
}

#[tokio::test]
async fn a_message_the_provider_refused_does_not_count_toward_a_cap() {
    // Florida: three marketing messages a day at most, and only those the carrier took count.
    const FLORIDA: &str = "+13055550123";
    let h = Harness::daytime().await;
    opted_in(&h, "c-fl", FLORIDA).await;
    assert!(is_sent(&send_firm_message(&h, FLORIDA, "one").await));
    h.outbox.fail_next_sms(1);
    let refused = h
        .services
        .gate
        .send(&h.firm, &firm_message(FLORIDA, "two"))
        .await;
    assert!(refused.is_err(), "{refused:?}");
    assert!(is_sent(&send_firm_message(&h, FLORIDA, "two, again").await));
    assert!(is_sent(&send_firm_message(&h, FLORIDA, "three").await));
    assert_eq!(
        send_firm_message(&h, FLORIDA, "four").await,
        SendOutcome::Deferred {
            // 13:00 in Miami: a day after the first accepted send, in the Florida window.
            not_before: t(common::DAYTIME) + Duration::hours(24),
            rule: Some(RuleId::Florida),
        },
        "three accepted: the cap holds the fourth for a day"
    );
}

/// Another instance of the release job: it runs a whole pass of its own while the first hands
/// its first message to the provider (once armed).
struct SecondReleaser {
    second: consent::flows::Services,
    armed: std::sync::atomic::AtomicBool,
    report: Mutex<Option<consent::flows::release::ReleaseReport>>,
}

#[async_trait::async_trait]
impl BeforeSend for SecondReleaser {
    async fn before_send(&self, _: &OutgoingSms) {
        if self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
            let report = self.second.release_due().await.expect("the second pass");
            *self.report.lock().unwrap() = Some(report);
        }
    }
}

#[tokio::test]
async fn two_releasers_at_once_send_each_deferred_message_once() {
    const OTHER: &str = "+14155550135";
    let release_at = t("2026-12-02T16:00:00Z");
    let (h, second) = Harness::with_own_sender(t(DAYTIME), |store, outbox| {
        let clock = Arc::new(consent::adapters::memory::SettableClock::frozen(release_at));
        let second = consent::flows::Services::new(
            store,
            outbox.clone(),
            outbox.clone(),
            clock,
            None,
            consent::flows::ServiceConfig::default(),
        );
        Hooked::new(
            outbox,
            SecondReleaser {
                second,
                armed: std::sync::atomic::AtomicBool::new(false),
                report: Mutex::new(None),
            },
        )
    })
    .await;
    opted_in(&h, "c-1", MARIA).await;
    opted_in(&h, "c-2", OTHER).await;
    // 02:00 in San Francisco: both held for the morning.
    h.set_now(t("2026-12-02T10:00:00Z"));
    for to in [MARIA, OTHER] {
        let outcome = send_firm_message(&h, to, "your documents are ready").await;
        assert!(
            matches!(outcome, SendOutcome::Deferred { .. }),
            "{outcome:?}"
        );
    }

    h.set_now(release_at);
    second
        .armed
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let first = h.services.release_due().await.unwrap();
    let other = second
        .report
        .lock()
        .unwrap()
        .take()
        .expect("the second pass ran");
    // The first took MARIA's and was sending it when the second took OTHER's; the first then
    // found OTHER's gone and left it.
    assert_eq!((first.taken, first.sent), (1, 1), "{first:?}");
    assert_eq!((other.taken, other.sent), (1, 1), "{other:?}");
    assert_eq!(h.count(MARIA, SentKind::FirmMessage), 1);
    assert_eq!(h.count(OTHER, SentKind::FirmMessage), 1);
    assert_eq!(h.services.release_due().await.unwrap().taken, 0);
}
