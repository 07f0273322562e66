//! The email link: its page, the confirmation, bad and expired tokens, and a link used after
//! a STOP.

use axum::http::{Method, StatusCode};
use chrono::Duration;

use super::{consent, create_contact, register_firm, status_of};
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
