//! The events the deployed functions receive: API Gateway HTTP API (payload 2.0) requests, SNS
//! notifications carrying a two-way SMS, and EventBridge scheduled events.

use chrono::{DateTime, SecondsFormat, Utc};
use consent::evidence::token::{ConfirmationClaims, TokenKeyring};
use consent::model::phone::PhoneNumber;
use serde_json::{Value, json};

/// An API Gateway HTTP API (payload format 2.0) event.
pub fn http(method: &str, path: &str, body: Option<&Value>, request_id: &str) -> Value {
    let now = Utc::now();
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "host": "bench.execute-api.us-east-1.amazonaws.com",
            "user-agent": "consent-bench",
            "x-forwarded-for": "127.0.0.1",
            "x-forwarded-proto": "https"
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": "bench.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "bench",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "consent-bench"
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
            "timeEpoch": now.timestamp_millis()
        },
        "body": body.map(Value::to_string),
        "isBase64Encoded": false
    })
}

/// A contact as the CRM posts it.
pub fn contact_body(contact_id: &str, phone: &PhoneNumber, time_zone: Option<&str>) -> Value {
    json!({
        "contact_id": contact_id,
        "phone": phone.as_str(),
        "email": format!("{contact_id}@client.example"),
        "first_name": "Ada",
        "last_name": "Client",
        "source": "consent-bench",
        "time_zone": time_zone,
    })
}

/// A firm message as the CRM posts it.
pub fn message_body(to: &PhoneNumber) -> Value {
    json!({
        "to": to.as_str(),
        "body": "Reminder: your consultation with Bench & Partners is tomorrow at 10:00. Reply STOP to opt out.",
        "category": "transactional",
    })
}

/// An SNS notification carrying a contact's text to the firm's number.
pub fn sns(from: &PhoneNumber, to: &PhoneNumber, text: &str, message_id: &str) -> Value {
    let event = consent_tests::sns_event(from.as_str(), to.as_str(), text, message_id, Utc::now());
    serde_json::to_value(event).unwrap_or(Value::Null)
}

/// An EventBridge scheduled event (the deferred-release schedule).
pub fn scheduled() -> Value {
    json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/deferred-release"],
        "detail": {}
    })
}

/// A confirmation link token for a number, signed as contact-created would sign it.
pub fn token(
    keys: &TokenKeyring,
    firm_id: &str,
    phone: &PhoneNumber,
    now: DateTime<Utc>,
) -> String {
    keys.sign(&ConfirmationClaims {
        firm_id: firm_id.to_string(),
        phone: phone.clone(),
        contact_id: format!("contact-{}", phone.as_str()),
        expires_at: now + chrono::Duration::days(14),
    })
}

/// The status code of a Lambda HTTP response (`{"statusCode": ...}`).
pub fn status_of(answer: &[u8]) -> Option<u64> {
    serde_json::from_slice::<Value>(answer)
        .ok()
        .and_then(|v| v["statusCode"].as_u64())
}
