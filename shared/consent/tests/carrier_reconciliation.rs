//! Carrier reconciliation and the carrier opt-in on re-subscribe, on the in-memory adapters:
//! the outbox plays SNS's opted-out list (paged, 30 days between two opt-ins of one number).

mod common;

use std::sync::Arc;

use chrono::Duration;
use common::{DAYTIME, FIRM_ID, Harness, SentKind, contact, inbound, phone, t};
use consent::adapters::memory::{MemoryOutbox, OPTED_OUT_PAGE};
use consent::evidence::audit::{AuditKind, CarrierOptInOutcome};
use consent::flows::admin::FirmSettings;
use consent::flows::inbound::InboundSms;
use consent::model::phone::PhoneNumber;
use consent::model::record::{ConsentBasis, ConsentStatus};
use consent::ports::{
    CarrierOptIn, Clock, ConsentStore, OptedOutPage, OutgoingSms, SendError, SmsSender,
};

const SECOND_FIRM: &str = "firm-2";
const SECOND_FIRM_NUMBER: &str = "+12125550200";
/// Pending at the first firm, opted in at the second; opted out at the carrier.
const SHARED: &str = "+14155550101";
/// Opted in at the first firm; opted out at the carrier.
const OPTED_IN: &str = "+14155550102";
/// Pending at the first firm; not opted out at the carrier.
const UNTOUCHED: &str = "+14155550103";
/// Opted out by STOP at the first firm; opted out at the carrier too.
const STOPPED: &str = "+14155550104";
/// Opted out at the carrier; no firm holds it.
const STRANGER: &str = "+14155550105";

async fn register_second_firm(h: &Harness) {
    h.services
        .put_firm(
            SECOND_FIRM,
            FirmSettings {
                name: "Okafor Legal".to_string(),
                sms_number: SECOND_FIRM_NUMBER.to_string(),
                support_email: "help@okafor.example".to_string(),
                support_phone: "(555) 010-0299".to_string(),
                website: "https://okafor.example".to_string(),
                ..Default::default()
            },
        )
        .await
        .expect("the second firm registers");
}

fn text_to(firm_number: &str, from: &str, id: &str, body: &str, h: &Harness) -> InboundSms {
    InboundSms {
        to: firm_number.to_string(),
        ..inbound(from, id, body, h.clock.now())
    }
}

async fn record(h: &Harness, firm_id: &str, number: &str) -> (ConsentStatus, ConsentBasis) {
    let record = h
        .store
        .get_consent(firm_id, &phone(number))
        .await
        .expect("the store answers")
        .expect("a record");
    (record.status, record.basis)
}

