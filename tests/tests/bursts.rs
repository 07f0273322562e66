//! Bursts lose nothing: with SNS and SES refusing one publish or email in three (throttling,
//! after the SDK's own retries), a batch of 1,000 and an import of 1,000 contacts converge when
//! the client retries exactly what it is told is retryable: every message goes out exactly once,
//! and each number's trail has one `message_sent` and one `message_failed` per refusal.
//! A single send answers 503 with `Retry-After`, and an SNS-triggered reply fails the
//! invocation so that the redelivery sends it, once.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::Duration;
use consent::adapters::memory::{MemoryOutbox, MemoryStore, SettableClock};
use consent::evidence::audit::{AuditEvent, AuditKind};
use consent::model::gate::MessageKind;
use consent::model::phone::PhoneNumber;
use consent::model::record::{ConsentStatus, Delivery};
use consent::ports::{Clock, Store};
use consent_tests::bursts::ThrottlingProvider;
use consent_tests::faults::Op;
use consent_tests::invariants::check_sent_against_trail;
use consent_tests::sqlite::TempDatabase;
use consent_tests::{TestService, afternoon, scenarios, sns_event};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// How many numbers a burst reaches: a full batch.
const NUMBERS: u16 = 1_000;
/// The client gives up after this many rounds; with one in three refused, about seven do.
const MAX_ROUNDS: usize = 20;
/// Messages from this number on carry an idempotency key; those before it go unkeyed (one run,
/// sent concurrently).
const FIRST_KEYED: u16 = NUMBERS / 2 + 1;

/// A service whose providers throttle on command.
struct Burst {
    t: TestService,
    provider: Arc<ThrottlingProvider>,
}

impl Burst {
    fn on(store: Arc<dyn Store>) -> Self {
        let clock = Arc::new(SettableClock::frozen(afternoon()));
        let outbox = Arc::new(MemoryOutbox::new(clock.clone() as Arc<dyn Clock>));
        let provider = ThrottlingProvider::new(outbox.clone(), outbox.clone());
        let t = TestService::new(store, provider.clone(), provider.clone(), outbox, clock, 0);
        Self { t, provider }
    }

    fn in_memory() -> Self {
        Self::on(Arc::new(MemoryStore::new()))
    }

    /// Moves the clock on by what the service asked the client to wait.
    fn wait(&self, seconds: i64) {
        self.t
            .clock
            .set(Some(self.t.clock.now() + Duration::seconds(seconds)));
    }

    async fn trail(&self, n: u16) -> Vec<AuditEvent> {
        let phone = phone(&self.t, n);
        match self
            .t
            .services
            .store
            .events(&self.t.firm_id(), &phone)
            .await
        {
            Ok(events) => events,
            Err(e) => panic!("reading {phone}'s trail: {e}"),
        }
    }

    /// How many refusals each recipient got from `op`.
    fn refusals(&self, op: Op) -> HashMap<String, usize> {
        let mut by_recipient = HashMap::new();
        for to in self.provider.refused(op) {
            *by_recipient.entry(to).or_default() += 1;
        }
        by_recipient
    }

    /// Every (recipient, text) the SMS provider took, counted.
    async fn sms_taken(&self) -> HashMap<(String, String), usize> {
        let mut taken = HashMap::new();
        for sms in self.t.sent.sms().await {
            *taken.entry((sms.to, sms.body)).or_default() += 1;
        }
        taken
    }
}

fn phone(t: &TestService, n: u16) -> PhoneNumber {
    match PhoneNumber::parse(&t.phone(n)) {
        Ok(phone) => phone,
        Err(e) => panic!("test number {n}: {e}"),
    }
}

fn email_of(n: u16) -> String {
    format!("c{n}@client.example")
}

fn hearing(n: u16) -> String {
    format!("Hartwell & Pine: your hearing is on Monday at 9:00 (ref {n}).")
}

fn count(events: &[AuditEvent], what: impl Fn(&AuditKind) -> bool) -> usize {
    events.iter().filter(|e| what(&e.kind)).count()
}

/// The `retry_after` of a retryable error body; fails on anything else.
fn told_to_retry(error: &Value) -> i64 {
    assert_eq!(error["code"], "provider_unavailable", "{error}");
    assert_eq!(error["retryable"], true, "{error}");
    error["retry_after"].as_i64().unwrap_or_default()
}

