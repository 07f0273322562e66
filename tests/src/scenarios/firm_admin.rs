//! A firm's side of the API: the double opt-in switch, the message templates, contacts by id.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{consent, create_contact, register_firm, send};
use crate::TestService;

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

/// The CRM looks a contact up by its own id: the number and where it stands, as it changes; an
/// unknown id is 404 `contact_not_found`, another firm's contact is not visible.
pub async fn contact_by_id(t: &TestService) {
    register_firm(t).await;
    let phone = t.phone(1);
    let (status, body) = create_contact(t, "crm-42", &phone).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let path = format!("/v1/firms/{}/contacts/crm-42", t.firm_id());
    let (status, body) = t.call(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["contact_id"], "crm-42");
    assert_eq!(body["phone"], phone);
    assert_eq!(body["consent"]["status"], "pending");
    assert_eq!(body["consent"]["basis"], "opt_in_requested");
    let pending_since = body["consent"]["updated_at"].clone();
    assert!(pending_since.is_string(), "{body}");

    t.reply(&phone, &t.firm_number(), "STOP", "in-contact-stop")
        .await;
    let (status, body) = t.call(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["consent"]["status"], "opted_out");
    assert_eq!(body["consent"]["basis"], "sms_reply");

    for (path, code) in [
        (
            format!("/v1/firms/{}/contacts/nobody", t.firm_id()),
            "contact_not_found",
        ),
        (
            "/v1/firms/no-such-firm/contacts/crm-42".to_string(),
            "firm_not_found",
        ),
    ] {
        let (status, body) = t.call(Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["error"]["code"], code, "{path}: {body}");
    }
    let long = "x".repeat(257);
    let (status, body) = t
        .call(
            Method::GET,
            &format!("/v1/firms/{}/contacts/{long}", t.firm_id()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}
