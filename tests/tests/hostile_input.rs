//! Hostile input: fuzzing with proptest, and the limits.
//!
//! Every property runs a fixed number of cases by default (fast enough for every test run);
//! set `PROPTEST_CASES` to run longer, e.g.
//!
//! ```text
//! PROPTEST_CASES=20000 cargo test -p consent-tests --test hostile_input --release
//! ```
//!
//! What is fuzzed: the SNS / two-way SMS payload (`inbound_sms::decode` and `inbound_sms::handle`
//! with arbitrary `Message` strings, arbitrary JSON and well-formed payloads with hostile
//! values), keyword classification, phone parsing, confirmation tokens (`/confirm/{anything}`,
//! GET and POST, and mutations of a real token), template overrides (the admin PUT route with
//! arbitrary template bodies: 200 or 422 within a time limit), and every route with arbitrary
//! JSON values, JSON of the route's own shape with hostile values, and arbitrary bytes. Nothing
//! may panic or answer 5xx, and every request must answer within `CALL_TIMEOUT`.
//!
//! The limits (body 1 MiB, batch 1,000, message body 1,530 characters, inbound text 2,000
//! characters, template source and output, ids and keys of 256, tokens of 2 KiB) are tested at
//! and just past each bound, and templates that try to read files, loop forever, recurse, or
//! turn HTML escaping off are refused.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use consent::model::keywords::{Classification, classify};
use consent::model::phone::PhoneNumber;
use consent::ports::Clock;
use consent_http::MAX_BODY_BYTES;
use consent_tests::{TestService, confirm_token, scenarios, sns_event};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

/// Longest a single request may take (a debug build on a busy machine included).
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The number of cases: `PROPTEST_CASES` if set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs a property over `strategy`; panics with the minimal failing input.
fn check<S: Strategy>(
    name: &str,
    default_cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new(Config {
        cases: cases(default_cases),
        failure_persistence: None,
        ..Config::default()
    });
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{name}: {e}");
    }
}

/// A service with a firm, a pending contact (1, with its email's token), an opted-in contact
/// (2), and a runtime whose timer keeps running while a request hogs a worker.
struct Fixture {
    rt: tokio::runtime::Runtime,
    t: Arc<TestService>,
    token: String,
}

fn fixture() -> Fixture {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let t = Arc::new(TestService::in_memory());
    let token = rt.block_on(async {
        scenarios::register_firm(&t).await;
        for n in [1, 2] {
            let (status, body) = t
                .call(
                    Method::POST,
                    &format!("/v1/firms/{}/contacts", t.firm_id()),
                    Some(json!({
                        "contact_id": format!("c{n}"), "phone": t.phone(n),
                        "email": format!("c{n}@client.example"), "first_name": "Maria"
                    })),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        t.reply(&t.phone(2), &t.firm_number(), "YES", "fixture-yes")
            .await;
        let emails = t.emails_to("c1@client.example").await;
        emails
            .first()
            .and_then(|e| confirm_token(&e.body))
            .unwrap_or_else(|| panic!("no token in {emails:?}"))
    });
    Fixture { rt, t, token }
}

impl Fixture {
    /// Sends a request; fails the case if it takes longer than `CALL_TIMEOUT`.
    fn send(&self, request: Request<Body>) -> Result<(StatusCode, Value), TestCaseError> {
        let t = self.t.clone();
        self.rt.block_on(async move {
            let call = tokio::spawn(async move { t.send_raw(request).await });
            match tokio::time::timeout(CALL_TIMEOUT, call).await {
                Ok(Ok(answer)) => Ok(answer),
                Ok(Err(panic)) => Err(TestCaseError::fail(format!(
                    "the handler panicked: {panic}"
                ))),
                Err(_) => Err(TestCaseError::fail("no answer within the time limit")),
            }
        })
    }

    fn status_of(&self, n: u16) -> String {
        let t = self.t.clone();
        self.rt.block_on(async move {
            let (_, body) = t
                .call(
                    Method::GET,
                    &format!("/v1/firms/{}/consents/{}", t.firm_id(), t.phone(n)),
                    None,
                )
                .await;
            body["status"].as_str().unwrap_or_default().to_string()
        })
    }
}

fn request(method: &Method, path: &str, body: Vec<u8>, json_type: bool) -> Request<Body> {
    let mut builder = Request::builder().method(method.clone()).uri(path);
    if json_type {
        builder = builder.header("content-type", "application/json");
    }
    builder
        .body(Body::from(body))
        .unwrap_or_else(|e| panic!("request {path}: {e}"))
}

/// Percent-encodes everything but unreserved characters, so any text is one path segment.
fn segment(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn no_5xx(status: StatusCode, body: &Value, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        !status.is_server_error(),
        "{what} answered {status}: {body}"
    );
    Ok(())
}

// --- strategies ----------------------------------------------------------------------------

/// Strings an attacker or a broken client sends.
fn hostile_string() -> BoxedStrategy<String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,40}",
        "[+0-9 ().#*-]{0,24}",
        "[a-z0-9._%+-]{0,12}@[a-z0-9.-]{0,12}",
        Just(String::new()),
        Just(" ".repeat(300)),
        Just("x".repeat(5_000)),
        Just("\u{0}\u{feff}\u{202e}<script>alert(1)</script>".to_string()),
        Just("{{ firm_name }}{% include '/etc/passwd' %}".to_string()),
        Just("../../etc/passwd".to_string()),
        Just("+14155550100".to_string()),
        Just("+1999999999999999999999".to_string()),
    ]
    .boxed()
}

