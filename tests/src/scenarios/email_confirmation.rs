//! The email link: its page, the confirmation, the decline, bad and expired tokens, and a link
//! used after a STOP.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::Duration;
use serde_json::json;

use super::{consent, create_contact, register_firm, send, status_of};
use crate::{TestService, confirm_token};

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
    // A screen reader hears the last four digits, not the mask's stars.
    let parsed = consent::model::phone::PhoneNumber::parse(&phone).expect("a test number");
    assert!(
        html.contains(&format!(
            "<span aria-hidden=\"true\">{}</span><span class=\"visually-hidden\">the number ending in {}</span>",
            parsed.masked(),
            parsed.last_four()
        )),
        "{html}"
    );
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

/// Posts the confirmation page's form as a browser does.
async fn press(t: &TestService, path: &str, form: &str) -> (StatusCode, String) {
    let request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("user-agent", "Mozilla/5.0 (decline test)")
        .body(Body::from(form.to_string()));
    let request = match request {
        Ok(request) => request,
        Err(e) => panic!("bad test request: {e}"),
    };
    let (status, page) = t.send_raw(request).await;
    (
        status,
        page["html"].as_str().unwrap_or_default().to_string(),
    )
}

/// The page says what the texts are (firm, masked number, subject, frequency, rates, STOP/HELP,
/// privacy and terms) and offers confirm and decline; a decline opts the number out by email and
/// sends nothing, a repeat says so, an unknown choice changes nothing, and a decline after an
/// opt-in is an opt-out by email too.
pub async fn email_decline(t: &TestService) {
    let (status, body) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{}", t.firm_id()),
            Some(json!({
                "name": "Hartwell & Pine LLP",
                "sms_number": t.firm_number(),
                "support_email": "help@hartwell.example",
                "support_phone": "(202) 555-0199",
                "website": "https://hartwell.example",
                "privacy_url": "https://hartwell.example/privacy?a=1&b=2",
                "terms_url": "https://hartwell.example/sms-terms"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["terms_url"], "https://hartwell.example/sms-terms");
    let phone = t.phone(1);
    create_contact(t, "c1", &phone).await;
    let token = t
        .emails_to("c1@client.example")
        .await
        .first()
        .and_then(|e| confirm_token(&e.body))
        .unwrap_or_default();
    let path = format!("/confirm/{token}");

    let (status, _, html) = t.call_text(Method::GET, &path, &[]).await;
    assert_eq!(status, StatusCode::OK);
    for expected in [
        "<html lang=\"en\">",
        "name=\"viewport\"",
        "Hartwell &amp; Pine LLP",
        "+1415***",
        "legal matter",
        "Message frequency varies",
        "Msg &amp; data rates may apply",
        "STOP",
        "HELP",
        "href=\"https://hartwell.example/privacy?a=1&amp;b=2\"",
        "href=\"https://hartwell.example/sms-terms\"",
        "name=\"action\" value=\"confirm\"",
        "name=\"action\" value=\"decline\"",
    ] {
        assert!(html.contains(expected), "{expected} missing: {html}");
    }
    assert!(!html.contains("<script"), "{html}");
    assert_eq!(status_of(t, &phone).await, "pending", "GET changes nothing");

    let (status, html) = press(t, &path, "action=unsubscribe").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert_eq!(status_of(t, &phone).await, "pending");

    let (status, html) = press(t, &path, "action=decline").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("will not text"), "{html}");
    // The way back names the number to text START to, as a person dials it.
    let firm_number = consent::model::phone::PhoneNumber::parse(&t.firm_number())
        .expect("the firm's number")
        .dialled();
    assert!(
        html.contains(&format!("<strong>START</strong> to {firm_number}.")),
        "{html}"
    );
    let (_, record) = consent(t, &phone).await;
    assert_eq!(record["status"], "opted_out");
    assert_eq!(record["basis"], "email_decline");
    let declined = record["events"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["type"] == "opted_out"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(declined["from"], "pending");
    assert_eq!(declined["evidence"]["channel"], "email");
    assert_eq!(
        declined["evidence"]["user_agent"],
        "Mozilla/5.0 (decline test)"
    );
    assert_eq!(
        t.sms_to(&phone).await.len(),
        1,
        "the request only: a decline sends nothing"
    );

    let (status, html) = press(t, &path, "action=decline").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Already declined"), "{html}");
    let (status, html) = press(t, &path, "action=confirm").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("START"), "only a text re-subscribes: {html}");
    assert_eq!(status_of(t, &phone).await, "opted_out");
    assert_eq!(t.sms_to(&phone).await.len(), 1);

    // The CRM hears of it as a change by email.
    let (status, feed) = t
        .call(
            Method::GET,
            &format!("/v1/firms/{}/events", t.firm_id()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{feed}");
    let change = feed["events"]
        .as_array()
        .and_then(|e| {
            e.iter()
                .find(|e| e["phone"] == phone.as_str() && e["data"]["status"] == "opted_out")
        })
        .cloned()
        .unwrap_or_default();
    assert_eq!(change["data"]["basis"], "email_decline", "{feed}");
    assert_eq!(change["data"]["channel"], "email", "{feed}");

    // Opted in by text, then declined on the page: an opt-out by email, no text sent.
    let other = t.phone(2);
    create_contact(t, "c2", &other).await;
    let token = t
        .emails_to("c2@client.example")
        .await
        .first()
        .and_then(|e| confirm_token(&e.body))
        .unwrap_or_default();
    t.reply(&other, &t.firm_number(), "YES", "in-d1").await;
    assert_eq!(t.sms_to(&other).await.len(), 2, "request and confirmation");
    let (status, _, html) = t
        .call_text(Method::GET, &format!("/confirm/{token}"), &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("value=\"decline\""), "{html}");
    let (status, html) = press(t, &format!("/confirm/{token}"), "action=decline").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let (_, record) = consent(t, &other).await;
    assert_eq!(record["status"], "opted_out");
    assert_eq!(record["basis"], "email_decline");
    assert_eq!(t.sms_to(&other).await.len(), 2);
    let (status, body) = send(t, &other, "Are you there?", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // The proof shows the decline, and verifies.
    let (status, proof) = t
        .call(
            Method::GET,
            &format!("/v1/firms/{}/consents/{phone}/proof", t.firm_id()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{proof}");
    let verification = consent::evidence::proof::verify(&proof, None);
    assert!(
        verification.as_ref().is_ok_and(|v| v.is_valid()),
        "{verification:?}"
    );
    assert_eq!(proof["consent"]["basis"], "email_decline");
    let (_, _, html) = t
        .call_text(
            Method::GET,
            &format!(
                "/v1/firms/{}/consents/{phone}/proof?format=html",
                t.firm_id()
            ),
            &[],
        )
        .await;
    assert!(
        html.contains("declined texts through the email link"),
        "{html}"
    );
}
