//! A contact's consent from creation through its replies: the opt-in request, YES, STOP,
//! START, HELP and other texts, and a number the carrier already holds as opted out.

use axum::http::StatusCode;
use serde_json::json;

use super::{consent, create_contact, register_firm, send, status_of};
use crate::TestService;

/// create → request sent → YES → gate allows → STOP → one confirmation → gate blocks → START → allows.
pub async fn full_lifecycle(t: &TestService) {
    register_firm(t).await;
    let phone = t.phone(1);
    let national = format!("({}) {}-{}", &phone[2..5], &phone[5..8], &phone[8..]);

    let (status, body) = create_contact(t, "c1", &national).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["phone"], phone);
    assert_eq!(body["consent"]["status"], "pending");
    assert_eq!(body["opt_in_request"]["sms"], "sent");
    assert_eq!(body["opt_in_request"]["email"], "sent");
    let sms = t.sms_to(&phone).await;
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert!(
        sms[0].contains("Hartwell & Pine LLP") && sms[0].contains("YES"),
        "{}",
        sms[0]
    );
    assert_eq!(t.emails_to("c1@client.example").await.len(), 1);

    // The same request again: 200, nothing re-sent.
    let (status, body) = create_contact(t, "c1", &phone).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(t.sms_to(&phone).await.len(), 1);
    assert_eq!(t.emails_to("c1@client.example").await.len(), 1);

    // A second contact with the same number: nothing sent either.
    let (status, body) = create_contact(t, "c1-spouse", &phone).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["opt_in_request"]["sms"], "skipped");
    assert_eq!(t.sms_to(&phone).await.len(), 1);

    let (status, body) = send(t, &phone, "Your hearing is Monday.", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body,
        json!({ "decision": "blocked", "reason": "not_opted_in" })
    );

    t.reply(&phone, &t.firm_number(), "Yes!", "in-1").await;
    assert_eq!(status_of(t, &phone).await, "opted_in");
    let sms = t.sms_to(&phone).await;
    assert_eq!(sms.len(), 2, "{sms:?}");
    assert!(sms[1].contains("confirmed"), "{}", sms[1]);

    let (status, body) = send(t, &phone, "Your hearing is Monday.", None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["decision"], "sent");
    assert!(body["message_id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(
        t.sms_to(&phone).await.last().map(String::as_str),
        Some("Your hearing is Monday.")
    );

    t.reply(&phone, &t.firm_number(), "STOP", "in-2").await;
    assert_eq!(status_of(t, &phone).await, "opted_out");
    let sms = t.sms_to(&phone).await;
    assert_eq!(sms.len(), 4, "{sms:?}");
    assert!(sms[3].contains("unsubscribed"), "{}", sms[3]);

    // A second STOP, and a redelivery of the first: no second confirmation.
    t.reply(&phone, &t.firm_number(), "stop texting me", "in-3")
        .await;
    t.reply(&phone, &t.firm_number(), "STOP", "in-2").await;
    assert_eq!(t.sms_to(&phone).await.len(), 4);

    let (status, body) = send(t, &phone, "Are you there?", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["reason"], "opted_out");
    assert_eq!(t.sms_to(&phone).await.len(), 4);

    t.reply(&phone, &t.firm_number(), "START", "in-4").await;
    assert_eq!(status_of(t, &phone).await, "opted_in");
    let (status, body) = send(t, &phone, "Welcome back.", None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    let (_, record) = consent(t, &phone).await;
    let types: Vec<&str> = record["events"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["type"].as_str()).collect())
        .unwrap_or_default();
    for expected in [
        "contact_created",
        "opted_in",
        "opted_out",
        "message_sent",
        "message_blocked",
        "email_sent",
    ] {
        assert!(
            types.contains(&expected),
            "{expected} missing from {types:?}"
        );
    }
    assert_eq!(record["basis"], "sms_reply");
}

/// HELP gets the help text; other replies are recorded and change nothing.
pub async fn help_and_other_replies(t: &TestService) {
    register_firm(t).await;
    let phone = t.phone(1);
    create_contact(t, "c1", &phone).await;
    t.reply(&phone, &t.firm_number(), "HELP", "in-1").await;
    let sms = t.sms_to(&phone).await;
    assert_eq!(sms.len(), 2, "{sms:?}");
    assert!(
        sms[1].contains("(202) 555-0199") && sms[1].contains("STOP"),
        "{}",
        sms[1]
    );
    t.reply(&phone, &t.firm_number(), "Who is this?", "in-2")
        .await;
    t.reply(
        &phone,
        &t.firm_number(),
        "Yes I'll call you tomorrow",
        "in-3",
    )
    .await;
    assert_eq!(t.sms_to(&phone).await.len(), 2);
    assert_eq!(status_of(t, &phone).await, "pending");
    let (_, record) = consent(t, &phone).await;
    let texts: Vec<&str> = record["events"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter(|e| e["type"] == "reply_received")
                .filter_map(|e| e["text"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        texts,
        vec!["HELP", "Who is this?", "Yes I'll call you tomorrow"]
    );
}

/// A number the carrier holds as opted out is never solicited, and our record says so.
pub async fn carrier_opt_out(t: &TestService) {
    register_firm(t).await;
    let phone = t.phone(99);
    t.sent.opt_out_at_carrier(&phone);
    let (status, body) = create_contact(t, "c99", &phone).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["consent"]["status"], "opted_out");
    assert_eq!(body["opt_in_request"]["sms"], "skipped");
    assert!(t.sms_to(&phone).await.is_empty());
    let (_, record) = consent(t, &phone).await;
    assert_eq!(record["basis"], "carrier");
    let (status, body) = send(t, &phone, "Hello", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["reason"], "opted_out");
}