/// Any JSON value, nested a little.
fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        hostile_string().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("\\PC{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// An object with (some of) the keys a route reads, each with a hostile value.
fn shaped(keys: &'static [&'static str]) -> BoxedStrategy<Value> {
    if keys.is_empty() {
        return Just(json!({})).boxed();
    }
    let value = prop_oneof![
        3 => hostile_string().prop_map(Value::from),
        1 => any_json(),
        1 => any::<bool>().prop_map(Value::from),
    ];
    proptest::collection::vec(
        (proptest::sample::select(keys.to_vec()), value),
        0..=keys.len(),
    )
    .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
    .boxed()
}

const FIRM_KEYS: &[&str] = &[
    "name",
    "sms_number",
    "support_email",
    "support_phone",
    "website",
    "time_zone",
    "frequency_cap",
    "transactional_exempt",
    "send_window",
    "privacy_url",
    "terms_url",
    "require_consent_capture",
];
const DOUBLE_OPT_IN_KEYS: &[&str] = &["enabled", "changed_by", "acknowledge_risk"];
const SMS_TEMPLATE_KEYS: &[&str] = &["body"];
const EMAIL_TEMPLATE_KEYS: &[&str] = &["subject", "text", "html"];
const CONTACT_KEYS: &[&str] = &[
    "contact_id",
    "phone",
    "email",
    "first_name",
    "last_name",
    "source",
    "time_zone",
    "consent_capture",
];
const MESSAGE_KEYS: &[&str] = &["to", "body", "idempotency_key", "category"];

/// Every route that reads a body (or ignores one), by method and path (`{firm}`, `{token}`,
/// `{phone}` filled in per case), with the keys of its body.
const ROUTES: &[(&str, &str, &[&str])] = &[
    ("PUT", "/v1/firms/{firm}", FIRM_KEYS),
    ("PUT", "/v1/firms/{firm}/double-opt-in", DOUBLE_OPT_IN_KEYS),
    (
        "PUT",
        "/v1/firms/{firm}/templates/sms_help",
        SMS_TEMPLATE_KEYS,
    ),
    (
        "PUT",
        "/v1/firms/{firm}/templates/email_opt_in_request",
        EMAIL_TEMPLATE_KEYS,
    ),
    (
        "PUT",
        "/v1/firms/{firm}/templates/{text}",
        SMS_TEMPLATE_KEYS,
    ),
    ("POST", "/v1/firms/{firm}/contacts", CONTACT_KEYS),
    ("POST", "/v1/firms/{firm}/messages", MESSAGE_KEYS),
    ("POST", "/v1/firms/{firm}/messages/batch", &["messages"]),
    ("POST", "/confirm/{token}", &[]),
    ("GET", "/confirm/{token}", &[]),
    ("GET", "/v1/firms/{firm}", &[]),
    ("GET", "/v1/firms/{firm}/templates", &[]),
    ("DELETE", "/v1/firms/{firm}/templates/{text}", &[]),
    ("GET", "/v1/firms/{firm}/consents/{phone}", &[]),
    (
        "GET",
        "/v1/firms/{firm}/consents/{phone}/proof?format={text}",
        &[],
    ),
    (
        "GET",
        "/v1/firms/{firm}/consents?status={text}&limit={text}&cursor={text}",
        &[],
    ),
    ("GET", "/v1/proof-key", &[]),
];

/// A body for a route: any JSON, JSON of the route's shape, a batch of shaped messages, or
/// arbitrary bytes.
#[derive(Debug, Clone)]
enum Payload {
    Json(Value),
    Bytes(Vec<u8>),
}

