//! A contact's consent from creation through its replies: the opt-in request, YES, STOP,
//! START, HELP and other texts, a number the carrier already holds as opted out, and a
//! revocation made to the firm's staff.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

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
    // Replies that changed nothing are privileged: the firm reads them with `include=texts`.
    let (_, record) = t
        .call(
            Method::GET,
            &format!("/v1/firms/{}/consents/{phone}?include=texts", t.firm_id()),
            None,
        )
        .await;
    let texts: Vec<&str> = record["events"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter(|e| e["type"] == "reply_received")
                .filter_map(|e| e["disclosed"]["text"]["text"].as_str())
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

/// A revocation made to the firm's staff (FCC: any reasonable means): recorded through the API,
/// the number is opted out at once, with or without a record, texted nothing unless the contact
/// asked, and the trail says who recorded it, how and when; bad input is refused.
pub async fn staff_opt_out(t: &TestService) {
    register_firm(t).await;
    let phone = t.phone(71);
    let (status, body) = create_contact(t, "c71", &phone).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    t.reply(&phone, &t.firm_number(), "YES", "in-staff-yes")
        .await;
    let (status, body) = send(t, &phone, "Your hearing is Monday.", None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let texts_before = t.sms_to(&phone).await.len();

    let path = |phone: &str| format!("/v1/firms/{}/consents/{phone}/opt-out", t.firm_id());
    let revocation = json!({
        "channel": "phone_call",
        "recorded_by": "J. Reyes, front desk",
        "note": "Client called: please stop texting me",
        "occurred_at": "2026-12-01T15:04:00Z"
    });
    let (status, body) = t
        .call(Method::POST, &path(&phone), Some(revocation.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({ "phone": phone, "status": "opted_out", "basis": "staff_recorded" })
    );
    // The gate stops at once, and nothing was texted to the contact.
    let (status, body) = send(t, &phone, "One more thing", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["reason"], "opted_out");
    assert_eq!(t.sms_to(&phone).await.len(), texts_before);
    let (_, record) = consent(t, &phone).await;
    let recorded: Vec<&Value> = record["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == "opt_out_recorded")
        .collect();
    assert_eq!(recorded.len(), 1, "{record}");
    assert_eq!(recorded[0]["channel"], "phone_call");
    assert_eq!(
        recorded[0]["actor"],
        crate::TEST_CALLER,
        "the authenticated caller beside the name typed"
    );
    assert_eq!(recorded[0]["recorded_by"], "J. Reyes, front desk");
    assert_eq!(recorded[0]["occurred_at"], "2026-12-01T15:04:00Z");
    assert_eq!(recorded[0]["from"], "opted_in");
    assert_eq!(recorded[0]["confirmation_requested"], false);
    // Recorded again (a second call): kept in the trail, nothing else changes.
    let (status, body) = t.call(Method::POST, &path(&phone), Some(revocation)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["basis"], "staff_recorded");

    // A number the service never saw: opted out all the same, so the gate never texts it.
    let stranger = t.phone(72);
    let (status, body) = t
        .call(
            Method::POST,
            &path(&stranger),
            Some(json!({ "channel": "in_person", "recorded_by": "A. Lee" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "opted_out");
    let (status, body) = send(t, &stranger, "Hello", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["reason"], "opted_out");

    // Asked for, the one opt-out confirmation goes out.
    let asked = t.phone(73);
    let (status, body) = create_contact(t, "c73", &asked).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let before = t.sms_to(&asked).await.len();
    let (status, body) = t
        .call(
            Method::POST,
            &path(&asked),
            Some(json!({ "channel": "email", "recorded_by": "A. Lee", "send_confirmation": true })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let texts = t.sms_to(&asked).await;
    assert_eq!(texts.len(), before + 1, "{texts:?}");
    assert!(
        texts.last().is_some_and(|s| s.contains("no more messages")),
        "{texts:?}"
    );

    // Bad input: a 4xx that says what is wrong, and nothing recorded.
    for (body, code) in [
        (
            json!({ "channel": "carrier_pigeon", "recorded_by": "A" }),
            "invalid_channel",
        ),
        (
            json!({ "channel": "email", "recorded_by": " " }),
            "invalid_request",
        ),
        (json!({ "channel": "email" }), "invalid_request"),
        (
            json!({ "channel": "email", "recorded_by": "A", "occurred_at": "2999-01-01T00:00:00Z" }),
            "invalid_request",
        ),
        (
            json!({ "channel": "email", "recorded_by": "A", "note": "x".repeat(2_001) }),
            "invalid_request",
        ),
    ] {
        let (status, answer) = t
            .call(Method::POST, &path(&t.phone(74)), Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{body}: {answer}");
    }
    let (status, _) = consent(t, &t.phone(74)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, answer) = t
        .call(
            Method::POST,
            &path("not-a-number"),
            Some(json!({ "channel": "email", "recorded_by": "A" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"]["code"], "invalid_phone");
}

/// A STOP handled more than five minutes after the carrier received it (a late delivery, a
/// retry, a redrive) opts out at once but sends no confirmation, and the trail says why; one
/// handled in time gets its confirmation.
pub async fn late_stop(t: &TestService) {
    register_firm(t).await;
    let (late, prompt) = (t.phone(1), t.phone(2));
    for (contact, phone) in [("c-late", &late), ("c-prompt", &prompt)] {
        let (status, body) = create_contact(t, contact, phone).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        t.reply(phone, &t.firm_number(), "YES", &format!("in-yes-{contact}"))
            .await;
    }
    // Ten minutes on: the STOPs below were received after the YES.
    t.clock.advance(chrono::Duration::minutes(10));
    let now = consent::ports::Clock::now(t.clock.as_ref());
    let texts_before = t.sms_to(&late).await.len();
    t.reply_received_at(
        &late,
        &t.firm_number(),
        "STOP",
        "in-late-stop",
        now - chrono::Duration::minutes(6),
    )
    .await;
    assert_eq!(status_of(t, &late).await, "opted_out");
    assert_eq!(
        t.sms_to(&late).await.len(),
        texts_before,
        "no confirmation after five minutes"
    );
    let (_, record) = consent(t, &late).await;
    let skipped: Vec<&Value> = record["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == "opt_out_confirmation_skipped")
        .collect();
    assert_eq!(skipped.len(), 1, "{record}");
    assert_eq!(skipped[0]["reason"], "confirmation_window_passed");
    // The same STOP delivered again later still sends nothing.
    t.reply(&late, &t.firm_number(), "STOP", "in-late-stop")
        .await;
    assert_eq!(t.sms_to(&late).await.len(), texts_before);

    let texts_before = t.sms_to(&prompt).await.len();
    t.reply_received_at(
        &prompt,
        &t.firm_number(),
        "STOP",
        "in-prompt-stop",
        now - chrono::Duration::minutes(4),
    )
    .await;
    assert_eq!(status_of(t, &prompt).await, "opted_out");
    assert_eq!(
        t.sms_to(&prompt).await.len(),
        texts_before + 1,
        "the confirmation within five minutes"
    );
}

/// HELP (or AYUDA) from a number the firm never had gets the firm's help text at once, creates
/// no consent, and the CRM hears of it; anything else from a stranger gets no answer.
pub async fn help_from_a_stranger(t: &TestService) {
    register_firm(t).await;
    let (stranger, other) = (t.phone(1), t.phone(2));
    t.reply(&stranger, &t.firm_number(), "HELP", "in-stranger-help")
        .await;
    let sent = t.sms_to(&stranger).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("Hartwell & Pine LLP"), "{}", sent[0]);
    assert!(
        sent[0].contains("STOP"),
        "the help text says how to stop: {}",
        sent[0]
    );
    t.reply(&other, &t.firm_number(), "AYUDA", "in-stranger-ayuda")
        .await;
    assert_eq!(t.sms_to(&other).await.len(), 1, "AYUDA is help too");
    let (status, body) = consent(t, &stranger).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no consent is made: {body}");
    // The same HELP delivered again is not answered twice.
    t.reply(&stranger, &t.firm_number(), "HELP", "in-stranger-help")
        .await;
    assert_eq!(t.sms_to(&stranger).await.len(), 1);
    t.reply(&stranger, &t.firm_number(), "YES", "in-stranger-yes")
        .await;
    t.reply(
        &stranger,
        &t.firm_number(),
        "Who is this?",
        "in-stranger-who",
    )
    .await;
    assert_eq!(
        t.sms_to(&stranger).await.len(),
        1,
        "nothing but HELP is answered"
    );
    let (status, feed) = t
        .call(
            Method::GET,
            &format!("/v1/firms/{}/events", t.firm_id()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{feed}");
    let help: Vec<&Value> = feed["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["phone"] == json!(stranger) && e["data"]["kind"] == "help")
        .collect();
    assert_eq!(help.len(), 1, "{feed}");
    assert_eq!(help[0]["contact_ids"], json!([]));
}
