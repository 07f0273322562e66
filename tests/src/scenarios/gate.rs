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
    // An invalid message is `failed` and not to be resent as it is.
    for (position, code) in [(3, "invalid_phone"), (5, "invalid_request")] {
        let result = &results[position];
        assert_eq!(result["decision"], "failed", "{result}");
        assert_eq!(result["retryable"], false, "{result}");
        assert_eq!(result["error"]["code"], code, "{result}");
        assert_eq!(result["error"]["retryable"], false, "{result}");
    }
    assert_eq!(results[4]["decision"], "sent");
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

/// A batch over more numbers than one outcome write holds, with two messages to one number:
/// every message is sent once, each number's trail has one `message_sent` after each
/// `message_allowed` and its proof verifies (the grouped writes kept every chain whole); and a
/// group write is all or nothing.
pub async fn batch_outcomes_written_together(t: &TestService) {
    use consent::flows::send::OUTCOMES_PER_WRITE;
    use consent::model::phone::PhoneNumber;
    use consent::ports::{Clock, ConsentWrite, StoreError};

    register_firm(t).await;
    let numbers: Vec<String> = (1..=OUTCOMES_PER_WRITE as u16 + 2)
        .map(|n| t.phone(n))
        .collect();
    for (n, phone) in numbers.iter().enumerate() {
        create_contact(t, &format!("c{n}"), phone).await;
        t.reply(phone, &t.firm_number(), "yes", &format!("in-{n}"))
            .await;
    }
    let mut messages: Vec<Value> = numbers
        .iter()
        .map(|to| json!({ "to": to, "body": format!("news for {to}") }))
        .collect();
    messages.push(json!({ "to": numbers[0], "body": "and one more" }));
    let path = format!("/v1/firms/{}/messages/batch", t.firm_id());
    let (status, body) = t
        .call(Method::POST, &path, Some(json!({ "messages": messages })))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), numbers.len() + 1, "{body}");
    assert!(results.iter().all(|r| r["decision"] == "sent"), "{body}");
    let firm_id = t.firm_id();
    for (n, phone) in numbers.iter().enumerate() {
        let sms = t.sms_to(phone).await;
        let news = format!("news for {phone}");
        assert_eq!(sms.iter().filter(|b| **b == news).count(), 1, "{sms:?}");
        let parsed = PhoneNumber::parse(phone).expect("a test number");
        let events = t
            .services
            .store
            .events(&firm_id, &parsed)
            .await
            .expect("the trail reads");
        let allowed: Vec<&str> = events
            .iter()
            .filter(|e| e.type_name() == "message_allowed")
            .map(|e| e.id.as_str())
            .collect();
        let sent: Vec<String> = events
            .iter()
            .filter_map(|e| match &e.kind {
                consent::evidence::audit::AuditKind::MessageSent {
                    allowed_event_id, ..
                } => Some(allowed_event_id.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(allowed, sent, "number {n}: each allow, then its sent");
        let (status, proof) = t
            .call(
                Method::GET,
                &format!("/v1/firms/{firm_id}/consents/{phone}/proof"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{proof}");
        let verified = consent::evidence::proof::verify(&proof, None).map(|v| v.is_valid());
        assert_eq!(verified.ok(), Some(true), "number {n}: {proof}");
    }
    assert_eq!(
        t.sms_to(&numbers[0]).await.last().map(String::as_str),
        Some("and one more")
    );

    // All or nothing: one stale write fails the group, and the good one is not applied.
    let store = &t.services.store;
    let (a, b) = (
        PhoneNumber::parse(&numbers[1]).expect("a test number"),
        PhoneNumber::parse(&numbers[2]).expect("a test number"),
    );
    let record_a = store.get_consent(&firm_id, &a).await.ok().flatten();
    let record_b = store.get_consent(&firm_id, &b).await.ok().flatten();
    let (Some(record_a), Some(record_b)) = (record_a, record_b) else {
        panic!("both numbers have records");
    };
    let now = t.clock.now();
    let good = ConsentWrite::new(
        &firm_id,
        &a,
        Some(record_a.version),
        Some(record_a.next_version(now)),
        Vec::new(),
    );
    let stale = ConsentWrite::new(
        &firm_id,
        &b,
        Some(record_b.version - 1),
        Some(record_b.next_version(now)),
        Vec::new(),
    );
    let refused = store.commit_all(vec![good, stale]).await;
    assert!(
        matches!(refused, Err(StoreError::VersionConflict { .. })),
        "{refused:?}"
    );
    let after = store.get_consent(&firm_id, &a).await.ok().flatten();
    assert_eq!(after.map(|r| r.version), Some(record_a.version));
    assert!(store.commit_all(Vec::new()).await.is_ok());
}
