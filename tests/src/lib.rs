//! The scenario suite's harness: a service under test (its routers, its SNS handler, its clock)
//! and a way to read what it sent, whatever the backend.

pub mod bursts;
pub mod dynamodb_local;
pub mod emulator;
pub mod event_stream;
pub mod faults;
pub mod invariants;
pub mod sam;
pub mod scenarios;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine;
use chrono::{DateTime, Utc};
use consent::adapters::memory::{MemoryOutbox, MemoryStore, SettableClock};
use consent::evidence::proof::ProofSigner;
use consent::evidence::token::TokenKeyring;
use consent::flows::{ServiceConfig, Services};
use consent::ports::{Clock, Mailer, SmsSender, Store};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// An SMS as the backend recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenSms {
    /// The recipient, E.164.
    pub to: String,
    /// The text as handed to the provider.
    pub body: String,
}

/// An email as the backend recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenEmail {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// A body (the HTML part where the backend keeps only one).
    pub body: String,
}

/// Reads what the service handed to its SMS and email providers.
#[async_trait]
pub trait Sent: Send + Sync {
    /// Every SMS, oldest first.
    async fn sms(&self) -> Vec<SeenSms>;
    /// Every email, oldest first.
    async fn emails(&self) -> Vec<SeenEmail>;
    /// Makes the provider hold an opt-out for `phone` (the contact texted STOP to the carrier).
    fn opt_out_at_carrier(&self, phone: &str);
}

#[async_trait]
impl Sent for MemoryOutbox {
    async fn sms(&self) -> Vec<SeenSms> {
        self.contents()
            .sms
            .into_iter()
            .map(|s| SeenSms {
                to: s.to,
                body: s.body,
            })
            .collect()
    }

    async fn emails(&self) -> Vec<SeenEmail> {
        self.contents()
            .email
            .into_iter()
            .map(|e| SeenEmail {
                to: e.to,
                subject: e.subject,
                body: e.html,
            })
            .collect()
    }

    fn opt_out_at_carrier(&self, phone: &str) {
        match consent::model::phone::PhoneNumber::parse(phone) {
            Ok(phone) => MemoryOutbox::opt_out_at_carrier(self, &phone),
            Err(e) => panic!("not a phone number: {e}"),
        }
    }
}

/// A service under test.
pub struct TestService {
    /// The flows.
    pub services: Services,
    /// Every HTTP route of the deployed functions.
    pub router: Router,
    /// The clock, frozen at a weekday afternoon unless a scenario moves it.
    pub clock: Arc<SettableClock>,
    /// What was sent.
    pub sent: Arc<dyn Sent>,
    /// This test's index, making its firm ids and numbers unique on a shared backend.
    pub index: u16,
}

/// The instant scenarios start at: 2026-12-01 18:00 UTC, daytime across the US.
pub fn afternoon() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T18:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// A fixed test key ring.
pub fn test_keys() -> TokenKeyring {
    let secret = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    match TokenKeyring::from_secret_spec(&format!("test1:{secret}")) {
        Ok(keys) => keys,
        Err(e) => panic!("test key ring: {e}"),
    }
}

/// The fixed proof-signing key of the tests (key id `test-proof-1`).
pub fn test_proof_key() -> ProofSigner {
    match ProofSigner::from_seed("test-proof-1", [11u8; 32]) {
        Ok(signer) => signer,
        Err(e) => panic!("test proof key: {e}"),
    }
}

/// The HTTP routes of every HTTP function, merged as the local server does.
pub fn routes(services: &Services) -> Router {
    Router::new()
        .merge(contact_created::router(services.clone()))
        .merge(firm_admin::router(services.clone()))
        .merge(send_gate::router(services.clone()))
        .merge(email_confirm::router(services.clone()))
        .fallback(consent_http::fallback)
        // As the IAM authorizer would in AWS, every request names its caller.
        .layer(axum::Extension(consent_http::CallerIdentity(
            TEST_CALLER.to_string(),
        )))
}

/// The authenticated caller every test request is made as.
pub const TEST_CALLER: &str = "arn:aws:iam::123456789012:role/consent-tests";

impl TestService {
    /// A service over the given adapters.
    pub fn new(
        store: Arc<dyn Store>,
        sms: Arc<dyn SmsSender>,
        mailer: Arc<dyn Mailer>,
        sent: Arc<dyn Sent>,
        clock: Arc<SettableClock>,
        index: u16,
    ) -> Self {
        let services = Services::new(
            store,
            sms,
            mailer,
            clock.clone(),
            Some(test_keys()),
            ServiceConfig {
                confirm_base_url: "https://consent.test".to_string(),
                ..ServiceConfig::default()
            },
        )
        .with_proof_signer(test_proof_key());
        Self {
            router: routes(&services),
            services,
            clock,
            sent,
            index,
        }
    }

    /// The in-memory store and outbox.
    pub fn in_memory() -> Self {
        Self::on_store(Arc::new(MemoryStore::new()))
    }

