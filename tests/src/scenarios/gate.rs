//! The send gate's requests: batches, and repeats made safe by idempotency keys.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{create_contact, register_firm, send};
use crate::TestService;

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
