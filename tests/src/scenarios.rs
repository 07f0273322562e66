//! The scenarios, each an async function over a `TestService`, so the same flows run on the
//! embedded store and on the AWS adapters.

use axum::http::{Method, StatusCode};
use chrono::Duration;
use serde_json::{Value, json};

use crate::{TestService, confirm_token};

/// Registers this test's firm.
pub async fn register_firm(t: &TestService) {
    let (status, body) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{}", t.firm_id()),
            Some(json!({
                "name": "Hartwell & Pine LLP",
                "sms_number": t.firm_number(),
                "support_email": "help@hartwell.example",
                "support_phone": "(202) 555-0199",
                "website": "https://hartwell.example"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["double_opt_in"], true);
}

async fn create_contact(t: &TestService, contact_id: &str, phone: &str) -> (StatusCode, Value) {
    t.call(
        Method::POST,
        &format!("/v1/firms/{}/contacts", t.firm_id()),
        Some(json!({
            "contact_id": contact_id,
            "phone": phone,
            "email": format!("{contact_id}@client.example"),
            "first_name": "Maria",
            "last_name": "Lopez",
            "source": "intake form"
        })),
    )
    .await
}

async fn send(t: &TestService, to: &str, body: &str, key: Option<&str>) -> (StatusCode, Value) {
    let mut message = json!({ "to": to, "body": body });
    if let Some(key) = key {
        message["idempotency_key"] = json!(key);
    }
    t.call(
        Method::POST,
        &format!("/v1/firms/{}/messages", t.firm_id()),
        Some(message),
    )
    .await
}

async fn consent(t: &TestService, phone: &str) -> (StatusCode, Value) {
    t.call(
        Method::GET,
        &format!("/v1/firms/{}/consents/{}", t.firm_id(), phone),
        None,
    )
    .await
}

async fn status_of(t: &TestService, phone: &str) -> String {
    let (code, body) = consent(t, phone).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    body["status"].as_str().unwrap_or_default().to_string()
}

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

/// The email link: GET changes nothing, POST confirms, repeat says already confirmed; bad and
/// expired tokens get their pages.
pub async fn email_confirmation(t: &TestService) {
    register_firm(t).await;
    let phone = t.phone(1);
    create_contact(t, "c1", &phone).await;
    let emails = t.emails_to("c1@client.example").await;
    assert_eq!(emails.len(), 1);
    let Some(token) = confirm_token(&emails[0].body) else {
        panic!("no confirmation link in {}", emails[0].body);
    };
    let path = format!("/confirm/{token}");

    let (status, page) = t.call(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    let html = page["html"].as_str().unwrap_or_default();
    assert!(html.contains("<form method=\"post\""), "{html}");
    assert!(html.contains("Hartwell &amp; Pine LLP"), "{html}");
    assert!(html.contains("+1415***"), "masked phone expected: {html}");
    assert!(
        !html.contains(&phone),
        "the page must not show the whole number"
    );
    assert_eq!(status_of(t, &phone).await, "pending");

    let (status, page) = t
        .call_with(
            Method::POST,
            &path,
            None,
            &[("user-agent", "Mozilla/5.0 test")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page["html"]
            .as_str()
            .unwrap_or_default()
            .contains("confirmed")
    );
    assert_eq!(status_of(t, &phone).await, "opted_in");
    let sms = t.sms_to(&phone).await;
    assert_eq!(sms.len(), 2, "request and confirmation: {sms:?}");

    let (status, page) = t.call(Method::POST, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page["html"]
            .as_str()
            .unwrap_or_default()
            .contains("Already confirmed")
    );
    assert_eq!(t.sms_to(&phone).await.len(), 2);

    let (_, record) = consent(t, &phone).await;
    assert_eq!(record["basis"], "email_confirmation");
    let evidence = record["events"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["type"] == "opted_in"))
        .map(|e| e["evidence"].clone())
        .unwrap_or_default();
    assert_eq!(evidence["channel"], "email");
    assert_eq!(evidence["user_agent"], "Mozilla/5.0 test");

    // Tampered: change one character of the payload.
    let mut tampered = token.clone().into_bytes();
    let at = tampered.len() / 2;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8_lossy(&tampered).to_string();
    let (status, page) = t
        .call(Method::POST, &format!("/confirm/{tampered}"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page["html"].as_str().unwrap_or_default().contains("YES"));
    let (status, _) = t.call(Method::GET, "/confirm/not-a-token", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Expired: a new contact's link, used 15 days later.
    let other = t.phone(2);
    create_contact(t, "c2", &other).await;
    let emails = t.emails_to("c2@client.example").await;
    let token = emails
        .first()
        .and_then(|e| confirm_token(&e.body))
        .unwrap_or_default();
    t.clock.advance(Duration::days(15));
    let (status, page) = t
        .call(Method::POST, &format!("/confirm/{token}"), None)
        .await;
    assert_eq!(status, StatusCode::GONE);
    assert!(
        page["html"]
            .as_str()
            .unwrap_or_default()
            .contains("expired")
    );
    assert_eq!(status_of(t, &other).await, "pending");
}

/// After a STOP, the email link cannot re-subscribe; the page says to text START.
pub async fn email_after_stop(t: &TestService) {
    register_firm(t).await;
    let phone = t.phone(1);
    create_contact(t, "c1", &phone).await;
    let token = t
        .emails_to("c1@client.example")
        .await
        .first()
        .and_then(|e| confirm_token(&e.body))
        .unwrap_or_default();
    t.reply(&phone, &t.firm_number(), "Wrong number", "in-1")
        .await;
    assert_eq!(status_of(t, &phone).await, "opted_out");
    let (status, page) = t
        .call(Method::POST, &format!("/confirm/{token}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page["html"].as_str().unwrap_or_default().contains("START"));
    assert_eq!(status_of(t, &phone).await, "opted_out");
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

/// Double opt-in off needs an acknowledged risk; contacts are then firm-attested, and stop being
/// textable when it is turned back on.
pub async fn double_opt_in_off(t: &TestService) {
    register_firm(t).await;
    let path = format!("/v1/firms/{}/double-opt-in", t.firm_id());
    let (status, body) = t
        .call(
            Method::PUT,
            &path,
            Some(json!({ "enabled": false, "changed_by": "ops@hartwell.example" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "risk_not_acknowledged");
    let (status, body) = t
        .call(
            Method::PUT,
            &path,
            Some(json!({ "enabled": false, "changed_by": "ops@hartwell.example", "acknowledge_risk": true })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["double_opt_in"], false);
    assert_eq!(
        body["double_opt_in_changed"]["changed_by"],
        "ops@hartwell.example"
    );

    let phone = t.phone(1);
    let (status, body) = create_contact(t, "c1", &phone).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["consent"]["status"], "opted_in");
    assert_eq!(body["opt_in_request"]["sms"], "skipped");
    assert!(t.sms_to(&phone).await.is_empty());
    let (_, record) = consent(t, &phone).await;
    assert_eq!(record["basis"], "firm_attested");
    let (status, _) = send(t, &phone, "Hello", None).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let (status, _) = t
        .call(
            Method::PUT,
            &path,
            Some(json!({ "enabled": true, "changed_by": "ops@hartwell.example" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send(t, &phone, "Hello again", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["reason"], "not_opted_in");

    // The contact's own YES replaces the firm's word, and counts with double opt-in on.
    t.reply(&phone, &t.firm_number(), "YES", "in-attested")
        .await;
    let (_, record) = consent(t, &phone).await;
    assert_eq!(record["basis"], "sms_reply");
    assert_eq!(
        t.sms_to(&phone).await.len(),
        2,
        "the first message and the confirmation"
    );
    let (status, body) = send(t, &phone, "Hello again", None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

/// Templates: listed with defaults, overrides validated with a preview, used, reset.
pub async fn templates(t: &TestService) {
    register_firm(t).await;
    let base = format!("/v1/firms/{}/templates", t.firm_id());
    let (status, body) = t.call(Method::GET, &base, None).await;
    assert_eq!(status, StatusCode::OK);
    let all = body["templates"].as_array().cloned().unwrap_or_default();
    assert_eq!(all.len(), 5);
    assert!(all.iter().all(|t| t["default"] == true));

    let (status, body) = t
        .call(
            Method::PUT,
            &format!("{base}/sms_opt_in_request"),
            Some(json!({ "body": "Hi, text us back!" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "template_invalid");
    let problems = body["error"]["problems"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        problems.len() >= 4,
        "every missing element listed: {problems:?}"
    );

    let custom = "{{ firm_name }}: reply YES to get case updates by text. Msg & data rates may apply. HELP for help, STOP to end.";
    let (status, body) = t
        .call(
            Method::PUT,
            &format!("{base}/sms_opt_in_request"),
            Some(json!({ "body": custom })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["preview"]["body"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Hartwell & Pine LLP: reply YES")
    );
    assert_eq!(body["segments"], 1);

    let (_, body) = t.call(Method::GET, &base, None).await;
    let request = body["templates"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|t| t["name"] == "sms_opt_in_request")
                .cloned()
        })
        .unwrap_or_default();
    assert_eq!(request["default"], false);

    let phone = t.phone(1);
    create_contact(t, "c1", &phone).await;
    let sms = t.sms_to(&phone).await;
    assert_eq!(sms, vec!["Hartwell & Pine LLP: reply YES to get case updates by text. Msg & data rates may apply. HELP for help, STOP to end.".to_string()]);

    let (status, body) = t
        .call(Method::DELETE, &format!("{base}/sms_opt_in_request"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["default"], true);
    let (status, body) = t
        .call(
            Method::PUT,
            &format!("{base}/no_such_template"),
            Some(json!({ "body": "x" })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "template_not_found");

    let (status, body) = t
        .call(
            Method::PUT,
            &format!("{base}/email_opt_in_request"),
            Some(json!({
                "subject": "Texts from {{ firm_name }}",
                "text": "Confirm: {{ confirm_url }}",
                "html": "<p>Hi {{ first_name }}, <a href=\"{{ confirm_url }}\">confirm</a></p>"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["preview"]["html"].as_str().is_some());
}

/// A batch: results in order, one per message, and the 1,000 limit.
pub async fn batch(t: &TestService) {
    register_firm(t).await;
    let opted_in = t.phone(1);
    let pending = t.phone(2);
    let unknown = t.phone(3);
    create_contact(t, "c1", &opted_in).await;
    create_contact(t, "c2", &pending).await;
    t.reply(&opted_in, &t.firm_number(), "yes", "in-1").await;
    let path = format!("/v1/firms/{}/messages/batch", t.firm_id());
    let (status, body) = t
        .call(
            Method::POST,
            &path,
            Some(json!({ "messages": [
                { "to": opted_in, "body": "one" },
                { "to": pending, "body": "two" },
                { "to": unknown, "body": "three" },
                { "to": "not a phone", "body": "four" },
                { "to": opted_in, "body": "five", "idempotency_key": format!("b-{}", t.index) },
                { "body": "no recipient" },
            ]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 6, "{body}");
    assert_eq!(results[0]["decision"], "sent");
    assert_eq!(
        results[1],
        json!({ "decision": "blocked", "reason": "not_opted_in" })
    );
    assert_eq!(
        results[2],
        json!({ "decision": "blocked", "reason": "unknown_recipient" })
    );
    assert_eq!(results[3]["error"]["code"], "invalid_phone");
    assert_eq!(results[4]["decision"], "sent");
    assert_eq!(results[5]["error"]["code"], "invalid_request");
    let sms = t.sms_to(&opted_in).await;
    assert_eq!(
        sms[sms.len() - 2..],
        ["one".to_string(), "five".to_string()]
    );

    let too_many: Vec<Value> = (0..1001)
        .map(|_| json!({ "to": opted_in, "body": "x" }))
        .collect();
    let (status, body) = t
        .call(Method::POST, &path, Some(json!({ "messages": too_many })))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "batch_too_large");
}

/// Repeats with the same key send once; the same key with another payload is refused.
pub async fn idempotent_repeats(t: &TestService) {
    register_firm(t).await;
    let phone = t.phone(1);
    create_contact(t, "c1", &phone).await;
    t.reply(&phone, &t.firm_number(), "Y", "in-1").await;
    t.reply(&phone, &t.firm_number(), "Y", "in-1").await;
    assert_eq!(
        t.sms_to(&phone).await.len(),
        2,
        "one request, one confirmation"
    );

    let key = format!("k-{}", t.index);
    let (status, first) = send(t, &phone, "Reminder", Some(&key)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    let (status, second) = send(t, &phone, "Reminder", Some(&key)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{second}");
    assert_eq!(first, second);
    assert_eq!(t.sms_to(&phone).await.len(), 3);
    let (status, body) = send(t, &phone, "Different", Some(&key)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "idempotency_key_reused");

    let other = t.phone(2);
    let headers = [("idempotency-key", "create-1")];
    let body = json!({ "contact_id": "c2", "phone": other, "email": "c2@client.example" });
    let path = format!("/v1/firms/{}/contacts", t.firm_id());
    let (status, first) = t
        .call_with(Method::POST, &path, Some(body.clone()), &headers)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, second) = t.call_with(Method::POST, &path, Some(body), &headers).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(first, second);
    assert_eq!(t.sms_to(&other).await.len(), 1);
    assert_eq!(t.emails_to("c2@client.example").await.len(), 1);
}

/// Bad input gets a clear 4xx, never a 5xx.
pub async fn bad_input(t: &TestService) {
    register_firm(t).await;
    let contacts = format!("/v1/firms/{}/contacts", t.firm_id());
    let raw = |body: &'static str| {
        axum::http::Request::builder()
            .method(Method::POST)
            .uri(contacts.clone())
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body))
    };
    let Ok(request) = raw("{not json") else {
        panic!("request")
    };
    let (status, body) = t.send_raw(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "malformed_json");

    let (status, body) = t
        .call(
            Method::POST,
            &contacts,
            Some(json!({ "contact_id": 5, "phone": true })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "invalid_request");

    let (status, body) = t
        .call(Method::POST, &contacts, Some(json!({ "contact_id": "c1" })))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let (status, body) = t
        .call(
            Method::POST,
            &contacts,
            Some(json!({ "contact_id": "c1", "phone": "555" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "invalid_phone");

    let (status, body) = t
        .call(
            Method::POST,
            &contacts,
            Some(json!({ "contact_id": "c1", "phone": t.phone(1), "time_zone": "Mars/Olympus" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let (status, body) = t
        .call(
            Method::POST,
            "/v1/firms/no-such-firm/contacts",
            Some(json!({ "contact_id": "c1", "phone": t.phone(1) })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "firm_not_found");

    let huge = "x".repeat(2 * 1024 * 1024);
    let (status, body) = t
        .call(
            Method::POST,
            &contacts,
            Some(json!({ "contact_id": "c1", "phone": huge })),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");

    let (status, body) = t.call(Method::GET, "/v1/nothing/here", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "not_found");

    let (status, body) = consent(t, &t.phone(9)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = t
        .call(
            Method::GET,
            &format!("/v1/firms/{}/consents/garbage", t.firm_id()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let (status, body) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{}", t.firm_id()),
            Some(json!({ "name": "x" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = t
        .call(
            Method::PUT,
            "/v1/firms/other-firm",
            Some(json!({
                "name": "Other", "sms_number": t.firm_number(), "support_email": "a@b.example",
                "support_phone": "1", "website": "https://x.example"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "sms_number_in_use");
}

/// A firm message at night is deferred until 8:00 local and released through the gate again;
/// an opt-out in between wins.
pub async fn quiet_hours(t: &TestService) {
    register_firm(t).await;
    let phone = t.phone(1);
    let leaving = t.phone(2);
    for (id, number) in [("c1", &phone), ("c2", &leaving)] {
        create_contact(t, id, number).await;
        t.reply(number, &t.firm_number(), "YES", &format!("in-{id}"))
            .await;
    }
    // 06:00 UTC is 22:00 the evening before in California.
    let night = crate::afternoon() + Duration::hours(12);
    t.clock.set(Some(night));
    let (status, body) = send(t, &phone, "Night message", None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["decision"], "deferred");
    assert_eq!(body["not_before"], "2026-12-02T16:00:00Z");
    let (_, body) = send(t, &leaving, "Night message", None).await;
    assert_eq!(body["decision"], "deferred");
    t.reply(&leaving, &t.firm_number(), "STOP", "in-stop").await;
    let before = t.sms_to(&phone).await.len();

    // Not yet due: nothing released.
    let report = t.services.release_due().await;
    assert!(report.is_ok_and(|r| r.taken == 0));
    t.clock.set(Some(night + Duration::hours(10)));
    let report = match t.services.release_due().await {
        Ok(report) => report,
        Err(e) => panic!("release failed: {e}"),
    };
    assert_eq!((report.sent, report.blocked), (1, 1), "{report:?}");
    let sms = t.sms_to(&phone).await;
    assert_eq!(sms.len(), before + 1);
    assert_eq!(sms.last().map(String::as_str), Some("Night message"));
    assert!(
        !t.sms_to(&leaving)
            .await
            .iter()
            .any(|s| s == "Night message")
    );
    // Released once only.
    let again = t.services.release_due().await;
    assert!(again.is_ok_and(|r| r.taken == 0));
}

async fn opted_in_contact(t: &TestService, id: &str, phone: &str) {
    let (status, body) = create_contact(t, id, phone).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    t.reply(phone, &t.firm_number(), "YES", &format!("in-{id}"))
        .await;
    assert_eq!(status_of(t, phone).await, "opted_in");
}

async fn send_as(t: &TestService, to: &str, body: &str, category: &str) -> (StatusCode, Value) {
    t.call(
        Method::POST,
        &format!("/v1/firms/{}/messages", t.firm_id()),
        Some(json!({ "to": to, "body": body, "category": category })),
    )
    .await
}

/// Florida and Oklahoma numbers get at most 3 marketing texts a day (FTSA / OTSA); a firm's own
/// cap applies to every number; transactional messages can be exempted.
pub async fn frequency_caps(t: &TestService) {
    register_firm(t).await;
    let florida = format!("+1305{:03}1001", 200 + t.index);
    let oklahoma = format!("+1405{:03}1002", 200 + t.index);
    let california = t.phone(3);
    for (id, phone) in [("fl", &florida), ("ok", &oklahoma), ("ca", &california)] {
        opted_in_contact(t, id, phone).await;
    }
    for phone in [&florida, &oklahoma] {
        for n in 0..3 {
            let (status, body) = send_as(t, phone, &format!("Offer {n}"), "marketing").await;
            assert_eq!(status, StatusCode::ACCEPTED, "{phone} #{n}: {body}");
        }
        let (status, body) = send_as(t, phone, "Offer 4", "marketing").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["reason"], "frequency_cap");
        // The statutory cap is for marketing: a transactional message still goes.
        let (status, body) = send_as(t, phone, "Your hearing moved", "transactional").await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    for n in 0..5 {
        let (status, _) = send_as(t, &california, &format!("CA {n}"), "marketing").await;
        assert_eq!(
            status,
            StatusCode::ACCEPTED,
            "no statutory cap in California"
        );
    }

    // The firm caps everyone at 5 a day, transactional included unless exempted.
    let firm = json!({
        "name": "Hartwell & Pine LLP", "sms_number": t.firm_number(),
        "support_email": "help@hartwell.example", "support_phone": "(202) 555-0199",
        "website": "https://hartwell.example", "frequency_cap": 5
    });
    let (status, body) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{}", t.firm_id()),
            Some(firm.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["frequency_cap"], 5);
    // A cap above the highest a record can count is refused.
    let mut too_high = firm.clone();
    too_high["frequency_cap"] = json!(consent::gate::MAX_DAILY_CAP + 1);
    let (status, body) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{}", t.firm_id()),
            Some(too_high),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = send_as(t, &california, "CA 5", "marketing").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = send_as(t, &california, "CA transactional", "transactional").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["reason"], "frequency_cap");
    let mut exempt = firm;
    exempt["transactional_exempt"] = json!(true);
    let (status, _) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{}", t.firm_id()),
            Some(exempt),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send_as(t, &california, "CA transactional", "transactional").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    // A day later the count starts again; replies never counted.
    t.clock.advance(Duration::hours(25));
    let (status, _) = send_as(t, &florida, "Tomorrow's offer", "marketing").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (_, record) = consent(t, &florida).await;
    let blocked = record["events"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter(|e| e["type"] == "message_blocked" && e["reason"] == "frequency_cap")
                .count()
        })
        .unwrap_or_default();
    assert_eq!(blocked, 1, "the block is recorded");
}

/// The recipient's local time decides: Florida closes at 20:00; a contact's own time zone wins
/// over the area code's; a firm may narrow the window; the opt-in request of a contact created
/// at night waits for the morning.
pub async fn recipient_time_zones(t: &TestService) {
    register_firm(t).await;
    let florida = format!("+1305{:03}1001", 200 + t.index);
    let traveller = t.phone(2);
    opted_in_contact(t, "fl", &florida).await;
    let (status, body) = t
        .call(
            Method::POST,
            &format!("/v1/firms/{}/contacts", t.firm_id()),
            Some(
                json!({ "contact_id": "tz", "phone": traveller, "time_zone": "America/New_York" }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    t.reply(&traveller, &t.firm_number(), "YES", "in-tz").await;

    // 2026-12-02 01:30 UTC = 20:30 in Miami, 17:30 in California.
    t.clock
        .set(Some(crate::afternoon() + Duration::minutes(450)));
    let (_, body) = send_as(t, &florida, "Evening", "marketing").await;
    assert_eq!(body["decision"], "deferred", "{body}");
    assert_eq!(body["not_before"], "2026-12-02T13:00:00Z");
    // 20:30 in New York is fine by the 21:00 rule, whatever the 415 area code says.
    let (_, body) = send_as(t, &traveller, "Evening", "marketing").await;
    assert_eq!(body["decision"], "sent", "{body}");
    // 2026-12-02 12:30 UTC = 07:30 in New York (04:30 in California): closed for the traveller.
    t.clock
        .set(Some(crate::afternoon() + Duration::minutes(1110)));
    let (_, body) = send_as(t, &traveller, "Early", "marketing").await;
    assert_eq!(body["decision"], "deferred", "{body}");
    assert_eq!(body["not_before"], "2026-12-02T13:00:00Z");

    // A firm window of 10:00-16:00 narrows the law's.
    let firm = json!({
        "name": "Hartwell & Pine LLP", "sms_number": t.firm_number(),
        "support_email": "help@hartwell.example", "support_phone": "(202) 555-0199",
        "website": "https://hartwell.example", "send_window": { "opens_hour": 10, "closes_hour": 16 }
    });
    let (status, body) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{}", t.firm_id()),
            Some(firm.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    t.clock.set(Some(crate::afternoon() + Duration::hours(20)));
    // 14:00 UTC = 09:00 in New York: inside the law's window, outside the firm's.
    let (_, body) = send_as(t, &traveller, "Morning", "marketing").await;
    assert_eq!(body["not_before"], "2026-12-02T15:00:00Z", "{body}");
    let mut wider = firm;
    wider["send_window"] = json!({ "opens_hour": 6, "closes_hour": 23 });
    let (status, body) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{}", t.firm_id()),
            Some(wider),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a firm cannot widen the window: {body}"
    );

    let (status, _) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{}", t.firm_id()),
            Some(firm_without_window(t)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // A contact created at night: the opt-in request waits, then goes out once.
    t.clock.set(Some(crate::afternoon() + Duration::hours(12)));
    let night_owl = t.phone(3);
    let (status, body) = create_contact(t, "owl", &night_owl).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["opt_in_request"]["sms"], "deferred");
    assert_eq!(body["opt_in_request"]["email"], "sent");
    assert!(t.sms_to(&night_owl).await.is_empty());
    let (status, body) = create_contact(t, "owl", &night_owl).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["opt_in_request"]["sms"], "deferred");
    t.clock.set(Some(crate::afternoon() + Duration::hours(23)));
    let released = t.services.release_due().await;
    assert!(released.is_ok_and(|r| r.sent >= 1));
    let sms = t.sms_to(&night_owl).await;
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert!(sms[0].contains("YES"));
    let again = t.services.release_due().await;
    assert!(again.is_ok());
    assert_eq!(t.sms_to(&night_owl).await.len(), 1);
}

fn firm_without_window(t: &TestService) -> Value {
    json!({
        "name": "Hartwell & Pine LLP", "sms_number": t.firm_number(),
        "support_email": "help@hartwell.example", "support_phone": "(202) 555-0199",
        "website": "https://hartwell.example"
    })
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

/// A whole lifecycle of one number, then its signed proof: pending (request by SMS and email)
/// → a blocked send → YES → the email link used after it → an allowed send → STOP → a blocked
/// send → START. Returns the proof (JSON) and the number.
pub async fn lifecycle_proof(t: &TestService) -> (Value, String) {
    register_firm(t).await;
    let phone = t.phone(1);
    let (status, body) = create_contact(t, "c1", &phone).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = send(t, &phone, "Before consent.", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    t.reply(&phone, &t.firm_number(), "Yes!", "in-p1").await;
    let emails = t.emails_to("c1@client.example").await;
    let Some(token) = emails.first().and_then(|e| confirm_token(&e.body)) else {
        panic!("no confirmation link in {emails:?}");
    };
    let (status, _) = t
        .call_with(
            Method::POST,
            &format!("/confirm/{token}"),
            None,
            &[("user-agent", "Mozilla/5.0 (proof test)")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send(t, &phone, "Your hearing is Monday.", Some("k-proof")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    t.reply(&phone, &t.firm_number(), "STOP", "in-p2").await;
    let (status, _) = send(t, &phone, "Are you there?", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    t.reply(&phone, &t.firm_number(), "START", "in-p3").await;
    assert_eq!(status_of(t, &phone).await, "opted_in");

    let (status, proof) = t
        .call(
            Method::GET,
            &format!("/v1/firms/{}/consents/{phone}/proof", t.firm_id()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{proof}");
    (proof, phone)
}

/// The proof of a whole lifecycle verifies, carries every piece of evidence, is served as a
/// printable page too, and names the key `GET /v1/proof-key` serves; a changed proof does not
/// verify; events recorded before a number had a record are listed apart and verify too.
pub async fn proof_of_consent(t: &TestService) {
    let (proof, phone) = lifecycle_proof(t).await;
    let verification = match consent::proof::verify(&proof, None) {
        Ok(v) => v,
        Err(e) => panic!("not a proof: {e}: {proof}"),
    };
    assert!(
        verification.is_valid(),
        "{:?}\n{proof}",
        verification.problems
    );
    assert!(
        verification.warnings.is_empty(),
        "{:?}",
        verification.warnings
    );
    assert_eq!(proof["format"], "consent-proof/v1");
    assert_eq!(proof["firm"]["firm_id"], t.firm_id());
    assert_eq!(proof["firm"]["name"], "Hartwell & Pine LLP");
    assert_eq!(proof["phone"], phone);
    assert_eq!(proof["consent"]["status"], "opted_in");
    assert_eq!(proof["consent"]["basis"], "sms_reply");
    assert_eq!(proof["signer"]["key_id"], "test-proof-1");
    assert_eq!(proof["signer"]["algorithm"], "Ed25519");

    let events = proof["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(proof["chain"]["length"], events.len());
    assert_eq!(
        proof["chain"]["head"],
        events.last().map(|e| e["hash"].clone()).unwrap_or_default()
    );
    assert_eq!(
        proof["unchained_events"].as_array().map(Vec::len),
        Some(0),
        "the number had a record for every event"
    );
    let of_type = |kind: &str| -> Vec<Value> {
        events
            .iter()
            .filter(|e| e["type"] == kind)
            .cloned()
            .collect()
    };
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types.first(), Some(&"contact_created"), "{types:?}");
    // Chain order is time order here.
    let ids: Vec<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    // The evidence: the reply texts with the carrier's ids, the email and its provider id, the
    // email link's user agent, the provider ids of the texts sent, double opt-in at each send.
    let opt_ins = of_type("opted_in");
    assert_eq!(opt_ins.len(), 2, "YES and START: {types:?}");
    assert_eq!(opt_ins[0]["evidence"]["channel"], "sms");
    assert_eq!(opt_ins[0]["evidence"]["text"], "Yes!");
    assert_eq!(opt_ins[0]["evidence"]["inbound_message_id"], "in-p1");
    assert_eq!(opt_ins[1]["evidence"]["inbound_message_id"], "in-p3");
    let opt_out = of_type("opted_out");
    assert_eq!(opt_out.len(), 1);
    assert_eq!(opt_out[0]["text"], "STOP");
    assert_eq!(opt_out[0]["inbound_message_id"], "in-p2");
    let email = of_type("email_sent");
    assert_eq!(email.len(), 1);
    assert_eq!(email[0]["to"], "c1@client.example");
    assert!(
        email[0]["provider_message_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    let ignored = of_type("email_confirmation_ignored");
    assert_eq!(ignored.len(), 1, "{types:?}");
    assert_eq!(ignored[0]["user_agent"], "Mozilla/5.0 (proof test)");
    let allowed = of_type("message_allowed");
    assert!(
        allowed.len() >= 4,
        "request, confirmations, the firm's text: {types:?}"
    );
    assert!(allowed.iter().all(|e| e["double_opt_in"] == true));
    let firm_text = allowed
        .iter()
        .find(|e| e["body"] == "Your hearing is Monday.")
        .cloned()
        .unwrap_or_default();
    assert_eq!(firm_text["idempotency_key"], "k-proof");
    let sent = of_type("message_sent");
    assert!(
        sent.iter().any(|e| e["allowed_event_id"] == firm_text["id"]
            && e["provider_message_id"]
                .as_str()
                .is_some_and(|id| !id.is_empty())),
        "the firm's text was sent with a provider id: {sent:?}"
    );
    assert_eq!(of_type("message_blocked").len(), 2);

    // Any change to the document shows.
    let mut changed = proof.clone();
    changed["events"][1]["contact_id"] = json!("someone-else");
    changed["events"][0]["source"] = json!("forged");
    let result = consent::proof::verify(&changed, None).map(|v| v.is_valid());
    assert_eq!(result, Ok(false));

    // The printable page: the same facts, escaped, with the security headers of every page.
    let (status, headers, html) = t
        .call_text(
            Method::GET,
            &format!(
                "/v1/firms/{}/consents/{phone}/proof?format=html",
                t.firm_id()
            ),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html")),
        "{headers:?}"
    );
    assert!(headers.get("content-security-policy").is_some());
    for expected in [
        "Proof of consent",
        "Hartwell &amp; Pine LLP",
        phone.as_str(),
        "The contact agreed by text",
        "Yes!",
        "in-p1",
        "The contact withdrew consent",
        "Mozilla/5.0 (proof test)",
        "test-proof-1",
    ] {
        assert!(html.contains(expected), "{expected} missing from the page");
    }
    assert!(
        !html.contains("Hartwell & Pine"),
        "unescaped text on the page"
    );
    let (status, body) = t
        .call(
            Method::GET,
            &format!(
                "/v1/firms/{}/consents/{phone}/proof?format=pdf",
                t.firm_id()
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // The public key the proof names is the one the service serves.
    let (status, key) = t.call(Method::GET, "/v1/proof-key", None).await;
    assert_eq!(status, StatusCode::OK, "{key}");
    assert_eq!(key["key_id"], proof["signer"]["key_id"]);
    assert_eq!(key["public_key"], proof["signer"]["public_key"]);
    assert_eq!(key["algorithm"], "Ed25519");
    let pinned = key["public_key"]
        .as_str()
        .and_then(|k| consent::proof::parse_public_key(k).ok());
    assert!(pinned.is_some(), "{key}");
    let pinned_result = consent::proof::verify(&proof, pinned.as_ref()).map(|v| v.is_valid());
    assert_eq!(pinned_result, Ok(true));

    // Events from before the number had a record: a text blocked as unknown, a stranger's
    // text. They are listed apart, hashed, and the proof still verifies.
    let stranger = t.phone(2);
    let (status, _) = send(t, &stranger, "Hello?", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    t.reply(&stranger, &t.firm_number(), "who is this", "in-s1")
        .await;
    let (status, _) = create_contact(t, "c2", &stranger).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, proof) = t
        .call(
            Method::GET,
            &format!("/v1/firms/{}/consents/{stranger}/proof", t.firm_id()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{proof}");
    let unchained: Vec<&str> = proof["unchained_events"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["type"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(unchained, ["message_blocked", "reply_received"]);
    assert_eq!(proof["events"][0]["type"], "contact_created");
    let verification = consent::proof::verify(&proof, None);
    assert!(
        verification.as_ref().is_ok_and(|v| v.is_valid()),
        "{verification:?}"
    );

    // No record, no proof; a bad number or an unknown firm is said so.
    for (path, expected) in [
        (
            format!("/v1/firms/{}/consents/{}/proof", t.firm_id(), t.phone(3)),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/v1/firms/{}/consents/12/proof", t.firm_id()),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            format!("/v1/firms/nobody-{}/consents/{phone}/proof", t.index),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, body) = t.call(Method::GET, &path, None).await;
        assert_eq!(status, expected, "{path}: {body}");
    }
}

/// Exports: a firm's records by status, paged with a cursor, as JSON or CSV; other firms' records
/// never appear; bad parameters are refused.
pub async fn exports(t: &TestService) {
    register_firm(t).await;
    for n in 1..=5 {
        let (status, body) = create_contact(t, &format!("e{n}"), &t.phone(n)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    for n in 1..=3 {
        t.reply(&t.phone(n), &t.firm_number(), "YES", &format!("in-e{n}"))
            .await;
    }
    t.reply(&t.phone(3), &t.firm_number(), "STOP", "in-e3-stop")
        .await;
    // Another firm with a record for one of the same numbers.
    let other = format!("{}-other", t.firm_id());
    let other_number = format!("+1202{:03}0101", 200 + t.index);
    let (status, body) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{other}"),
            Some(json!({
                "name": "Other LLP",
                "sms_number": other_number,
                "support_email": "help@other.example",
                "support_phone": "(202) 555-0198",
                "website": "https://other.example"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = t
        .call(
            Method::POST,
            &format!("/v1/firms/{other}/contacts"),
            Some(json!({ "contact_id": "o1", "phone": t.phone(1) })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let list = |query: String| async move {
        t.call(
            Method::GET,
            &format!("/v1/firms/{}/consents{query}", t.firm_id()),
            None,
        )
        .await
    };
    let phones = |page: &Value| -> Vec<String> {
        page["consents"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .filter_map(|r| r["phone"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };

    let (status, page) = list("?status=opted_in".into()).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(phones(&page), [t.phone(1), t.phone(2)]);
    assert_eq!(page["next_cursor"], Value::Null);
    let row = &page["consents"][0];
    assert_eq!(row["status"], "opted_in");
    assert_eq!(row["basis"], "sms_reply");
    assert!(
        row["since"]
            .as_str()
            .is_some_and(|s| s.starts_with("2026-12-01T")),
        "{row}"
    );

    let (_, page) = list("?status=opted_out".into()).await;
    assert_eq!(phones(&page), [t.phone(3)]);
    assert_eq!(page["consents"][0]["basis"], "sms_reply");

    // Pending, one per page.
    let (_, first) = list("?status=pending&limit=1".into()).await;
    assert_eq!(phones(&first), [t.phone(4)]);
    let Some(cursor) = first["next_cursor"].as_str().map(str::to_string) else {
        panic!("a next_cursor expected: {first}");
    };
    let (status, second) = list(format!("?status=pending&limit=1&cursor={cursor}")).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(phones(&second), [t.phone(5)]);
    assert_eq!(second["next_cursor"], Value::Null);

    // Every status, two per page: opted in, opted out, then pending, each by number.
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..5 {
        let query = match &cursor {
            Some(c) => format!("?limit=2&cursor={c}"),
            None => "?limit=2".to_string(),
        };
        let (status, page) = list(query).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        all.extend(phones(&page));
        cursor = page["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    let expected: Vec<String> = [1, 2, 3, 4, 5].into_iter().map(|n| t.phone(n)).collect();
    assert_eq!(all, expected);

    // The other firm sees only its own.
    let (_, page) = t
        .call(Method::GET, &format!("/v1/firms/{other}/consents"), None)
        .await;
    assert_eq!(phones(&page), [t.phone(1)]);
    assert_eq!(page["consents"][0]["status"], "pending");

    // CSV: a header row, one line per record; the next page's cursor in a header.
    let path = format!("/v1/firms/{}/consents?status=opted_in", t.firm_id());
    let (status, headers, csv) = t
        .call_text(Method::GET, &path, &[("accept", "text/csv")])
        .await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/csv")),
        "{headers:?}"
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert_eq!(lines[0], "phone,status,basis,since");
    assert!(
        lines[1].starts_with(&format!("{},opted_in,sms_reply,2026-12-01T", t.phone(1))),
        "{csv}"
    );
    assert!(headers.get("x-next-cursor").is_none());
    let (_, headers, csv) = t
        .call_text(
            Method::GET,
            &format!("{path}&limit=1"),
            &[("accept", "text/csv")],
        )
        .await;
    assert_eq!(csv.lines().count(), 2, "{csv}");
    let cursor = headers
        .get("x-next-cursor")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let (_, _, csv) = t
        .call_text(
            Method::GET,
            &format!("{path}&limit=1&cursor={cursor}"),
            &[("accept", "text/csv")],
        )
        .await;
    assert!(
        csv.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with(&t.phone(2))),
        "{csv}"
    );

    // Refused: an unknown status, a bad or foreign cursor, a bad limit; an unknown firm.
    for (query, field) in [
        ("?status=maybe".to_string(), "status"),
        ("?status=OPTED_IN".to_string(), "status"),
        ("?cursor=not-a-cursor".to_string(), "cursor"),
        (format!("?status=opted_in&cursor={cursor}x"), "cursor"),
        (format!("?status=pending&cursor={cursor}"), "cursor"),
        ("?limit=0".to_string(), "limit"),
        ("?limit=1001".to_string(), "limit"),
        ("?limit=ten".to_string(), "limit"),
    ] {
        let (status, body) = list(query.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid_request", "{query}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(field)),
            "{query}: {body}"
        );
    }
    let (status, _) = t
        .call(
            Method::GET,
            &format!("/v1/firms/nobody-{}/consents", t.index),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
