//! Warm per-invocation latency of each handler, called in process (the HTTP routers through
//! `tower::ServiceExt::oneshot`, the SNS and scheduled handlers directly), on the in-memory store
//! and on the AWS adapters against moto.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use chrono::Utc;
use consent::adapters::memory::SettableClock;
use consent::flows::Services;
use consent::flows::send::{SendOutcome, SendRequest};
use consent::model::firm::Firm;
use consent::model::gate::{MessageCategory, MessageKind};
use consent::model::phone::PhoneNumber;
use consent::ports::Store;
use consent_tests::afternoon;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::aws::{self, Seed};
use crate::events;
use crate::stats::{self, Summary};

/// The handlers, in report order.
pub const HANDLERS: &[&str] = &[
    "contact-created",
    "inbound-sms",
    "email-confirm",
    "send-gate",
    "firm-admin",
    "deferred-release",
];

/// One handler's latency on one backend.
#[derive(Debug, Clone)]
pub struct Latency {
    /// The handler.
    pub handler: String,
    /// What it ran on.
    pub backend: String,
    /// The timed calls.
    pub summary: Summary,
    /// Wrong answers (count, first reason).
    pub failures: (usize, Option<String>),
}

/// What a handler is called on.
pub struct Target<'a> {
    /// The flows.
    pub services: &'a Services,
    /// The store, for seeding.
    pub store: &'a Arc<dyn Store>,
    /// The flows' clock, frozen on a weekday afternoon.
    pub clock: &'a Arc<SettableClock>,
    /// The firm.
    pub firm: &'a Firm,
    /// The backend's name in the report.
    pub backend: &'a str,
}

/// Calls a router; the status and the whole body read.
pub async fn call(
    router: &Router,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (u16, Vec<u8>) {
    let mut request = Request::builder().method(method).uri(path);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let request = match request.body(body.map_or_else(Body::empty, |b| Body::from(b.to_string()))) {
        Ok(request) => request,
        Err(e) => panic!("bad request: {e}"),
    };
    let response = match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    (status, bytes)
}

fn expect(status: u16, want: u16, body: &[u8]) -> Result<(), String> {
    if status == want {
        Ok(())
    } else {
        Err(format!(
            "status {status} (wanted {want}): {}",
            String::from_utf8_lossy(body)
                .chars()
                .take(200)
                .collect::<String>()
        ))
    }
}

/// Defers a firm message to an opted-in number at a night hour, so it is due at the afternoon.
pub async fn defer_one(target: &Target<'_>, phone: PhoneNumber) {
    target
        .clock
        .set(Some(afternoon() - chrono::Duration::hours(12)));
    let outcome = target
        .services
        .gate
        .send(
            target.firm,
            &SendRequest {
                to: phone,
                kind: MessageKind::FirmMessage,
                category: MessageCategory::Marketing,
                body: "Your documents are ready for signature.".to_string(),
                idempotency_key: None,
            },
        )
        .await;
    target.clock.set(Some(afternoon()));
    if !matches!(outcome, Ok(SendOutcome::Deferred { .. })) {
        panic!("expected a deferred send, got {outcome:?}");
    }
}

/// Times `iterations` warm calls of every handler (after `warmup` untimed ones).
pub async fn measure(target: &Target<'_>, iterations: usize, warmup: usize) -> Vec<Latency> {
    let mut results = Vec::new();
    for &handler in HANDLERS {
        let total = iterations + warmup;
        let mut samples = Vec::with_capacity(iterations);
        let mut failures: (usize, Option<String>) = (0, None);
        let router = match handler {
            "contact-created" => contact_created::router(target.services.clone()),
            "email-confirm" => email_confirm::router(target.services.clone()),
            "send-gate" => send_gate::router(target.services.clone()),
            "firm-admin" => firm_admin::router(target.services.clone()),
            _ => Router::new(),
        };
        let seed_kind = match handler {
            "send-gate" | "deferred-release" => Some(Seed::OptedIn),
            "email-confirm" | "inbound-sms" => Some(Seed::Pending),
            _ => None,
        };
        let pool = match seed_kind {
            Some(kind) => {
                let phones = aws::fresh_phones(total);
                aws::seed(target.store, target.firm, &phones, kind, None, afternoon()).await;
                phones
            }
            None => Vec::new(),
        };
        let firm_id = target.firm.firm_id.clone();
        #[allow(clippy::needless_range_loop)] // `i` names the call and picks its number
        for i in 0..total {
            let (elapsed, verdict) = match handler {
                "contact-created" => {
                    let phone = aws::fresh_phone();
                    let body =
                        events::contact_body(&format!("lat-{i}-{}", phone.as_str()), &phone, None);
                    let path = format!("/v1/firms/{firm_id}/contacts");
                    let started = Instant::now();
                    let (status, bytes) = call(&router, Method::POST, &path, Some(&body)).await;
                    (started.elapsed(), expect(status, 201, &bytes))
                }
                "firm-admin" => {
                    let path = format!("/v1/firms/{firm_id}");
                    let started = Instant::now();
                    let (status, bytes) = call(&router, Method::GET, &path, None).await;
                    (started.elapsed(), expect(status, 200, &bytes))
                }
                "send-gate" => {
                    let body = events::message_body(&pool[i]);
                    let path = format!("/v1/firms/{firm_id}/messages");
                    let started = Instant::now();
                    let (status, bytes) = call(&router, Method::POST, &path, Some(&body)).await;
                    (started.elapsed(), expect(status, 202, &bytes))
                }
                "email-confirm" => {
                    let token = events::token(
                        target.services.token_keys().expect("token keys"),
                        &firm_id,
                        &pool[i],
                        afternoon(),
                    );
                    let path = format!("/confirm/{token}");
                    let started = Instant::now();
                    let (status, bytes) = call(&router, Method::POST, &path, None).await;
                    (started.elapsed(), expect(status, 200, &bytes))
                }
                "inbound-sms" => {
                    let event = consent_tests::sns_event(
                        pool[i].as_str(),
                        target.firm.sms_number.as_str(),
                        "YES",
                        &format!("lat-in-{i}-{}", Utc::now().timestamp_micros()),
                        afternoon(),
                    );
                    let started = Instant::now();
                    let result = inbound_sms::handle(target.services, event).await;
                    (started.elapsed(), result.map_err(|e| e.to_string()))
                }
                "deferred-release" => {
                    defer_one(target, pool[i].clone()).await;
                    let started = Instant::now();
                    let result = deferred_release::release_all(target.services).await;
                    let verdict = match result {
                        Ok(report) if report.sent == 1 => Ok(()),
                        Ok(report) => Err(format!("released {report:?}")),
                        Err(e) => Err(e.to_string()),
                    };
                    (started.elapsed(), verdict)
                }
                other => panic!("unknown handler {other}"),
            };
            if i < warmup {
                continue;
            }
            samples.push(elapsed);
            if let Err(why) = verdict {
                failures.0 += 1;
                failures.1.get_or_insert(why);
            }
        }
        results.push(Latency {
            handler: handler.to_string(),
            backend: target.backend.to_string(),
            summary: stats::summarize(&samples),
            failures,
        });
    }
    results
}
