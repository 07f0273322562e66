//! A frequency cap holds a message rather than refusing it (DESIGN §3 gate policy item 5): the
//! message waits for the oldest counted send to leave the 24 hours, named by the cap's rule, and
//! deferred-release sends it then, through the gate again.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{consent, status_of};
use crate::TestService;

fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    match text.parse() {
        Ok(at) => at,
        Err(e) => panic!("{text}: {e}"),
    }
}

async fn marketing(t: &TestService, to: &str, body: &str) -> (StatusCode, Value) {
    t.call(
        Method::POST,
        &format!("/v1/firms/{}/messages", t.firm_id()),
        Some(json!({ "to": to, "body": body, "category": "marketing" })),
    )
    .await
}

/// A Maryland number at the cap: three marketing texts on Tuesday morning, then a fourth at
/// noon (single send) and a fifth (in a batch) are deferred to 09:00 on Wednesday, when the
/// first of the three leaves the day, naming Maryland's rule; released then, one goes and the
/// other waits again for the next place, at 10:00.
pub async fn maryland_at_the_cap(t: &TestService) {
    super::register_firm(t).await;
    let maryland = format!("+1410{:03}1003", 200 + t.index);
    // Tuesday 2026-12-01, 09:00 EST.
    t.clock.set(Some(at("2026-12-01T14:00:00Z")));
    let (status, body) = t
        .call(
            Method::POST,
            &format!("/v1/firms/{}/contacts", t.firm_id()),
            Some(json!({ "contact_id": "md", "phone": maryland })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    t.reply(&maryland, &t.firm_number(), "YES", "in-md-yes")
        .await;
    assert_eq!(status_of(t, &maryland).await, "opted_in");
    for (n, time) in [
        "2026-12-01T14:00:00Z",
        "2026-12-01T15:00:00Z",
        "2026-12-01T16:00:00Z",
    ]
    .into_iter()
    .enumerate()
    {
        t.clock.set(Some(at(time)));
        let (status, body) = marketing(t, &maryland, &format!("Offer {n}")).await;
        assert_eq!(status, StatusCode::ACCEPTED, "#{n}: {body}");
        assert_eq!(body["decision"], "sent", "#{n}: {body}");
    }

    // Noon: the fourth waits for 09:00 EST tomorrow, named by the Maryland rule.
    t.clock.set(Some(at("2026-12-01T17:00:00Z")));
    let (status, body) = marketing(t, &maryland, "Offer 3").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        body,
        json!({
            "decision": "deferred",
            "not_before": "2026-12-02T14:00:00Z",
            "rule": "md_14_4502"
        })
    );
    // In a batch too, the result names the rule.
    let (status, body) = t
        .call(
            Method::POST,
            &format!("/v1/firms/{}/messages/batch", t.firm_id()),
            Some(json!({ "messages": [
                { "to": maryland, "body": "Offer 4", "category": "marketing" },
                { "to": maryland, "body": "Your hearing moved", "category": "transactional" }
            ] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["results"][0],
        json!({
            "decision": "deferred",
            "not_before": "2026-12-02T14:00:00Z",
            "rule": "md_14_4502"
        })
    );
    assert_eq!(
        body["results"][1]["decision"], "sent",
        "the statutory cap is on marketing only"
    );
    let (_, record) = consent(t, &maryland).await;
    let deferred: Vec<&Value> = record["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter(|e| e["type"] == "message_deferred")
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(deferred.len(), 2, "{record}");
    assert!(
        deferred.iter().all(|e| e["rule"] == "md_14_4502"),
        "{deferred:?}"
    );
    let blocked = record["events"]
        .as_array()
        .is_some_and(|events| events.iter().any(|e| e["type"] == "message_blocked"));
    assert!(!blocked, "nothing is refused: {record}");

    // Not due a second early; due at 09:00 EST: the first released goes (one place is free),
    // the second waits for the next place, at 10:00 EST.
    t.clock.set(Some(at("2026-12-02T13:59:59Z")));
    let report = t.services.release_due().await;
    assert!(report.is_ok_and(|r| r.taken == 0));
    t.clock.set(Some(at("2026-12-02T14:00:00Z")));
    let report = match t.services.release_due().await {
        Ok(report) => report,
        Err(e) => panic!("release failed: {e}"),
    };
    assert_eq!((report.sent, report.deferred), (1, 1), "{report:?}");
    let held = ["Offer 3", "Offer 4"];
    let released = |sms: &[String]| sms.iter().filter(|s| held.contains(&s.as_str())).count();
    assert_eq!(released(&t.sms_to(&maryland).await), 1);
    let (_, record) = consent(t, &maryland).await;
    let again = record["events"].as_array().and_then(|events| {
        events
            .iter()
            .rev()
            .find(|e| e["type"] == "message_deferred")
    });
    assert_eq!(
        again.map(|e| (e["not_before"].clone(), e["rule"].clone())),
        Some((json!("2026-12-02T15:00:00Z"), json!("md_14_4502"))),
        "{record}"
    );
    t.clock.set(Some(at("2026-12-02T15:00:00Z")));
    let report = match t.services.release_due().await {
        Ok(report) => report,
        Err(e) => panic!("release failed: {e}"),
    };
    assert_eq!(report.sent, 1, "{report:?}");
    assert_eq!(released(&t.sms_to(&maryland).await), 2);
}
