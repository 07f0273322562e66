//! Prior consent (DESIGN §3): how a number was first collected, sent with the contact, kept in
//! the trail under the hash chain and shown in the proof; a firm may require it.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{consent, register_firm};
use crate::TestService;

/// A web form capture, as a CRM sends it.
fn web_form() -> Value {
    json!({
        "method": "web_form",
        "captured_at": "2026-12-01T16:55:00Z",
        "disclosure_text": "By checking this box I agree that Hartwell & Pine may text me about my case. <b>Msg & data rates may apply.</b>",
        "form_url": "https://hartwell.example/intake",
        "ip": "203.0.113.50",
        "user_agent": "Mozilla/5.0 (intake form)"
    })
}

async fn create_with(
    t: &TestService,
    contact_id: &str,
    phone: &str,
    capture: Option<Value>,
) -> (StatusCode, Value) {
    let mut contact = json!({
        "contact_id": contact_id,
        "phone": phone,
        "email": format!("{contact_id}@client.example"),
        "first_name": "Maria",
        "source": "intake form"
    });
    if let Some(capture) = capture {
        contact["consent_capture"] = capture;
    }
    t.call(
        Method::POST,
        &format!("/v1/firms/{}/contacts", t.firm_id()),
        Some(contact),
    )
    .await
}

async fn put_firm(t: &TestService, extra: Value) -> (StatusCode, Value) {
    let mut firm = json!({
        "name": "Hartwell & Pine LLP",
        "sms_number": t.firm_number(),
        "support_email": "help@hartwell.example",
        "support_phone": "(202) 555-0199",
        "website": "https://hartwell.example"
    });
    if let (Some(firm), Some(extra)) = (firm.as_object_mut(), extra.as_object()) {
        firm.extend(extra.clone());
    }
    t.call(
        Method::PUT,
        &format!("/v1/firms/{}", t.firm_id()),
        Some(firm),
    )
    .await
}

/// Nothing was stored or sent for `phone` and its contact.
async fn nothing_for(t: &TestService, contact_id: &str, phone: &str) {
    let (status, body) = consent(t, phone).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = t
        .call(
            Method::GET,
            &format!("/v1/firms/{}/contacts/{contact_id}", t.firm_id()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(t.sms_to(phone).await.is_empty());
    assert!(
        t.emails_to(&format!("{contact_id}@client.example"))
            .await
            .is_empty()
    );
}

/// A capture is validated field by field, kept in the `contact_created` event (so the chain
/// covers it) and shown in the proof, JSON and page; a firm that requires it gets a 422 and
/// nothing stored or sent without it.
pub async fn prior_consent(t: &TestService) {
    register_firm(t).await;
    let (status, firm) = t
        .call(Method::GET, &format!("/v1/firms/{}", t.firm_id()), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{firm}");
    assert_eq!(firm["require_consent_capture"], false);
    assert_eq!(firm["privacy_url"], Value::Null);

    // Kept in the trail and in the signed proof.
    let phone = t.phone(1);
    let (status, body) = create_with(t, "c1", &phone, Some(web_form())).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, proof) = t
        .call(
            Method::GET,
            &format!("/v1/firms/{}/consents/{phone}/proof", t.firm_id()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{proof}");
    let created = &proof["events"][0];
    assert_eq!(created["type"], "contact_created");
    let capture = &created["consent_capture"];
    assert_eq!(capture["method"], "web_form");
    assert_eq!(capture["captured_at"], "2026-12-01T16:55:00Z");
    assert_eq!(capture["form_url"], "https://hartwell.example/intake");
    assert_eq!(capture["ip"], "203.0.113.50");
    assert_eq!(capture["user_agent"], "Mozilla/5.0 (intake form)");
    assert_eq!(capture["disclosure_text"], web_form()["disclosure_text"]);
    let verification = consent::evidence::proof::verify(&proof, None);
    assert!(
        verification.as_ref().is_ok_and(|v| v.is_valid()),
        "{verification:?}"
    );
    let mut forged = proof.clone();
    forged["events"][0]["consent_capture"]["method"] = json!("paper_form");
    let forged = consent::evidence::proof::verify(&forged, None).map(|v| v.is_valid());
    assert_eq!(forged, Ok(false), "the chain covers the capture");
    let (status, _, html) = t
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
    for expected in [
        "How the number was collected",
        "A form on a website",
        "2026-12-01 16:55:00 UTC",
        "Hartwell &amp; Pine may text me",
        "&lt;b&gt;Msg &amp; data rates may apply.&lt;/b&gt;",
        "https://hartwell.example/intake",
        "203.0.113.50",
    ] {
        assert!(html.contains(expected), "{expected} missing from the page");
    }
    assert!(!html.contains("<b>Msg"), "unescaped capture on the page");

    // Each bad field is named; nothing is stored or sent.
    let bad_phone = t.phone(2);
    for (change, field) in [
        (
            json!({ "method": "carrier_pigeon" }),
            "consent_capture.method",
        ),
        (json!({ "method": null }), "consent_capture.method"),
        (
            json!({ "captured_at": "2026-12-02T18:00:00Z" }),
            "consent_capture.captured_at",
        ),
        (
            json!({ "captured_at": "last week" }),
            "consent_capture.captured_at",
        ),
        (
            json!({ "form_url": "http://hartwell.example/intake" }),
            "consent_capture.form_url",
        ),
        (json!({ "ip": "203.0.113.500" }), "consent_capture.ip"),
        (
            json!({ "disclosure_text": "x".repeat(2_001) }),
            "consent_capture.disclosure_text",
        ),
    ] {
        let mut capture = web_form();
        if let (Some(capture), Some(change)) = (capture.as_object_mut(), change.as_object()) {
            capture.extend(change.clone());
        }
        let (status, body) = create_with(t, "c2", &bad_phone, Some(capture)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {body}");
        assert_eq!(body["error"]["code"], "invalid_request", "{body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(field), "{field}: {message}");
    }
    nothing_for(t, "c2", &bad_phone).await;

    // A firm that requires it: the setting is shown; without a capture, 422 and nothing done.
    let (status, firm) = put_firm(t, json!({ "require_consent_capture": true })).await;
    assert_eq!(status, StatusCode::OK, "{firm}");
    assert_eq!(firm["require_consent_capture"], true);
    let (status, body) = create_with(t, "c2", &bad_phone, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "consent_capture_required", "{body}");
    nothing_for(t, "c2", &bad_phone).await;
    let paper = json!({
        "method": "paper_form",
        "captured_at": "2026-11-28T15:00:00-05:00",
        "captured_by": "J. Reyes, front desk"
    });
    let (status, body) = create_with(t, "c2", &bad_phone, Some(paper)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["opt_in_request"]["sms"], "sent");

    // The firm's links are https addresses or refused, the field named.
    for (field, url) in [
        ("privacy_url", "http://hartwell.example/privacy"),
        ("terms_url", "javascript:alert(1)"),
    ] {
        let mut setting = serde_json::Map::new();
        setting.insert(field.to_string(), json!(url));
        let (status, body) = put_firm(t, Value::Object(setting)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(field), "{field}: {message}");
    }
}