async fn events(h: &Harness, firm_id: &str, number: &str) -> Vec<AuditKind> {
    h.store
        .events(firm_id, &phone(number))
        .await
        .expect("the store answers")
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

fn carrier_opt_outs(events: &[AuditKind]) -> usize {
    events
        .iter()
        .filter(|k| {
            matches!(
                k,
                AuditKind::OptedOut {
                    basis: ConsentBasis::Carrier,
                    ..
                }
            )
        })
        .count()
}

fn carrier_opt_ins(events: &[AuditKind]) -> Vec<CarrierOptInOutcome> {
    events
        .iter()
        .filter_map(|k| match k {
            AuditKind::CarrierOptInRequested { outcome, .. } => Some(*outcome),
            _ => None,
        })
        .collect()
}

/// Both firms with their records, and the carrier's list.
async fn two_firms() -> Harness {
    let h = Harness::daytime().await;
    register_second_firm(&h).await;
    let s = &h.services;
    s.create_contact(FIRM_ID, contact("c-shared", SHARED))
        .await
        .unwrap();
    s.create_contact(SECOND_FIRM, contact("c-shared", SHARED))
        .await
        .unwrap();
    s.receive_sms(text_to(SECOND_FIRM_NUMBER, SHARED, "in-1", "YES", &h))
        .await
        .unwrap();
    s.create_contact(FIRM_ID, contact("c-in", OPTED_IN))
        .await
        .unwrap();
    s.receive_sms(inbound(OPTED_IN, "in-2", "YES", h.clock.now()))
        .await
        .unwrap();
    s.create_contact(FIRM_ID, contact("c-untouched", UNTOUCHED))
        .await
        .unwrap();
    s.create_contact(FIRM_ID, contact("c-stopped", STOPPED))
        .await
        .unwrap();
    s.receive_sms(inbound(STOPPED, "in-3", "STOP", h.clock.now()))
        .await
        .unwrap();
    for number in [SHARED, OPTED_IN, STOPPED, STRANGER] {
        h.outbox.opt_out_at_carrier(&phone(number));
    }
    assert_eq!(
        record(&h, FIRM_ID, SHARED).await.0,
        ConsentStatus::Pending,
        "the setup"
    );
    assert_eq!(
        record(&h, SECOND_FIRM, SHARED).await.0,
        ConsentStatus::OptedIn
    );
    h
}

#[tokio::test]
async fn a_run_records_the_carrier_opt_out_at_every_firm_that_may_text_the_number() {
    let h = two_firms().await;
    let report = h.services.reconcile_carrier_opt_outs().await.unwrap();
    assert_eq!(report.listed, 4);
    assert_eq!(report.firms, 2);
    assert_eq!(report.drifted, 3, "{report:?}");
    assert_eq!(report.recorded, 3);
    assert_eq!(report.failed, 0);

    for (firm_id, number) in [
        (FIRM_ID, SHARED),
        (SECOND_FIRM, SHARED),
        (FIRM_ID, OPTED_IN),
    ] {
        assert_eq!(
            record(&h, firm_id, number).await,
            (ConsentStatus::OptedOut, ConsentBasis::Carrier),
            "{firm_id} {number}"
        );
        assert_eq!(carrier_opt_outs(&events(&h, firm_id, number).await), 1);
    }
    // Not listed: untouched. Already opted out by the contact's STOP: kept as it was.
    assert_eq!(
        record(&h, FIRM_ID, UNTOUCHED).await.0,
        ConsentStatus::Pending
    );
    assert_eq!(
        record(&h, FIRM_ID, STOPPED).await,
        (ConsentStatus::OptedOut, ConsentBasis::SmsReply)
    );
    assert_eq!(carrier_opt_outs(&events(&h, FIRM_ID, STOPPED).await), 0);
    // Nobody's number: no record is made for it.
    for firm_id in [FIRM_ID, SECOND_FIRM] {
        let held = h.store.get_consent(firm_id, &phone(STRANGER)).await;
        assert!(held.unwrap().is_none());
    }
    // Nothing is texted for a carrier opt-out: the carrier has answered the contact.
    assert_eq!(h.count(OPTED_IN, SentKind::OptOutConfirmation), 0);

    // A second run finds nothing new and writes nothing.
    let before = h.store.snapshot();
    let again = h.services.reconcile_carrier_opt_outs().await.unwrap();
    assert_eq!((again.listed, again.drifted, again.recorded), (4, 0, 0));
    assert_eq!(h.store.snapshot(), before);
}

#[tokio::test]
async fn the_whole_list_is_read_page_by_page() {
    let h = Harness::daytime().await;
    let numbers: Vec<PhoneNumber> = (0..(2 * OPTED_OUT_PAGE + 7))
        .map(|n| phone(&format!("+1415555{:04}", 2000 + n)))
        .collect();
    // The last number of the last page is the one a firm holds.
    let held = numbers.iter().max().unwrap().clone();
    h.services
        .create_contact(FIRM_ID, contact("c-last", held.as_str()))
        .await
        .unwrap();
    for number in &numbers {
        h.outbox.opt_out_at_carrier(number);
    }
    let report = h.services.reconcile_carrier_opt_outs().await.unwrap();
    assert_eq!(report.listed, numbers.len());
    assert_eq!(report.unreadable, 0);
    assert_eq!((report.drifted, report.recorded), (1, 1));
    assert_eq!(
        record(&h, FIRM_ID, held.as_str()).await,
        (ConsentStatus::OptedOut, ConsentBasis::Carrier)
    );
}

#[tokio::test]
async fn yes_after_a_carrier_opt_out_lifts_it_before_the_confirmation_goes() {
    let h = two_firms().await;
    h.services.reconcile_carrier_opt_outs().await.unwrap();

    h.services
        .receive_sms(inbound(OPTED_IN, "in-4", "START", h.clock.now()))
        .await
        .unwrap();
    assert_eq!(
        record(&h, FIRM_ID, OPTED_IN).await,
        (ConsentStatus::OptedIn, ConsentBasis::SmsReply)
    );
    let trail = events(&h, FIRM_ID, OPTED_IN).await;
    assert_eq!(carrier_opt_ins(&trail), [CarrierOptInOutcome::OptedIn]);
    // Lifted first, so the confirmation reached the contact.
    assert_eq!(h.count(OPTED_IN, SentKind::OptInConfirmation), 2);
    assert!(!h.outbox.is_opted_out(&phone(OPTED_IN)).await.unwrap());
    // The next run leaves the number alone.
    let report = h.services.reconcile_carrier_opt_outs().await.unwrap();
    assert_eq!(report.recorded, 0);

    // A YES with no carrier opt-out behind it asks the carrier nothing.
    h.services
        .receive_sms(inbound(UNTOUCHED, "in-5", "YES", h.clock.now()))
        .await
        .unwrap();
    assert!(carrier_opt_ins(&events(&h, FIRM_ID, UNTOUCHED).await).is_empty());
    // Nor does a YES after the contact's own STOP (self-managed opt-outs: SNS holds none).
    h.services
        .receive_sms(inbound(STOPPED, "in-6", "YES", h.clock.now()))
        .await
        .unwrap();
    assert!(carrier_opt_ins(&events(&h, FIRM_ID, STOPPED).await).is_empty());
}

#[tokio::test]
async fn a_second_opt_in_within_30_days_is_refused_and_the_carrier_opt_out_stands() {
    let h = two_firms().await;
    h.services.reconcile_carrier_opt_outs().await.unwrap();
    h.services
        .receive_sms(inbound(OPTED_IN, "in-4", "YES", h.clock.now()))
        .await
        .unwrap();

    // Ten days later the contact texts STOP to the carrier again, and YES to the firm.
    h.set_now(t(DAYTIME) + Duration::days(10));
    h.outbox.opt_out_at_carrier(&phone(OPTED_IN));
    h.services.reconcile_carrier_opt_outs().await.unwrap();
    let confirmations = h.count(OPTED_IN, SentKind::OptInConfirmation);
    h.services
        .receive_sms(inbound(OPTED_IN, "in-7", "YES", h.clock.now()))
        .await
        .unwrap();
    let trail = events(&h, FIRM_ID, OPTED_IN).await;
    assert_eq!(
        carrier_opt_ins(&trail),
        [CarrierOptInOutcome::OptedIn, CarrierOptInOutcome::TooSoon]
    );
    // The YES is on record; the confirmation then failed at the carrier, which records the
    // carrier opt-out again: nothing can reach the number until the carrier lifts it.
    assert!(trail.iter().any(|k| matches!(k, AuditKind::OptedIn { .. })));
    assert_eq!(
        record(&h, FIRM_ID, OPTED_IN).await,
        (ConsentStatus::OptedOut, ConsentBasis::Carrier)
    );
    assert_eq!(
        h.count(OPTED_IN, SentKind::OptInConfirmation),
        confirmations
    );

    // After 30 days the carrier lifts it again.
    h.set_now(t(DAYTIME) + Duration::days(31));
    h.services
        .receive_sms(inbound(OPTED_IN, "in-8", "YES", h.clock.now()))
        .await
        .unwrap();
    assert_eq!(
        record(&h, FIRM_ID, OPTED_IN).await.0,
        ConsentStatus::OptedIn
    );
    assert_eq!(
        carrier_opt_ins(&events(&h, FIRM_ID, OPTED_IN).await).last(),
        Some(&CarrierOptInOutcome::OptedIn)
    );
}

/// A sender whose opt-in requests fail, as SNS does when it is down.
struct OptInFails {
    outbox: Arc<MemoryOutbox>,
}

#[derive(Debug, thiserror::Error)]
#[error("SNS is unavailable")]
struct Unavailable;

#[async_trait::async_trait]
impl SmsSender for OptInFails {
    async fn send_sms(&self, sms: &OutgoingSms) -> Result<String, SendError> {
        self.outbox.send_sms(sms).await
    }

    async fn is_opted_out(&self, phone: &PhoneNumber) -> Result<bool, SendError> {
        self.outbox.is_opted_out(phone).await
    }

    async fn opted_out_numbers(&self, next_token: Option<&str>) -> Result<OptedOutPage, SendError> {
        self.outbox.opted_out_numbers(next_token).await
    }

    async fn opt_in_number(&self, _phone: &PhoneNumber) -> Result<CarrierOptIn, SendError> {
        Err(SendError::Provider {
            operation: "opt_in_phone_number",
            retryable: true,
            source: Box::new(Unavailable),
        })
    }
}

#[tokio::test]
async fn a_failed_opt_in_request_is_recorded_and_the_yes_still_stands_in_the_trail() {
    let (h, _sender) =
        Harness::with_own_sender(t(DAYTIME), |_, outbox| OptInFails { outbox }).await;
    h.services
        .create_contact(FIRM_ID, contact("c-in", OPTED_IN))
        .await
        .unwrap();
    h.outbox.opt_out_at_carrier(&phone(OPTED_IN));
    h.services.reconcile_carrier_opt_outs().await.unwrap();
    h.services
        .receive_sms(inbound(OPTED_IN, "in-1", "YES", h.clock.now()))
        .await
        .unwrap();
    let trail = events(&h, FIRM_ID, OPTED_IN).await;
    let failed = trail.iter().find_map(|k| match k {
        AuditKind::CarrierOptInRequested { outcome, error } => Some((*outcome, error.clone())),
        _ => None,
    });
    assert_eq!(
        failed,
        Some((
            CarrierOptInOutcome::Failed,
            Some("opt_in_phone_number failed".to_string())
        ))
    );
    assert!(trail.iter().any(|k| matches!(k, AuditKind::OptedIn { .. })));
}