fn payload(keys: &'static [&'static str]) -> BoxedStrategy<Payload> {
    let batch = proptest::collection::vec(shaped(MESSAGE_KEYS), 0..12)
        .prop_map(|messages| json!({ "messages": messages }));
    let shaped_body = if keys == ["messages"] {
        batch.boxed()
    } else {
        shaped(keys)
    };
    prop_oneof![
        2 => shaped_body.prop_map(Payload::Json),
        1 => any_json().prop_map(Payload::Json),
        1 => proptest::collection::vec(any::<u8>(), 0..512).prop_map(Payload::Bytes),
    ]
    .boxed()
}

// --- the SNS payload -------------------------------------------------------------------------

#[test]
fn sns_payload_decoding_never_panics() {
    check(
        "decode(any string)",
        2_000,
        prop_oneof![any::<String>(), any_json().prop_map(|v| v.to_string())],
        |message| {
            let _ = inbound_sms::decode(&message);
            Ok(())
        },
    );
}

/// What the SNS handler gets in the `Message` string.
fn sns_message(firm_number: String) -> BoxedStrategy<String> {
    let two_way = (
        hostile_string(),
        prop_oneof![Just(firm_number), hostile_string()],
        hostile_string(),
        hostile_string(),
        prop_oneof![Just("in-fuzz".to_string()), hostile_string()],
    )
        .prop_map(|(from, to, keyword, body, id)| {
            json!({
                "originationNumber": from,
                "destinationNumber": to,
                "messageKeyword": keyword,
                "messageBody": body,
                "inboundMessageId": id,
                "previousPublishedMessageId": "prev",
            })
            .to_string()
        });
    prop_oneof![
        2 => two_way,
        1 => any::<String>(),
        1 => any_json().prop_map(|v| v.to_string()),
    ]
    .boxed()
}

#[test]
fn the_inbound_handler_drops_junk_and_never_asks_for_a_retry() {
    let f = fixture();
    let firm_number = f.t.firm_number();
    check(
        "inbound_sms::handle",
        300,
        sns_message(firm_number),
        |message| {
            let t = f.t.clone();
            let result = f.rt.block_on(async move {
                let mut event = sns_event("+14155550100", "+1", "", "x", t.clock.now());
                event.records[0].sns.message = message.clone();
                tokio::time::timeout(
                    CALL_TIMEOUT,
                    tokio::spawn(async move { inbound_sms::handle(&t.services, event).await }),
                )
                .await
            });
            match result {
                Err(_) => Err(TestCaseError::fail("no answer within the time limit")),
                Ok(Err(panic)) => Err(TestCaseError::fail(format!("panicked: {panic}"))),
                // Junk is dropped (logged), never retried: a retry could not fix it.
                Ok(Ok(outcome)) => {
                    prop_assert!(outcome.is_ok(), "{outcome:?}");
                    Ok(())
                }
            }
        },
    );
    // Whatever came in, the pending contact was not confirmed by a stranger's text... unless a
    // fuzzed text came from its own number, which the strategy does not produce.
    assert_eq!(f.status_of(1), "pending");
}

#[test]
fn keyword_classification_never_panics_and_reads_long_texts() {
    check(
        "classify",
        2_000,
        prop_oneof![
            any::<String>(),
            "(stop|yes|help|start|please|no|m[aá]s|don't|text|me|[[:punct:]]| |\u{1F6D1}){0,40}",
            "\\PC{1000,3000}",
        ],
        |text| {
            let first = classify(&text);
            prop_assert_eq!(&first, &classify(&text), "classification is deterministic");
            if text.trim().eq_ignore_ascii_case("stop") {
                let revokes = matches!(first, Classification::OptOut { .. });
                prop_assert!(revokes, "STOP read as {:?}", first);
            }
            Ok(())
        },
    );
}

// --- phone numbers ---------------------------------------------------------------------------

#[test]
fn phone_parsing_never_panics_and_only_yields_e164() {
    check(
        "PhoneNumber::parse",
        5_000,
        prop_oneof![
            any::<String>(),
            "[+0-9 ().#*x-]{0,30}",
            "\\+?1?[ (]?[2-9][0-9]{2}[) .-]?[0-9]{3}[ .-]?[0-9]{4}",
            "\\+[0-9]{1,20}",
        ],
        |input| {
            let Ok(phone) = PhoneNumber::parse(&input) else {
                return Ok(());
            };
            let e164 = phone.as_str();
            prop_assert!(e164.starts_with('+'), "{e164}");
            prop_assert!(e164[1..].bytes().all(|b| b.is_ascii_digit()), "{e164}");
            prop_assert!((8..=16).contains(&e164.len()), "{e164}");
            let reparsed = PhoneNumber::parse(e164).ok();
            prop_assert_eq!(reparsed, Some(phone.clone()));
            let canonical = PhoneNumber::from_e164(e164).ok();
            prop_assert_eq!(canonical, Some(phone.clone()));
            let masked = phone.masked();
            prop_assert!(!masked.contains(e164), "{masked}");
            let debug = format!("{phone:?}");
            prop_assert!(!debug.contains(e164), "{}", debug);
            Ok(())
        },
    );
}

