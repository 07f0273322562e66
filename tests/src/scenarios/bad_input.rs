//! Requests the API refuses with a clear 4xx.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{consent, register_firm};
use crate::TestService;

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
