//! Carrier reconciliation through the function's handler: the numbers the provider lists as
//! opted out (moto's fixed list on the emulator, the outbox's on the other backends) against the
//! records of two firms; and a YES after a carrier opt-out, which asks the provider to lift it.
//! A listed number no firm holds is left alone (shared/consent/tests/carrier_reconciliation.rs:
//! moto's other listed numbers are no phone numbers, so none is a stranger's here).

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use consent::model::phone::PhoneNumber;

use super::{create_contact, register_firm};
use crate::TestService;
use crate::emulator::MOTO_OPTED_OUT;
use crate::invariants::check_trail;

/// Pending at the first firm, opted in at the second; listed by the carrier.
const SHARED: &str = MOTO_OPTED_OUT[0];
/// Opted in at the first firm, opted out by the contact's STOP at the second; listed.
const OPTED_IN: &str = MOTO_OPTED_OUT[1];

fn second_firm(t: &TestService) -> (String, String) {
    (
        format!("{}-b", t.firm_id()),
        format!("+1202{:03}0101", 200 + t.index),
    )
}

async fn record(t: &TestService, firm_id: &str, phone: &str) -> Value {
    let (status, body) = t
        .call(
            Method::GET,
            &format!("/v1/firms/{firm_id}/consents/{phone}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{firm_id} {phone}: {body}");
    body
}

fn events_of<'a>(record: &'a Value, kind: &str) -> Vec<&'a Value> {
    record["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == kind)
        .collect()
}

fn carrier_opt_outs(record: &Value) -> usize {
    events_of(record, "opted_out")
        .into_iter()
        .filter(|e| e["basis"] == "carrier")
        .count()
}

async fn reconcile(
    t: &TestService,
) -> consent::flows::carrier_reconciliation::ReconciliationReport {
    match carrier_reconciliation::reconcile(&t.services).await {
        Ok(report) => report,
        Err(e) => panic!("the reconciliation failed: {e}"),
    }
}

/// Two firms, four listed numbers: the run records the carrier opt-out exactly where a firm
/// may still text the number, the second run records nothing, and a YES afterwards re-subscribes
/// the contact and asks the carrier to lift its opt-out first, so the confirmation arrives.
pub async fn carrier_reconciliation(t: &TestService) {
    register_firm(t).await;
    let (firm_b, firm_b_number) = second_firm(t);
    let (status, body) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{firm_b}"),
            Some(json!({
                "name": "Okafor Legal",
                "sms_number": firm_b_number,
                "support_email": "help@okafor.example",
                "support_phone": "(202) 555-0198",
                "website": "https://okafor.example"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let untouched = t.phone(1);
    for phone in [SHARED, OPTED_IN, untouched.as_str()] {
        let (status, body) = create_contact(t, &format!("c-{phone}"), phone).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    for phone in [SHARED, OPTED_IN] {
        let (status, body) = t
            .call(
                Method::POST,
                &format!("/v1/firms/{firm_b}/contacts"),
                Some(json!({ "contact_id": format!("c-{phone}"), "phone": phone })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    t.reply(SHARED, &firm_b_number, "YES", "in-cr-1").await;
    t.reply(OPTED_IN, &t.firm_number(), "YES", "in-cr-2").await;
    t.reply(OPTED_IN, &firm_b_number, "STOP", "in-cr-3").await;
    // The contacts text STOP to the carrier, which never tells us.
    for phone in [SHARED, OPTED_IN] {
        t.sent.opt_out_at_carrier(phone);
    }

    let report = reconcile(t).await;
    // moto lists numbers of its own beside these (no phone numbers: unreadable).
    assert!(report.listed >= 2, "{report:?}");
    assert_eq!(report.listed - report.unreadable, 2, "{report:?}");
    assert_eq!(report.firms, 2, "{report:?}");
    assert_eq!(report.drifted, 3, "{report:?}");
    assert_eq!(report.recorded, 3, "{report:?}");
    assert_eq!(report.failed, 0, "{report:?}");
    for (firm_id, phone) in [
        (t.firm_id(), SHARED),
        (firm_b.clone(), SHARED),
        (t.firm_id(), OPTED_IN),
    ] {
        let record = record(t, &firm_id, phone).await;
        assert_eq!(record["status"], "opted_out", "{firm_id} {phone}: {record}");
        assert_eq!(record["basis"], "carrier", "{record}");
        assert_eq!(carrier_opt_outs(&record), 1, "{record}");
    }
    // Already opted out by the contact's own STOP at the second firm: left as it was.
    let stopped = record(t, &firm_b, OPTED_IN).await;
    assert_eq!(stopped["basis"], "sms_reply", "{stopped}");
    assert_eq!(carrier_opt_outs(&stopped), 0, "{stopped}");
    assert_eq!(
        record(t, &t.firm_id(), &untouched).await["status"],
        "pending"
    );

    // Idempotent: nothing new the second time.
    let again = reconcile(t).await;
    assert_eq!((again.drifted, again.recorded), (0, 0), "{again:?}");
    assert_eq!(
        carrier_opt_outs(&record(t, &t.firm_id(), OPTED_IN).await),
        1
    );

    // The contact re-subscribes: the carrier is asked to lift its opt-out before the
    // confirmation goes, and its answer is in the trail.
    let texts_before = t.sms_to(OPTED_IN).await.len();
    t.reply(OPTED_IN, &t.firm_number(), "START", "in-cr-4")
        .await;
    let resubscribed = record(t, &t.firm_id(), OPTED_IN).await;
    assert_eq!(resubscribed["status"], "opted_in", "{resubscribed}");
    let requested = events_of(&resubscribed, "carrier_opt_in_requested");
    assert_eq!(requested.len(), 1, "{resubscribed}");
    assert_eq!(requested[0]["outcome"], "opted_in", "{resubscribed}");
    assert_eq!(t.sms_to(OPTED_IN).await.len(), texts_before + 1);
    // The carrier no longer lists the number: the next run leaves it opted in.
    let third = reconcile(t).await;
    assert_eq!(third.recorded, 0, "{third:?}");
    assert_eq!(
        record(t, &t.firm_id(), OPTED_IN).await["status"],
        "opted_in"
    );

    // Every trail touched holds the invariants (the carrier opt-in request among them).
    for (firm_id, phone) in [
        (t.firm_id(), SHARED),
        (firm_b.clone(), SHARED),
        (t.firm_id(), OPTED_IN),
        (firm_b.clone(), OPTED_IN),
    ] {
        let number = match PhoneNumber::parse(phone) {
            Ok(number) => number,
            Err(e) => panic!("{phone}: {e}"),
        };
        let (events, held) = match tokio::try_join!(
            t.services.store.events(&firm_id, &number),
            t.services.store.get_consent(&firm_id, &number)
        ) {
            Ok(read) => read,
            Err(e) => panic!("reading {firm_id} {phone}: {e}"),
        };
        let label = format!("{firm_id} {phone}");
        let (_, problems) = check_trail(&label, &events, held.map(|r| r.status), false);
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