// --- confirmation tokens ---------------------------------------------------------------------

#[test]
fn any_token_gets_a_page_and_confirms_nothing() {
    let f = fixture();
    check(
        "/confirm/{anything}",
        400,
        (
            prop_oneof![
                any::<String>(),
                "v1\\.[a-zA-Z0-9_-]{0,8}\\.[a-zA-Z0-9_-]{0,300}\\.[a-zA-Z0-9_-]{0,60}",
                "v2\\.[a-zA-Z0-9_-]{0,8}\\.[a-zA-Z0-9_-]{0,400}",
                "[a-zA-Z0-9._-]{0,3000}",
            ],
            any::<bool>(),
        ),
        |(token, post)| {
            let method = if post { Method::POST } else { Method::GET };
            let path = format!("/confirm/{}", segment(&token));
            let (status, body) = f.send(request(&method, &path, Vec::new(), false))?;
            no_5xx(status, &body, &path)?;
            prop_assert!(
                [
                    StatusCode::BAD_REQUEST,
                    StatusCode::GONE,
                    StatusCode::NOT_FOUND
                ]
                .contains(&status),
                "{path}: {status}"
            );
            Ok(())
        },
    );
    assert_eq!(f.status_of(1), "pending");
}

/// A mutation of a real token: a changed, dropped or added character, or a cut.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, char),
    Remove(usize),
    Insert(usize, char),
    Truncate(usize),
}