/// The wait a batch result marked `failed` and retryable asks for.
fn told_to_resend(result: &Value) -> i64 {
    assert_eq!(result["decision"], "failed", "{result}");
    assert_eq!(result["retryable"], true, "{result}");
    told_to_retry(&result["error"])
}

/// A firm without double opt-in and `NUMBERS` contacts, opted in by the firm's attestation (no
/// email, so nothing is sent).
async fn opted_in_numbers(b: &Burst) {
    let t = &b.t;
    scenarios::register_firm(t).await;
    let (status, body) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{}/double-opt-in", t.firm_id()),
            Some(json!({
                "enabled": false,
                "changed_by": "Dana Whitfield",
                "acknowledge_risk": true
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for n in 1..=NUMBERS {
        let (status, body) = t
            .call(
                Method::POST,
                &format!("/v1/firms/{}/contacts", t.firm_id()),
                Some(json!({ "contact_id": format!("c{n}"), "phone": t.phone(n) })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["consent"]["status"], "opted_in", "{body}");
    }
}

/// Sends one message to each number in batches, retrying the results marked retryable, until
/// none is left; returns how many rounds it took.
async fn send_until_done(b: &Burst) -> usize {
    let t = &b.t;
    let mut pending: Vec<u16> = (1..=NUMBERS).collect();
    let mut rounds = 0;
    while !pending.is_empty() {
        rounds += 1;
        assert!(
            rounds <= MAX_ROUNDS,
            "{} messages still refused",
            pending.len()
        );
        let messages: Vec<Value> = pending
            .iter()
            .map(|&n| {
                let mut message = json!({ "to": t.phone(n), "body": hearing(n) });
                if n >= FIRST_KEYED {
                    message["idempotency_key"] = json!(format!("hearing-{n}"));
                }
                message
            })
            .collect();
        let (status, body) = t
            .call(
                Method::POST,
                &format!("/v1/firms/{}/messages/batch", t.firm_id()),
                Some(json!({ "messages": messages })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let results = body["results"].as_array().cloned().unwrap_or_default();
        assert_eq!(results.len(), pending.len());
        let mut wait = 0;
        let mut refused = Vec::new();
        for (&n, result) in pending.iter().zip(&results) {
            if result["decision"] == "sent" {
                continue;
            }
            wait = wait.max(told_to_resend(result));
            refused.push(n);
        }
        b.wait(wait);
        pending = refused;
    }
    rounds
}

/// Each number got its message exactly once, and its trail says so: one `message_sent`, one
/// `message_failed` per refused publish to it, and an allow decision for each attempt.
async fn check_each_sent_once(b: &Burst) {
    let refusals = b.refusals(Op::SendSms);
    let taken = b.sms_taken().await;
    assert_eq!(
        taken.values().sum::<usize>(),
        usize::from(NUMBERS),
        "the provider took more or fewer messages than were sent"
    );
    for n in 1..=NUMBERS {
        let to = b.t.phone(n);
        assert_eq!(taken.get(&(to.clone(), hearing(n))), Some(&1), "{to}");
        let events = b.trail(n).await;
        let sent = count(&events, |k| matches!(k, AuditKind::MessageSent { .. }));
        let failed = count(&events, |k| matches!(k, AuditKind::MessageFailed { .. }));
        let allowed = count(&events, |k| matches!(k, AuditKind::MessageAllowed { .. }));
        assert_eq!(sent, 1, "{to}: message_sent");
        assert_eq!(
            failed,
            refusals.get(&to).copied().unwrap_or_default(),
            "{to}: message_failed against the refusals"
        );
        assert_eq!(allowed, sent + failed, "{to}: an allow for each attempt");
        let problems = check_sent_against_trail(&to, &events, &[hearing(n)]);
        assert!(problems.is_empty(), "{problems:?}");
    }
}

async fn a_batch_of_1000_converges(b: Burst) {
    opted_in_numbers(&b).await;
    b.provider.throttle(1, 3);
    let rounds = send_until_done(&b).await;
    b.provider.calm();
    assert!(rounds > 1, "nothing was refused, so nothing was retried");
    let refused = b.provider.refused(Op::SendSms).len();
    assert!(
        refused >= usize::from(NUMBERS) / 3,
        "only {refused} refused"
    );
    check_each_sent_once(&b).await;
}

#[tokio::test]
async fn a_batch_of_1000_with_one_publish_in_three_throttled_goes_out_exactly_once() {
    a_batch_of_1000_converges(Burst::in_memory()).await;
}

#[tokio::test]
async fn a_batch_of_1000_throttled_on_sqlite_goes_out_exactly_once() {
    let db = TempDatabase::with_durability("bursts", consent_sqlite::Durability::Normal);
    a_batch_of_1000_converges(Burst::on(db.store.clone())).await;
}

/// Creates each contact, retrying those answered retryable, until none is left; returns how
/// many rounds it took.
async fn import_until_done(b: &Burst) -> usize {
    let t = &b.t;
    let mut pending: Vec<u16> = (1..=NUMBERS).collect();
    let mut rounds = 0;
    while !pending.is_empty() {
        rounds += 1;
        assert!(
            rounds <= MAX_ROUNDS,
            "{} contacts still refused",
            pending.len()
        );
        let mut refused = Vec::new();
        let mut wait = 0;
        for &n in &pending {
            let key = format!("import-{n}");
            let headers: Vec<(&str, &str)> = if n >= FIRST_KEYED {
                vec![("Idempotency-Key", key.as_str())]
            } else {
                Vec::new()
            };
            let (status, body) = t
                .call_with(
                    Method::POST,
                    &format!("/v1/firms/{}/contacts", t.firm_id()),
                    Some(json!({
                        "contact_id": format!("c{n}"),
                        "phone": t.phone(n),
                        "email": email_of(n),
                        "first_name": "Maria"
                    })),
                    &headers,
                )
                .await;
            match status {
                StatusCode::CREATED | StatusCode::OK => {
                    assert_eq!(body["opt_in_request"]["sms"], "sent", "{body}");
                    assert_eq!(body["opt_in_request"]["email"], "sent", "{body}");
                }
                StatusCode::SERVICE_UNAVAILABLE => {
                    wait = wait.max(told_to_retry(&body["error"]));
                    refused.push(n);
                }
                other => panic!("contact {n}: {other} {body}"),
            }
        }
        b.wait(wait);
        pending = refused;
    }
    rounds
}

#[tokio::test]
async fn an_import_of_1000_contacts_throttled_one_in_three_asks_each_exactly_once() {
    let b = Burst::in_memory();
    scenarios::register_firm(&b.t).await;
    b.provider.throttle(1, 3);
    let rounds = import_until_done(&b).await;
    b.provider.calm();
    assert!(rounds > 1, "nothing was refused, so nothing was retried");
    let sms_refusals = b.refusals(Op::SendSms);
    let email_refusals = b.refusals(Op::SendEmail);
    assert!(sms_refusals.values().sum::<usize>() >= usize::from(NUMBERS) / 3);
    assert!(!email_refusals.is_empty(), "no email was throttled");
    for n in 1..=NUMBERS {
        let to = b.t.phone(n);
        assert_eq!(b.t.sms_to(&to).await.len(), 1, "{to}: opt-in SMS");
        assert_eq!(
            b.t.emails_to(&email_of(n)).await.len(),
            1,
            "{to}: opt-in email"
        );
        let events = b.trail(n).await;
        let sent = count(&events, |k| matches!(k, AuditKind::MessageSent { .. }));
        let failed = count(&events, |k| matches!(k, AuditKind::MessageFailed { .. }));
        let emailed = count(&events, |k| matches!(k, AuditKind::EmailSent { .. }));
        assert_eq!(sent, 1, "{to}: message_sent");
        assert_eq!(emailed, 1, "{to}: email_sent");
        assert_eq!(
            failed,
            sms_refusals.get(&to).copied().unwrap_or_default(),
            "{to}: message_failed against the refusals"
        );
        let record =
            b.t.services
                .store
                .get_consent(&b.t.firm_id(), &phone(&b.t, n))
                .await
                .ok()
                .flatten();
        let Some(record) = record else {
            panic!("{to}: no consent record");
        };
        assert_eq!(record.status, ConsentStatus::Pending, "{to}");
        assert!(matches!(record.opt_in_sms, Delivery::Sent { .. }), "{to}");
        assert!(matches!(record.opt_in_email, Delivery::Sent { .. }), "{to}");
    }
}

#[tokio::test]
async fn a_throttled_single_send_is_a_503_with_retry_after_and_its_retry_goes_out_once() {
    let b = Burst::in_memory();
    let t = &b.t;
    scenarios::register_firm(t).await;
    let (status, body) = t
        .call(
            Method::POST,
            &format!("/v1/firms/{}/contacts", t.firm_id()),
            Some(json!({ "contact_id": "c1", "phone": t.phone(1) })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    t.reply(&t.phone(1), &t.firm_number(), "YES", "in-yes-1")
        .await;

    let send = || {
        let message = json!({ "to": t.phone(1), "body": hearing(1), "idempotency_key": "h-1" });
        Request::builder()
            .method(Method::POST)
            .uri(format!("/v1/firms/{}/messages", t.firm_id()))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(message.to_string()))
    };
    b.provider.throttle(1, 1);
    let Ok(request) = send() else {
        panic!("a bad test request");
    };
    let response = match t.router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let Some(retry_after) = retry_after.filter(|s| *s > 0) else {
        panic!("no Retry-After in {:?}", response.headers());
    };
    let body = match response.into_body().collect().await {
        Ok(body) => serde_json::from_slice::<Value>(&body.to_bytes()).unwrap_or_default(),
        Err(e) => panic!("reading the body: {e}"),
    };
    assert_eq!(told_to_retry(&body["error"]), retry_after, "{body}");

    b.provider.calm();
    b.wait(retry_after);
    let message = json!({ "to": t.phone(1), "body": hearing(1), "idempotency_key": "h-1" });
    let path = format!("/v1/firms/{}/messages", t.firm_id());
    let (status, sent) = t.call(Method::POST, &path, Some(message.clone())).await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "the key was left free: {sent}"
    );
    assert_eq!(sent["decision"], "sent", "{sent}");
    let (status, replayed) = t.call(Method::POST, &path, Some(message)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{replayed}");
    assert_eq!(replayed, sent, "the same key again replays the send");
    let taken = b.sms_taken().await;
    assert_eq!(taken.get(&(t.phone(1), hearing(1))), Some(&1));
    let events = b.trail(1).await;
    let failed = count(&events, |k| matches!(k, AuditKind::MessageFailed { .. }));
    assert_eq!(failed, 1, "the refusal is in the trail");
}

/// How many SMS of `kind` the trail says went out.
fn replies_sent(events: &[AuditEvent], kind: MessageKind) -> usize {
    let allowed: Vec<&str> = events
        .iter()
        .filter(|e| matches!(&e.kind, AuditKind::MessageAllowed { kind: k, .. } if *k == kind))
        .map(|e| e.id.as_str())
        .collect();
    count(events, |k| {
        matches!(k, AuditKind::MessageSent { allowed_event_id, .. }
            if allowed.contains(&allowed_event_id.as_str()))
    })
}

#[tokio::test]
async fn a_throttled_confirmation_fails_the_sns_invocation_and_its_redelivery_sends_it_once() {
    let b = Burst::in_memory();
    let t = &b.t;
    scenarios::register_firm(t).await;
    let (status, body) = t
        .call(
            Method::POST,
            &format!("/v1/firms/{}/contacts", t.firm_id()),
            Some(json!({ "contact_id": "c1", "phone": t.phone(1) })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    for (text, id, kind) in [
        ("YES", "in-yes-1", MessageKind::OptInConfirmation),
        ("STOP", "in-stop-1", MessageKind::OptOutConfirmation),
    ] {
        // A redelivery carries the first delivery's time of receipt.
        let at = t.clock.now();
        let event = || sns_event(&t.phone(1), &t.firm_number(), text, id, at);
        b.provider.throttle(1, 1);
        let first = inbound_sms::handle(&t.services, event()).await;
        assert!(
            first.is_err(),
            "{text}: a throttled reply must fail the invocation"
        );
        b.provider.calm();
        // Lambda retries a failed asynchronous invocation after a minute.
        b.wait(60);
        for delivery in ["redelivery", "one more"] {
            if let Err(e) = inbound_sms::handle(&t.services, event()).await {
                panic!("{text} {delivery}: {e}");
            }
            let events = b.trail(1).await;
            assert_eq!(
                replies_sent(&events, kind),
                1,
                "{text} {delivery}: {kind:?}"
            );
        }
    }
    // The opt-in request, then one confirmation of each.
    assert_eq!(b.t.sms_to(&t.phone(1)).await.len(), 3);
}
