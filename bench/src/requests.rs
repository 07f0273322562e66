//! AWS requests per flow, counted at the SDK's interceptor on the real adapters against moto,
//! beside the fewest the flow needs.

use axum::http::Method;
use consent_tests::{afternoon, routes, sns_event};
use serde_json::json;

use crate::aws::{self, AwsBench, Seed, Tally};
use crate::events;
use crate::latency::{self, Target};

/// The fewest requests a flow needs, and why.
#[derive(Debug, Clone)]
pub struct Minimum {
    /// DynamoDB items read (a GetItem reads one, a BatchGetItem one per key).
    pub reads: u64,
    /// DynamoDB write requests.
    pub writes: u64,
    /// SNS requests.
    pub sns: u64,
    /// SES requests.
    pub ses: u64,
    /// The reasoning.
    pub why: &'static str,
}

/// One flow's requests.
#[derive(Debug, Clone)]
pub struct FlowCount {
    /// The flow.
    pub flow: &'static str,
    /// What the SDK sent.
    pub tally: Tally,
    /// The fewest it needs.
    pub minimum: Minimum,
    /// Whether the flow did what it should (the answer's status and decision).
    pub outcome: String,
}

/// Runs each flow once on a fresh table and counts its requests; the batch goes to `batch`
/// opted-in numbers.
pub async fn measure(moto: &consent_tests::emulator::Moto, batch: usize) -> Vec<FlowCount> {
    let clock = std::sync::Arc::new(consent::adapters::memory::SettableClock::frozen(afternoon()));
    let bench = AwsBench::new(moto, "bench-requests", clock, consent_tests::test_keys()).await;
    let firm = aws::register_firm(&bench.services, "counted", "+12025550177").await;
    let router = routes(&bench.services);
    let firm_id = firm.firm_id.clone();
    let mut flows = Vec::new();
    let counter = bench.counter.clone();
    counter.take();

    // contact-created: a new contact with an email address.
    let a = aws::fresh_phone();
    let (status, body) = latency::call(
        &router,
        Method::POST,
        &format!("/v1/firms/{firm_id}/contacts"),
        Some(&events::contact_body("counted-a", &a, None)),
    )
    .await;
    flows.push(FlowCount {
        flow: "contact-created (new contact, SMS + email)",
        tally: counter.take(),
        minimum: Minimum {
            reads: 3,
            writes: 2,
            sns: 2,
            ses: 1,
            why: "3 item reads: the firm (templates, number, double opt-in), the contact (is this the same request again?) and the consent record (once per number, ever); 2 writes: one TransactWriteItems before anything is sent (pending record + contact + audit event + the claims of both opt-in requests, decided on the record it creates), one after (both provider ids and their events); SNS CheckIfPhoneNumberIsOptedOut (the carrier check before a first solicitation) and Publish; SES SendEmail",
        },
        outcome: outcome(status, &body),
    });

    // YES by SMS from A.
    let result = inbound_sms::handle(
        &bench.services,
        sns_event(
            a.as_str(),
            firm.sms_number.as_str(),
            "YES",
            "counted-yes",
            afternoon(),
        ),
    )
    .await;
    flows.push(FlowCount {
        flow: "inbound YES (pending -> opted in, confirmation SMS)",
        tally: counter.take(),
        minimum: Minimum {
            reads: 3,
            writes: 2,
            sns: 1,
            ses: 0,
            why: "3 item reads: the number -> firm route (the message names only the firm's number), the firm, the consent record; 2 writes: the new state + its event + the inbound-id marker + the reply's claim in one TransactWriteItems (the reply is decided on the state just written), then the provider id after Publish; SNS Publish",
        },
        outcome: format!("{:?}", result.map(|_| "ok")),
    });

    // Email confirmation of a second contact.
    let b = aws::fresh_phone();
    let _ = latency::call(
        &router,
        Method::POST,
        &format!("/v1/firms/{firm_id}/contacts"),
        Some(&events::contact_body("counted-b", &b, None)),
    )
    .await;
    counter.take();
    let token = events::token(
        bench.services.token_keys().expect("token keys"),
        &firm_id,
        &b,
        afternoon(),
    );
    let (status, body) =
        latency::call(&router, Method::GET, &format!("/confirm/{token}"), None).await;
    flows.push(FlowCount {
        flow: "email link page (GET, changes nothing)",
        tally: counter.take(),
        minimum: Minimum {
            reads: 2,
            writes: 0,
            sns: 0,
            ses: 0,
            why: "2 item reads: the firm (its name on the page) and the consent record (its status); no write",
        },
        outcome: format!("status {status} ({} bytes)", body.len()),
    });
    let (status, body) =
        latency::call(&router, Method::POST, &format!("/confirm/{token}"), None).await;
    flows.push(FlowCount {
        flow: "email confirm (POST, pending -> opted in)",
        tally: counter.take(),
        minimum: Minimum {
            reads: 2,
            writes: 2,
            sns: 1,
            ses: 0,
            why: "2 item reads: the firm and the consent record (the signed token names both); 2 writes: opted in + evidence event + the confirmation's claim, then the provider id after Publish; SNS Publish",
        },
        outcome: format!("status {status} ({} bytes)", body.len()),
    });

    // STOP from A (opted in -> opted out).
    let result = inbound_sms::handle(
        &bench.services,
        sns_event(
            a.as_str(),
            firm.sms_number.as_str(),
            "STOP",
            "counted-stop",
            afternoon(),
        ),
    )
    .await;
    flows.push(FlowCount {
        flow: "inbound STOP (opted in -> opted out, one confirmation)",
        tally: counter.take(),
        minimum: Minimum {
            reads: 3,
            writes: 2,
            sns: 1,
            ses: 0,
            why: "as YES: route, firm and record; the opted-out state + event + marker + the one confirmation's claim, then the provider id; SNS Publish",
        },
        outcome: format!("{:?}", result.map(|_| "ok")),
    });

    // One message through the gate to B (opted in by email).
    let (status, body) = latency::call(
        &router,
        Method::POST,
        &format!("/v1/firms/{firm_id}/messages"),
        Some(&events::message_body(&b)),
    )
    .await;
    flows.push(FlowCount {
        flow: "gate send, one message (no idempotency key)",
        tally: counter.take(),
        minimum: Minimum {
            reads: 2,
            writes: 2,
            sns: 1,
            ses: 0,
            why: "2 item reads: the firm and the consent record; 2 writes: the claim before the hand-over (orders it against a concurrent STOP and counts it for caps), the provider's message id after it (the proof it went); SNS Publish",
        },
        outcome: outcome(status, &body),
    });

    let mut keyed = events::message_body(&b);
    keyed["idempotency_key"] = json!("counted-key-1");
    let (status, body) = latency::call(
        &router,
        Method::POST,
        &format!("/v1/firms/{firm_id}/messages"),
        Some(&keyed),
    )
    .await;
    flows.push(FlowCount {
        flow: "gate send, one message with an idempotency key",
        tally: counter.take(),
        minimum: Minimum {
            reads: 2,
            writes: 3,
            sns: 1,
            ses: 0,
            why: "as above plus the key's claim (a conditional PutItem before the work); the stored response rides in the after-send write, so 3 writes",
        },
        outcome: outcome(status, &body),
    });

    // A batch to `batch` opted-in numbers.
    let phones = aws::fresh_phones(batch);
    aws::seed(
        &bench.store,
        &firm,
        &phones,
        Seed::OptedIn,
        None,
        afternoon(),
    )
    .await;
    counter.take();
    let messages: Vec<_> = phones
        .iter()
        .map(|p| json!({ "to": p.as_str(), "body": crate::throughput::BODY, "category": "transactional" }))
        .collect();
    let (status, body) = latency::call(
        &router,
        Method::POST,
        &format!("/v1/firms/{firm_id}/messages/batch"),
        Some(&json!({ "messages": messages })),
    )
    .await;
    let batch_u64 = batch as u64;
    flows.push(FlowCount {
        flow: "gate batch of 1,000 (distinct opted-in numbers)",
        tally: counter.take(),
        minimum: Minimum {
            reads: 1 + batch_u64,
            writes: 2 * batch_u64.div_ceil(25),
            sns: batch_u64,
            ses: 0,
            why: "the firm + one record per message, in ceil(n/100) BatchGetItem (10 for 1,000); the claims before the hand-over, 25 numbers per TransactWriteItems (40 for 1,000), each record under its version (a group that lost a race is claimed again number by number); the n provider ids after it, 25 numbers per TransactWriteItems (40 for 1,000), each record still under its version and chain head; SNS Publish per message (SNS has no batch publish to phone numbers)",
        },
        outcome: batch_outcome(status, &body),
    });

    // The deferred release of one due send.
    let c = aws::fresh_phones(1);
    aws::seed(&bench.store, &firm, &c, Seed::OptedIn, None, afternoon()).await;
    let target = Target {
        services: &bench.services,
        store: &bench.store,
        clock: &bench.clock,
        firm: &firm,
        backend: "moto",
    };
    latency::defer_one(&target, c[0].clone()).await;
    counter.take();
    let report = deferred_release::release_all(&bench.services).await;
    flows.push(FlowCount {
        flow: "deferred release, one due send",
        tally: counter.take(),
        minimum: Minimum {
            reads: 3,
            writes: 2,
            sns: 1,
            ses: 0,
            why: "3 item reads: the due sends (one Query of the GSI), the firm, the record; 2 writes: the claim's TransactWriteItems, taking the send with it (a conditional Delete), then the provider id; SNS Publish",
        },
        outcome: format!("{report:?}"),
    });
    flows
}

fn outcome(status: u16, body: &[u8]) -> String {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let detail = value["decision"]
        .as_str()
        .or(value["consent"]["status"].as_str())
        .unwrap_or("");
    format!("status {status} {detail}")
}

fn batch_outcome(status: u16, body: &[u8]) -> String {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let decisions: Vec<&str> = value["results"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| r["decision"].as_str().unwrap_or("error"))
                .collect()
        })
        .unwrap_or_default();
    let sent = decisions.iter().filter(|d| **d == "sent").count();
    format!("status {status}, {sent} of {} sent", decisions.len())
}