#[test]
fn a_mutated_token_never_confirms() {
    let f = fixture();
    let original = f.token.clone();
    let chars = "[a-zA-Z0-9._~-]";
    check(
        "mutated token",
        400,
        (
            prop_oneof![
                (any::<usize>(), chars)
                    .prop_map(|(i, c)| Mutation::Replace(i, c.chars().next().unwrap_or('A'))),
                any::<usize>().prop_map(Mutation::Remove),
                (any::<usize>(), chars)
                    .prop_map(|(i, c)| Mutation::Insert(i, c.chars().next().unwrap_or('A'))),
                any::<usize>().prop_map(Mutation::Truncate),
            ],
            any::<bool>(),
        ),
        |(mutation, post)| {
            let mut token: Vec<char> = original.chars().collect();
            let len = token.len();
            match mutation {
                Mutation::Replace(i, c) => token[i % len] = c,
                Mutation::Remove(i) => {
                    token.remove(i % len);
                }
                Mutation::Insert(i, c) => token.insert(i % (len + 1), c),
                Mutation::Truncate(i) => token.truncate(i % len),
            }
            let token: String = token.into_iter().collect();
            if token == original {
                return Ok(());
            }
            let method = if post { Method::POST } else { Method::GET };
            let path = format!("/confirm/{}", segment(&token));
            let (status, body) = f.send(request(&method, &path, Vec::new(), false))?;
            prop_assert!(
                status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND,
                "{token}: {status} {body}"
            );
            Ok(())
        },
    );
    assert_eq!(f.status_of(1), "pending", "no mutation confirmed");
    // The real token still works: the mutations changed nothing.
    let (status, _) = f
        .send(request(
            &Method::POST,
            &format!("/confirm/{original}"),
            Vec::new(),
            false,
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(f.status_of(1), "opted_in");
}

// --- templates -------------------------------------------------------------------------------

/// Template text: Jinja syntax fragments, variables, filters and junk, in any order.
fn template_text() -> BoxedStrategy<String> {
    let fragment = prop_oneof![
        Just("{{ firm_name }}".to_string()),
        Just("{{ first_name }}".to_string()),
        Just("{{ confirm_url }}".to_string()),
        Just("{{ support_phone }}".to_string()),
        Just("{{ ".to_string()),
        Just(" }}".to_string()),
        Just("{% ".to_string()),
        Just(" %}".to_string()),
        Just("{# ".to_string()),
        Just(" #}".to_string()),
        Just("{% if first_name %}".to_string()),
        Just("{% else %}".to_string()),
        Just("{% endif %}".to_string()),
        Just("{% for i in range(100000) %}".to_string()),
        Just("{% for x in [1] recursive %}{{ loop([x]) }}".to_string()),
        Just("{% endfor %}".to_string()),
        Just("{% include \"/etc/passwd\" %}".to_string()),
        Just("{% import \"x\" as y %}".to_string()),
        Just("{% extends \"base\" %}".to_string()),
        Just("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}".to_string()),
        Just("{% autoescape false %}".to_string()),
        Just("{{ first_name|safe }}".to_string()),
        Just("{{ firm_name|upper|lower|title }}".to_string()),
        Just("{{ range(10)|join(',') }}".to_string()),
        Just("{{ debug() }}".to_string()),
        Just("{{ self }}".to_string()),
        Just("{{ 1/0 }}".to_string()),
        Just("{{ undefined_thing }}".to_string()),
        Just(" reply YES, HELP, STOP. Msg & data rates may apply. ".to_string()),
        Just("<script>alert(1)</script>".to_string()),
        "\\PC{0,20}",
    ];
    proptest::collection::vec(fragment, 0..12)
        .prop_map(|parts| parts.concat())
        .boxed()
}

#[test]
fn template_overrides_are_accepted_or_refused_never_5xx_and_never_hang() {
    let f = fixture();
    let firm = f.t.firm_id();
    check(
        "PUT template",
        300,
        (
            proptest::sample::select(vec![
                "sms_opt_in_request",
                "sms_opt_in_confirmation",
                "sms_opt_out_confirmation",
                "sms_help",
                "email_opt_in_request",
            ]),
            template_text(),
            template_text(),
            template_text(),
        ),
        |(name, a, b, c)| {
            let body = if name == "email_opt_in_request" {
                json!({ "subject": a, "text": b, "html": c })
            } else {
                json!({ "body": a })
            };
            let path = format!("/v1/firms/{firm}/templates/{name}");
            let (status, answer) = f.send(request(
                &Method::PUT,
                &path,
                body.to_string().into_bytes(),
                true,
            ))?;
            prop_assert!(
                status == StatusCode::OK || status == StatusCode::UNPROCESSABLE_ENTITY,
                "{body}: {status} {answer}"
            );
            Ok(())
        },
    );
}

// --- every route, every body -----------------------------------------------------------------

#[test]
fn every_route_answers_any_body_without_5xx() {
    let f = fixture();
    let firm = f.t.firm_id();
    let route = proptest::sample::select((0..ROUTES.len()).collect::<Vec<_>>());
    let firm_id = prop_oneof![3 => Just(firm.clone()), 1 => hostile_string()];
    let phone = prop_oneof![Just(f.t.phone(1)), Just(f.t.phone(2)), hostile_string()];
    let token = prop_oneof![Just(f.token.clone()), hostile_string()];
    check(
        "routes",
        800,
        (
            route.prop_flat_map(|i| (Just(i), payload(ROUTES[i].2))),
            firm_id,
            phone,
            token,
            hostile_string(),
            any::<bool>(),
        ),
        |((index, payload), firm_id, phone, token, text, json_type)| {
            let (method, template, _) = ROUTES[index];
            let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
            let path = template
                .replace("{firm}", &segment(&firm_id))
                .replace("{phone}", &segment(&phone))
                .replace("{token}", &segment(&token))
                .replace("{text}", &segment(&text));
            let bytes = match &payload {
                Payload::Json(value) => value.to_string().into_bytes(),
                Payload::Bytes(bytes) => bytes.clone(),
            };
            let (status, body) = f.send(request(&method, &path, bytes, json_type))?;
            no_5xx(status, &body, &format!("{method} {path} {payload:?}"))
        },
    );
}

// --- limits ----------------------------------------------------------------------------------

async fn put(t: &TestService, path: &str, body: Value) -> (StatusCode, Value) {
    t.call(Method::PUT, path, Some(body)).await
}

async fn post(t: &TestService, path: &str, body: Value) -> (StatusCode, Value) {
    t.call(Method::POST, path, Some(body)).await
}

async fn ready() -> TestService {
    let t = TestService::in_memory();
    scenarios::register_firm(&t).await;
    for n in [1, 2] {
        let (status, body) = post(
            &t,
            &format!("/v1/firms/{}/contacts", t.firm_id()),
            json!({ "contact_id": format!("c{n}"), "phone": t.phone(n), "email": format!("c{n}@client.example") }),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    t.reply(&t.phone(1), &t.firm_number(), "YES", "ready-yes")
        .await;
    t
}

#[tokio::test]
async fn bodies_over_one_mib_are_refused_on_every_route() {
    let t = ready().await;
    let firm = t.firm_id();
    // Valid JSON just past the limit, and exactly at it (which is read, then judged).
    let over = format!("{{\"x\":\"{}\"}}", "a".repeat(MAX_BODY_BYTES - 7));
    assert_eq!(over.len(), MAX_BODY_BYTES + 1);
    let at = format!("{{\"x\":\"{}\"}}", "a".repeat(MAX_BODY_BYTES - 8));
    assert_eq!(at.len(), MAX_BODY_BYTES);
    for (method, path) in [
        (Method::PUT, format!("/v1/firms/{firm}")),
        (Method::PUT, format!("/v1/firms/{firm}/double-opt-in")),
        (Method::PUT, format!("/v1/firms/{firm}/templates/sms_help")),
        (Method::POST, format!("/v1/firms/{firm}/contacts")),
        (Method::POST, format!("/v1/firms/{firm}/messages")),
        (Method::POST, format!("/v1/firms/{firm}/messages/batch")),
    ] {
        let (status, body) = t
            .send_raw(request(&method, &path, over.clone().into_bytes(), true))
            .await;
        assert_eq!(
            status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{method} {path}: {body}"
        );
        assert_eq!(body["error"]["code"], "body_too_large");
        let (status, body) = t
            .send_raw(request(&method, &path, at.clone().into_bytes(), true))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {path} at the limit: {body}"
        );
    }
    // The confirmation page takes no body; a huge one changes nothing.
    let (status, _) = t
        .send_raw(request(
            &Method::POST,
            "/confirm/x",
            vec![b'a'; MAX_BODY_BYTES + 1],
            false,
        ))
        .await;
    assert!(status.is_client_error(), "{status}");
}

#[tokio::test]
async fn a_batch_holds_at_most_1000_messages() {
    let t = ready().await;
    let path = format!("/v1/firms/{}/messages/batch", t.firm_id());
    let batch = |n: usize| {
        let messages: Vec<Value> = (0..n)
            .map(|i| json!({ "to": t.phone(2), "body": format!("m{i}") }))
            .collect();
        json!({ "messages": messages })
    };
    let (status, body) = post(&t, &path, batch(1_000)).await;
    assert_eq!(status, StatusCode::OK);
    let results = body["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 1_000);
    // Number 2 is pending: every one is blocked, and recorded.
    assert!(results.iter().all(|r| r["reason"] == "not_opted_in"));
    let (status, body) = post(&t, &path, batch(1_001)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "batch_too_large");
    let (status, body) = post(&t, &path, json!({ "messages": [] })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"], json!([]));
}

#[tokio::test]
async fn a_message_body_holds_at_most_1530_characters() {
    let t = ready().await;
    let path = format!("/v1/firms/{}/messages", t.firm_id());
    for (body, expected) in [
        ("x".repeat(1_530), StatusCode::ACCEPTED),
        ("é".repeat(1_530), StatusCode::ACCEPTED),
        ("x".repeat(1_531), StatusCode::UNPROCESSABLE_ENTITY),
        ("🙂".repeat(1_531), StatusCode::UNPROCESSABLE_ENTITY),
        (" \n\t ".to_string(), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (status, answer) = post(&t, &path, json!({ "to": t.phone(1), "body": body })).await;
        assert_eq!(status, expected, "{} chars: {answer}", body.chars().count());
    }
    let (status, answer) = post(
        &t,
        &path,
        json!({ "to": t.phone(1), "body": "hi", "idempotency_key": "k".repeat(257) }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let (status, answer) = post(
        &t,
        &path,
        json!({ "to": t.phone(1), "body": "hi", "idempotency_key": "k".repeat(256) }),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
}

#[tokio::test]
async fn contact_fields_and_keys_are_bounded() {
    let t = ready().await;
    let path = format!("/v1/firms/{}/contacts", t.firm_id());
    for field in ["contact_id", "first_name", "last_name", "source", "email"] {
        let mut body = json!({ "contact_id": "c9", "phone": t.phone(9) });
        body[field] = json!(format!("{}@x.example", "a".repeat(260)));
        let (status, answer) = post(&t, &path, body).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {answer}"
        );
    }
    let (status, answer) = t
        .call_with(
            Method::POST,
            &path,
            Some(json!({ "contact_id": "c9", "phone": t.phone(9) })),
            &[("idempotency-key", &"k".repeat(257))],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(t.sms_to(&t.phone(9)).await.is_empty());
}

#[tokio::test]
async fn an_inbound_text_is_kept_to_2000_characters() {
    let t = ready().await;
    let consent_path = format!("/v1/firms/{}/consents/{}", t.firm_id(), t.phone(2));
    // A long text is never consent (part of it went unread), even when it starts with YES.
    let padded_yes = format!("Yes{}", " ".repeat(20_000));
    t.reply(&t.phone(2), &t.firm_number(), &padded_yes, "in-padded")
        .await;
    let (_, record) = t.call(Method::GET, &consent_path, None).await;
    assert_eq!(record["status"], "pending", "{record}");
    let long = format!("Who is this? {}", "é".repeat(5_000));
    t.reply(&t.phone(2), &t.firm_number(), &long, "in-long")
        .await;
    let (_, record) = t
        .call(
            Method::GET,
            &format!(
                "/v1/firms/{}/consents/{}?include=texts",
                t.firm_id(),
                t.phone(2)
            ),
            None,
        )
        .await;
    let kept = record["events"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["inbound_message_id"] == "in-long"))
        .and_then(|e| e["disclosed"]["text"]["text"].as_str())
        .map(|s| s.chars().count());
    assert_eq!(kept, Some(2_000));
    // A STOP at the very end of a long text still revokes: the text is read before it is cut.
    let stop = format!("{} STOP", "x ".repeat(1_500));
    t.reply(&t.phone(2), &t.firm_number(), &stop, "in-long-stop")
        .await;
    let (_, record) = t
        .call(
            Method::GET,
            &format!("/v1/firms/{}/consents/{}", t.firm_id(), t.phone(2)),
            None,
        )
        .await;
    assert_eq!(record["status"], "opted_out", "{record}");
}

#[tokio::test]
async fn an_over_long_token_is_refused_without_being_read() {
    let t = ready().await;
    for len in [2_049, 60_000] {
        let path = format!("/confirm/{}", "A".repeat(len));
        for method in [Method::GET, Method::POST] {
            let (status, _) = t.call(method, &path, None).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
        }
    }
}

#[tokio::test]
async fn template_sources_and_outputs_are_bounded() {
    let t = ready().await;
    let base = format!("/v1/firms/{}/templates", t.firm_id());
    let ok = "{{ firm_name }}: help at {{ support_phone }}. Reply STOP to end.";
    let (status, body) = put(&t, &format!("{base}/sms_help"), json!({ "body": ok })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (what, body) in [
        (
            "source over 10,000 chars",
            format!("{ok}{}", " ".repeat(10_000)),
        ),
        (
            "output over 1,600 chars",
            format!("{ok}{{% for i in range(2000) %}}x{{% endfor %}}"),
        ),
    ] {
        let (status, answer) = put(&t, &format!("{base}/sms_help"), json!({ "body": body })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {answer}");
        assert_eq!(answer["error"]["code"], "template_invalid");
    }
    let email = |html: String| json!({ "subject": "From {{ firm_name }}", "text": "{{ confirm_url }}", "html": html });
    let (status, answer) = put(
        &t,
        &format!("{base}/email_opt_in_request"),
        email(format!(
            "<a href=\"{{{{ confirm_url }}}}\">{{{{ firm_name }}}}</a>{}",
            " ".repeat(100_001)
        )),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
}

// --- templates that attack -------------------------------------------------------------------

async fn refused(t: &TestService, name: &str, body: Value) -> Vec<String> {
    // A hang detector, not a speed limit: the sandbox's fuel must stop every attack.
    let (status, answer) = tokio::time::timeout(
        CALL_TIMEOUT,
        put(
            t,
            &format!("/v1/firms/{}/templates/{name}", t.firm_id()),
            body.clone(),
        ),
    )
    .await
    .unwrap_or_else(|_| panic!("{body} did not answer within {CALL_TIMEOUT:?}"));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
    assert_eq!(answer["error"]["code"], "template_invalid");
    answer["error"]["problems"]
        .as_array()
        .map(|p| {
            p.iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

const HELP_OK: &str = "{{ firm_name }}: call {{ support_phone }}. Reply STOP to end.";

#[tokio::test]
async fn a_template_cannot_read_files() {
    let t = ready().await;
    for attack in [
        "{% include \"/etc/passwd\" %}",
        "{% include '../../../../etc/passwd' %}",
        "{% import \"/etc/passwd\" as p %}",
        "{% from \"/etc/passwd\" import x %}",
        "{% extends \"/etc/passwd\" %}",
    ] {
        let problems = refused(
            &t,
            "sms_help",
            json!({ "body": format!("{HELP_OK}{attack}") }),
        )
        .await;
        assert!(!problems.is_empty(), "{attack}");
        assert!(
            !problems.iter().any(|p| p.contains("root:")),
            "file contents leaked: {problems:?}"
        );
    }
}

#[tokio::test]
async fn a_template_cannot_loop_or_recurse_forever() {
    let t = ready().await;
    for attack in [
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{% for i in range(1000000000) %}x{% endfor %}",
        "{% for x in [1] recursive %}{{ loop([x]) }}{% endfor %}",
        "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    ] {
        refused(
            &t,
            "sms_help",
            json!({ "body": format!("{HELP_OK}{attack}") }),
        )
        .await;
    }
}

#[tokio::test]
async fn a_template_cannot_turn_html_escaping_off() {
    let t = ready().await;
    for html in [
        "<a href=\"{{ confirm_url }}\">{{ firm_name }}</a>{{ first_name|safe }}",
        "<a href=\"{{ confirm_url }}\">{{ firm_name }}</a>{% autoescape false %}{{ first_name }}{% endautoescape %}",
        "<a href=\"{{ confirm_url }}\">{{ firm_name }}</a>{% filter safe %}{{ first_name }}{% endfilter %}",
    ] {
        refused(
            &t,
            "email_opt_in_request",
            json!({ "subject": "From {{ firm_name }}", "text": "{{ confirm_url }}", "html": html }),
        )
        .await;
    }
}

/// A contact's name is data, never markup: escaped in the email's HTML part, with the default
/// template and with a firm's own.
#[tokio::test]
async fn html_in_a_contact_name_is_escaped_in_the_email() {
    let t = ready().await;
    let evil = "<script>alert('x')</script><img src=x onerror=alert(1)>";
    let create = |id: &str, n: u16| json!({ "contact_id": id, "phone": t.phone(n), "email": format!("{id}@client.example"), "first_name": evil });
    let contacts = format!("/v1/firms/{}/contacts", t.firm_id());
    let (status, body) = post(&t, &contacts, create("evil1", 5)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = put(
        &t,
        &format!("/v1/firms/{}/templates/email_opt_in_request", t.firm_id()),
        json!({
            "subject": "Texts from {{ firm_name }}",
            "text": "Hi {{ first_name }}: {{ confirm_url }}",
            "html": "<p>Hi {{ first_name }}</p><a href=\"{{ confirm_url }}\">Confirm with {{ firm_name }}</a>"
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = post(&t, &contacts, create("evil2", 6)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for id in ["evil1", "evil2"] {
        let emails = t.emails_to(&format!("{id}@client.example")).await;
        assert_eq!(emails.len(), 1, "{id}");
        let html = &emails[0].body;
        assert!(!html.contains("<script"), "{id}: {html}");
        assert!(!html.contains("<img"), "{id}: {html}");
        assert!(html.contains("&lt;script&gt;"), "{id}: {html}");
    }
}

// --- memory ----------------------------------------------------------------------------------

/// Counts live heap bytes and their peak, for the memory bound below.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are kept.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on unchanged.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract is passed on unchanged.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size >= layout.size() {
                let grown = new_size - layout.size();
                let live = LIVE.fetch_add(grown, Ordering::Relaxed) + grown;
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most a template's validation may allocate beyond what was live before.
const TEMPLATE_MEMORY_BOUND: usize = 64 * 1024 * 1024;

/// The peak heap growth while `f` runs (other tests running at the same time add noise of a
/// few MiB at most).
async fn peak_growth<F: std::future::Future>(f: F) -> (F::Output, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f.await;
    let peak = PEAK.load(Ordering::Relaxed);
    (out, peak.saturating_sub(base))
}

#[tokio::test]
async fn ordinary_templates_render_in_little_memory() {
    let t = ready().await;
    let path = format!("/v1/firms/{}/templates/sms_help", t.firm_id());
    let ((status, body), grown) = peak_growth(put(
        &t,
        &path,
        json!({ "body": format!("{HELP_OK}{{% for i in range(1000) %}}{{% endfor %}}") }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(grown < TEMPLATE_MEMORY_BOUND, "{grown} bytes");
}

/// A template could build large values without printing them: string repetition (up to
/// minijinja's 100 MB per operation), doubling through `set`, or amplifying filters (`center`,
/// `replace`, `join`, `format`). Fuel counts instructions, not bytes, and the output cap only
/// sees what is printed, so before the syntax allow-list validating the bomb below allocated
/// ~400 MB for a 150-character template. Now such a template is refused before it renders.
#[tokio::test]
async fn a_template_cannot_allocate_without_bound() {
    let t = ready().await;
    let path = format!("/v1/firms/{}/templates/sms_help", t.firm_id());
    for bomb in [
        "{% set x = 'x' * 100000000 %}{% set x = x ~ x %}{% set x = x ~ x %}",
        "{{ ''|center(300000000)|length }}",
        // A loop variable named like a filter passes the scan; the sandbox has no such filter.
        "{% for center in [1] %}{{ ''|center(300000000)|length }}{% endfor %}",
        "{{ ('x' * 100000000)|length }}",
    ] {
        let ((status, body), grown) = peak_growth(put(
            &t,
            &path,
            json!({ "body": format!("{HELP_OK}{bomb}") }),
        ))
        .await;
        assert!(
            grown < TEMPLATE_MEMORY_BOUND,
            "{bomb}: {status} {body}: validating it allocated {} MiB",
            grown / (1024 * 1024)
        );
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bomb}: {body}");
    }
}