    /// `store` with the in-memory outbox (which can fail on command and play the carrier).
    pub fn on_store(store: Arc<dyn Store>) -> Self {
        let clock = Arc::new(SettableClock::frozen(afternoon()));
        let outbox = Arc::new(MemoryOutbox::new(clock.clone() as Arc<dyn Clock>));
        Self::new(store, outbox.clone(), outbox.clone(), outbox, clock, 0)
    }

    /// This test's firm id.
    pub fn firm_id(&self) -> String {
        format!("firm-{}", self.index)
    }

    /// This test's firm sending number.
    pub fn firm_number(&self) -> String {
        format!("+1202{:03}0100", 200 + self.index)
    }

    /// This test's `n`th contact number (a 415 California number).
    pub fn phone(&self, n: u16) -> String {
        format!("+1415{:03}{:04}", 200 + self.index, 1000 + n)
    }

    /// Calls a route; returns the status and the body (JSON, or `{"html": ...}` for pages).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_with(method, path, body, &[]).await
    }

    /// Calls a route with extra headers.
    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        };
        let request = match request {
            Ok(request) => request,
            Err(e) => panic!("bad test request: {e}"),
        };
        self.send_raw(request).await
    }

    /// Calls a route with extra headers; returns the status, the response headers and the body
    /// as text.
    pub async fn call_text(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = match request.body(Body::empty()) {
            Ok(request) => request,
            Err(e) => panic!("bad test request: {e}"),
        };
        let response = match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = match response.into_body().collect().await {
            Ok(body) => body.to_bytes(),
            Err(e) => panic!("reading a response body: {e}"),
        };
        (status, headers, String::from_utf8_lossy(&bytes).to_string())
    }

    /// Sends a prepared request.
    pub async fn send_raw(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status();
        let is_html = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        let bytes = match response.into_body().collect().await {
            Ok(body) => body.to_bytes(),
            Err(e) => panic!("reading a response body: {e}"),
        };
        let text = String::from_utf8_lossy(&bytes).to_string();
        let value = if is_html {
            json!({ "html": text })
        } else {
            serde_json::from_str(&text).unwrap_or(json!({ "raw": text }))
        };
        (status, value)
    }

    /// Delivers a contact's reply through the Lambda SNS handler, as AWS would.
    pub async fn reply(&self, from: &str, to: &str, text: &str, message_id: &str) {
        self.reply_received_at(from, to, text, message_id, self.clock.now())
            .await;
    }

    /// Delivers a reply the carrier received at `received_at` (earlier, for a late delivery).
    pub async fn reply_received_at(
        &self,
        from: &str,
        to: &str,
        text: &str,
        message_id: &str,
        received_at: DateTime<Utc>,
    ) {
        let result = inbound_sms::handle(
            &self.services,
            sns_event(from, to, text, message_id, received_at),
        )
        .await;
        if let Err(e) = result {
            panic!("inbound handler failed: {e}");
        }
    }

    /// SMS sent to `to`.
    pub async fn sms_to(&self, to: &str) -> Vec<String> {
        self.sent
            .sms()
            .await
            .into_iter()
            .filter(|s| s.to == to)
            .map(|s| s.body)
            .collect()
    }

    /// Emails sent to `to`.
    pub async fn emails_to(&self, to: &str) -> Vec<SeenEmail> {
        self.sent
            .emails()
            .await
            .into_iter()
            .filter(|e| e.to == to)
            .collect()
    }
}

/// An SNS event carrying a two-way SMS payload, as End User Messaging publishes it.
pub fn sns_event(
    from: &str,
    to: &str,
    text: &str,
    message_id: &str,
    at: DateTime<Utc>,
) -> aws_lambda_events::event::sns::SnsEvent {
    let payload = json!({
        "originationNumber": from,
        "destinationNumber": to,
        "messageKeyword": "KEYWORD_TEST",
        "messageBody": text,
        "inboundMessageId": message_id,
        "previousPublishedMessageId": "prev-1",
    });
    let event = json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:inbound:1",
            "Sns": {
                "Type": "Notification",
                "MessageId": format!("sns-{message_id}"),
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:inbound",
                "Subject": null,
                "Message": payload.to_string(),
                "Timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "SignatureVersion": "1",
                "Signature": "x",
                "SigningCertUrl": "https://example.com/cert.pem",
                "UnsubscribeUrl": "https://example.com/unsub",
                "MessageAttributes": {}
            }
        }]
    });
    match serde_json::from_value(event) {
        Ok(event) => event,
        Err(e) => panic!("building an SNS event: {e}"),
    }
}

/// The confirmation token inside an email body (plain or HTML-escaped link).
pub fn confirm_token(body: &str) -> Option<String> {
    let body = body.replace("&#x2f;", "/").replace("&#47;", "/");
    let start = body.find("/confirm/")? + "/confirm/".len();
    let token: String = body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    (!token.is_empty()).then_some(token)
}
