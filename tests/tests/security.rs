//! Security: tokens are bound to their firm and phone and confirm nothing else; a GET never
//! confirms; one firm's API paths never read or change another firm's records; phone numbers,
//! emails, tokens and secrets never appear in the logs; the HTML pages carry their security
//! headers; the SAM template holds no secret.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use consent::ports::Clock;
use consent_tests::faults::{Fault, FaultyService, Op, Target};
use consent_tests::{TestService, confirm_token, scenarios, sns_event};
use serde_json::{Value, json};
use tower::ServiceExt;

/// Firm B: a second firm on the same service (firm A is the test's own).
const FIRM_B: &str = "firm-b";
const FIRM_B_NUMBER: &str = "+12023000177";

async fn register_b(t: &TestService) {
    let (status, body) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{FIRM_B}"),
            Some(json!({
                "name": "Barrow Legal",
                "sms_number": FIRM_B_NUMBER,
                "support_email": "help@barrow.example",
                "support_phone": "(202) 555-0123",
                "website": "https://barrow.example"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn create(t: &TestService, firm: &str, contact: &str, phone: &str, email: &str) {
    let (status, body) = t
        .call(
            Method::POST,
            &format!("/v1/firms/{firm}/contacts"),
            Some(json!({ "contact_id": contact, "phone": phone, "email": email, "first_name": "Maria" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn record(t: &TestService, firm: &str, phone: &str) -> (StatusCode, Value) {
    t.call(
        Method::GET,
        &format!("/v1/firms/{firm}/consents/{phone}"),
        None,
    )
    .await
}

/// A firm's record of a number: (status, number of events).
async fn state(t: &TestService, firm: &str, phone: &str) -> (String, usize) {
    let (status, body) = record(t, firm, phone).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        body["status"].as_str().unwrap_or_default().to_string(),
        body["events"].as_array().map_or(0, Vec::len),
    )
}

async fn token_for(t: &TestService, email: &str) -> String {
    let emails = t.emails_to(email).await;
    emails
        .first()
        .and_then(|e| confirm_token(&e.body))
        .unwrap_or_else(|| panic!("no confirmation link for {email}: {emails:?}"))
}

/// Two firms with a contact on the same number, each with its token.
async fn two_firms() -> (TestService, String, String, String) {
    let t = TestService::in_memory();
    scenarios::register_firm(&t).await;
    register_b(&t).await;
    let phone = t.phone(1);
    create(&t, &t.firm_id(), "a1", &phone, "a1@client.example").await;
    create(&t, FIRM_B, "b1", &phone, "b1@client.example").await;
    let token_a = token_for(&t, "a1@client.example").await;
    let token_b = token_for(&t, "b1@client.example").await;
    (t, phone, token_a, token_b)
}

/// What a token says, opened with the test service's keys (the token itself is opaque).
fn claims(token: &str) -> Value {
    let claims = consent_tests::test_keys()
        .verify(token, chrono::DateTime::<chrono::Utc>::MIN_UTC)
        .unwrap_or_else(|e| panic!("claims: {e}"));
    serde_json::to_value(claims).unwrap_or_else(|e| panic!("claims: {e}"))
}

/// The token with one bit of its sealed claims (nonce, ciphertext or tag) changed.
fn forged(token: &str, at: usize) -> String {
    let (header, body) = token.rsplit_once('.').unwrap_or_default();
    let mut bytes = URL_SAFE_NO_PAD
        .decode(body)
        .unwrap_or_else(|e| panic!("body: {e}"));
    let index = at.min(bytes.len() - 1);
    bytes[index] ^= 1;
    format!("{header}.{}", URL_SAFE_NO_PAD.encode(bytes))
}

#[tokio::test]
async fn a_token_only_ever_confirms_its_own_firm_and_number() {
    let (t, phone, token_a, token_b) = two_firms().await;
    assert_eq!(claims(&token_a)["firm_id"], t.firm_id());
    assert_eq!(claims(&token_a)["phone"], phone);
    let before_b = state(&t, FIRM_B, &phone).await;

    // A's token confirms A's record of the number, and nothing at B.
    let (status, _) = t
        .call(Method::POST, &format!("/confirm/{token_a}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(state(&t, &t.firm_id(), &phone).await.0, "opted_in");
    assert_eq!(state(&t, FIRM_B, &phone).await, before_b, "B untouched");
    // The confirmation SMS came from A's number, with A's name.
    let sms = t.sms_to(&phone).await;
    assert!(
        sms.last()
            .is_some_and(|s| s.starts_with("Hartwell & Pine LLP")),
        "{sms:?}"
    );

    // The link reveals neither the firm nor the number.
    for readable in [t.firm_id(), phone.clone(), phone[2..].to_string()] {
        assert!(!token_a.contains(&readable), "{readable} in {token_a}");
    }

    // A's token with any bit of its sealed claims changed (its nonce, its claims, its tag):
    // refused, nothing changes anywhere.
    for forgery in [
        forged(&token_a, 0),
        forged(&token_a, 24),
        forged(&token_a, 60),
        forged(&token_a, usize::MAX),
    ] {
        for method in [Method::GET, Method::POST] {
            let (status, page) = t
                .call(method.clone(), &format!("/confirm/{forgery}"), None)
                .await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{method} {forgery}: {page}"
            );
        }
    }
    assert_eq!(state(&t, FIRM_B, &phone).await, before_b, "B untouched");

    // A token signed with another key (same key id, other secret) or an unknown key id.
    let other = consent::evidence::token::TokenKeyring::from_secret_spec(&format!(
        "test1:{}",
        base64::engine::general_purpose::STANDARD.encode([9u8; 32])
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let claims_b: consent::evidence::token::ConfirmationClaims =
        serde_json::from_value(claims(&token_b)).unwrap_or_else(|e| panic!("{e}"));
    let resigned = other.sign(&claims_b);
    let unknown_kid = resigned.replacen("v2.test1.", "v2.other.", 1);
    assert_ne!(unknown_kid, resigned);
    for token in [resigned, unknown_kid] {
        let (status, _) = t
            .call(Method::POST, &format!("/confirm/{token}"), None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{token}");
    }
    assert_eq!(state(&t, FIRM_B, &phone).await, before_b, "B untouched");

    // B's own token confirms B.
    let (status, _) = t
        .call(Method::POST, &format!("/confirm/{token_b}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(state(&t, FIRM_B, &phone).await.0, "opted_in");
}

#[tokio::test]
async fn a_token_expires_and_is_single_purpose() {
    let (t, phone, token_a, _) = two_firms().await;
    t.clock.advance(Duration::days(14) + Duration::seconds(1));
    let (status, page) = t
        .call(Method::POST, &format!("/confirm/{token_a}"), None)
        .await;
    assert_eq!(status, StatusCode::GONE, "{page}");
    assert_eq!(state(&t, &t.firm_id(), &phone).await.0, "pending");
}

#[tokio::test]
async fn a_scanners_get_never_confirms() {
    let (t, phone, token_a, _) = two_firms().await;
    let before = state(&t, &t.firm_id(), &phone).await;
    let sent = t.sms_to(&phone).await.len();
    for agent in [
        "Mozilla/5.0 (compatible; Barracuda Sentinel)",
        "Microsoft Office/16.0 (SafeLinks)",
        "curl/8.0",
    ] {
        for _ in 0..5 {
            let (status, page) = t
                .call_with(
                    Method::GET,
                    &format!("/confirm/{token_a}"),
                    None,
                    &[("user-agent", agent)],
                )
                .await;
            assert_eq!(status, StatusCode::OK);
            assert!(
                page["html"]
                    .as_str()
                    .is_some_and(|h| h.contains("<form method=\"post\"")),
                "{page}"
            );
        }
        // HEAD, as some scanners send, changes nothing either.
        let (status, _) = t
            .call(Method::HEAD, &format!("/confirm/{token_a}"), None)
            .await;
        assert!(status.is_success() || status.is_client_error(), "{status}");
    }
    assert_eq!(
        state(&t, &t.firm_id(), &phone).await,
        before,
        "no write at all"
    );
    assert_eq!(t.sms_to(&phone).await.len(), sent, "nothing sent");
}

#[tokio::test]
async fn one_firms_api_never_reads_or_changes_another_firms_records() {
    let t = TestService::in_memory();
    scenarios::register_firm(&t).await;
    register_b(&t).await;
    let firm_a = t.firm_id();
    // A's number, opted in at A; B has never seen it.
    let only_a = t.phone(1);
    create(&t, &firm_a, "a1", &only_a, "a1@client.example").await;
    t.reply(&only_a, &t.firm_number(), "YES", "in-a-yes").await;
    let a_before = state(&t, &firm_a, &only_a).await;
    assert_eq!(a_before.0, "opted_in");
    let sent_before = t.sms_to(&only_a).await.len();

    // B cannot read it: not the record, not its proof, not in B's export.
    let (status, body) = record(&t, FIRM_B, &only_a).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = t
        .call(
            Method::GET,
            &format!("/v1/firms/{FIRM_B}/consents/{only_a}/proof"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = t
        .call(Method::GET, &format!("/v1/firms/{FIRM_B}/consents"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        !body.to_string().contains(&only_a),
        "B's export lists A's number: {body}"
    );

    // B cannot text it: blocked as unknown, single or in a batch, keyed or not.
    let (status, body) = t
        .call(
            Method::POST,
            &format!("/v1/firms/{FIRM_B}/messages"),
            Some(json!({ "to": only_a, "body": "From B" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body,
        json!({ "decision": "blocked", "reason": "unknown_recipient" })
    );
    let (status, body) = t
        .call(
            Method::POST,
            &format!("/v1/firms/{FIRM_B}/messages/batch"),
            Some(json!({ "messages": [
                { "to": only_a, "body": "From B" },
                { "to": only_a, "body": "From B", "idempotency_key": "shared-key" },
            ]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for result in body["results"].as_array().cloned().unwrap_or_default() {
        assert_eq!(result["reason"], "unknown_recipient", "{result}");
    }
    assert_eq!(
        t.sms_to(&only_a).await.len(),
        sent_before,
        "nothing sent by B"
    );
    assert_eq!(
        state(&t, &firm_a, &only_a).await,
        a_before,
        "A's record untouched"
    );

    // Idempotency keys are the firm's own: A using B's key gets its own answer, not B's.
    let (status, body) = t
        .call(
            Method::POST,
            &format!("/v1/firms/{firm_a}/messages"),
            Some(json!({ "to": only_a, "body": "From A", "idempotency_key": "shared-key" })),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["decision"], "sent");

    // A STOP to B's number is B's business: A's consent stands.
    let stop = sns_event(&only_a, FIRM_B_NUMBER, "STOP", "in-b-stop", t.clock.now());
    if let Err(e) = inbound_sms::handle(&t.services, stop).await {
        panic!("{e}");
    }
    assert_eq!(state(&t, &firm_a, &only_a).await.0, "opted_in");
    let (status, body) = record(&t, FIRM_B, &only_a).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "opted_out");

    // B's template is B's: A's messages keep A's.
    let (status, body) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{FIRM_B}/templates/sms_opt_in_request"),
            Some(json!({ "body": "{{ firm_name }}: reply YES for texts. Msg & data rates may apply. HELP for help, STOP to end." })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let other = t.phone(2);
    create(&t, &firm_a, "a2", &other, "a2@client.example").await;
    let sms = t.sms_to(&other).await;
    assert!(
        sms.first()
            .is_some_and(|s| s.contains("Hartwell & Pine LLP") && !s.contains("Barrow")),
        "{sms:?}"
    );

    // Paths that try to reach another firm through the firm id are refused.
    for path in [
        format!("/v1/firms/{FIRM_B}%2F..%2F{firm_a}/consents/{only_a}"),
        format!("/v1/firms/..%2F{firm_a}/consents/{only_a}"),
        format!("/v1/firms/{firm_a}%00/consents/{only_a}"),
        format!("/v1/firms/{}/consents/{only_a}", firm_a.to_uppercase()),
        format!("/v1/firms/%20{firm_a}/consents/{only_a}"),
    ] {
        let (status, body) = t.call(Method::GET, &path, None).await;
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST,
            "{path}: {status} {body}"
        );
        assert!(!body.to_string().contains("opted_in"), "{path}: {body}");
    }
}

// --- logs ------------------------------------------------------------------------------------

/// Everything the subscriber writes, shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).to_string()
    }
}

/// The ways a person or a CRM writes a number (all must be absent).
fn spellings(e164: &str) -> Vec<String> {
    let mut out = vec![e164.to_string()];
    if let Some(national) = e164.strip_prefix("+1").filter(|n| n.len() == 10) {
        let (area, exchange, line) = (&national[..3], &national[3..6], &national[6..]);
        out.extend([
            national.to_string(),
            format!("1{national}"),
            format!("({area}) {exchange}-{line}"),
            format!("{area}-{exchange}-{line}"),
            format!("{area}.{exchange}.{line}"),
            format!("{area} {exchange} {line}"),
        ]);
    }
    out
}

/// Whether `text` holds an email address in clear (a masked one, `a***@x`, is fine).
fn clear_emails(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    for (at, _) in text.match_indices('@') {
        let start = text[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || "._%+-*".contains(c)))
            .map_or(0, |i| i + 1);
        let local = &text[start..at];
        let domain_ok = bytes.get(at + 1).is_some_and(|b| b.is_ascii_alphanumeric());
        if !local.is_empty() && domain_ok && !local.ends_with("***") {
            found.push(text[start..(at + 20).min(text.len())].to_string());
        }
    }
    found
}

/// Runs full scenarios, faults and junk with every log line captured (JSON, every level), and
/// finds no phone number, email address, token or secret in clear, in any line of any test of
/// this binary from then on.
#[tokio::test]
async fn no_phone_number_email_token_or_secret_in_any_log_line() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_current_span(true)
        .with_span_list(true)
        .with_writer(move || writer.clone())
        .finish();
    // Global, not scoped to this thread: callsites that other tests of this binary reached
    // first keep a cached interest that a thread-scoped subscriber does not always reset. The
    // other tests' lines are captured too, and must be as clean.
    if let Err(e) = tracing::subscriber::set_global_default(subscriber) {
        panic!("only this test installs a subscriber: {e}");
    }

    // The scenarios, on the embedded store.
    let lifecycle = TestService::in_memory();
    scenarios::full_lifecycle(&lifecycle).await;
    let confirmation = TestService::in_memory();
    scenarios::email_confirmation(&confirmation).await;

    // Failures, which are what gets logged: a store failure, a provider failure, an inbound
    // retry, an error page.
    let s = FaultyService::in_memory();
    scenarios::register_firm(&s.t).await;
    let phone = s.t.phone(1);
    let contacts = format!("/v1/firms/{}/contacts", s.t.firm_id());
    let contact = json!({ "contact_id": "c1", "phone": phone, "email": "c1@client.example" });
    // The SMS and the email of one contact go out together, so the email's fault gets a
    // contact of its own (after the throttled SMS, the first contact's email has gone).
    let other = json!({ "contact_id": "c2", "phone": s.t.phone(2), "email": "c2@client.example" });
    for (op, fault, body) in [
        (Op::Commit, Fault::ServerError, &contact),
        (Op::SendSms, Fault::Throttle, &contact),
        (Op::SendEmail, Fault::Timeout, &other),
    ] {
        s.plan.arm(Target::Op(op, 0), fault);
        let (status, _) = s.t.call(Method::POST, &contacts, Some(body.clone())).await;
        assert!(status.is_server_error(), "{op:?}: {status}");
    }
    s.plan.disarm();
    let (status, _) =
        s.t.call(Method::POST, &contacts, Some(contact.clone()))
            .await;
    assert!(status.is_success(), "{status}");
    s.plan.arm(Target::Op(Op::Commit, 0), Fault::Throttle);
    let event = sns_event(
        &phone,
        &s.t.firm_number(),
        "STOP",
        "in-stop",
        s.t.clock.now(),
    );
    assert!(
        inbound_sms::handle(&s.t.services, event.clone())
            .await
            .is_err()
    );
    s.plan.arm(Target::Op(Op::GetFirm, 0), Fault::ServerError);
    let token = token_for(&s.t, "c1@client.example").await;
    let (status, _) =
        s.t.call(Method::POST, &format!("/confirm/{token}"), None)
            .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    s.plan.disarm();
    assert!(inbound_sms::handle(&s.t.services, event).await.is_ok());

    // One failed message of a batch: its result says 503 (its cause is logged, and must be as
    // clean as every other line). The first message to a number is decided in its group's
    // write; the second in one of its own, which fails.
    s.plan.arm(Target::Op(Op::Commit, 0), Fault::ServerError);
    let (status, body) =
        s.t.call(
            Method::POST,
            &format!("/v1/firms/{}/messages/batch", s.t.firm_id()),
            Some(json!({ "messages": [
                { "to": phone, "body": "Hello" },
                { "to": phone, "body": "Hello again" },
            ] })),
        )
        .await;
    s.plan.disarm();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][1]["decision"], "failed", "{body}");
    assert_eq!(
        body["results"][1]["error"]["code"], "service_unavailable",
        "{body}"
    );

    // Junk from SNS, which is logged as rejected: numbers where strings belong, a payload that
    // is only a number, an unknown destination.
    for message in [
        json!({ "originationNumber": 14_152_001_001_u64, "destinationNumber": s.t.firm_number(),
                "messageBody": "STOP", "inboundMessageId": "j1" })
        .to_string(),
        json!(phone).to_string(),
        json!([phone, "c1@client.example"]).to_string(),
        json!({ "originationNumber": phone, "destinationNumber": "+12025550000",
                "messageBody": "STOP", "inboundMessageId": "j2" })
        .to_string(),
        format!("{{\"originationNumber\":\"{phone}\",\"messageBody\":\"c1@client.example\""),
    ] {
        let mut event = sns_event(&phone, &s.t.firm_number(), "", "junk", s.t.clock.now());
        event.records[0].sns.message = message;
        assert!(inbound_sms::handle(&s.t.services, event).await.is_ok());
    }

    let logs = captured.text();
    let lines: Vec<&str> = logs.lines().collect();
    assert!(
        lines.iter().any(|l| l.contains("inbound sms applied")),
        "the scenarios logged: {logs}"
    );
    assert!(
        lines.iter().any(|l| l.contains("\"level\":\"ERROR\"")),
        "{logs}"
    );
    for line in &lines {
        assert!(
            serde_json::from_str::<Value>(line).is_ok(),
            "not a JSON log line: {line}"
        );
    }

    let mut numbers = Vec::new();
    for t in [&lifecycle, &confirmation, &s.t] {
        for n in 0..10 {
            numbers.push(t.phone(n));
        }
        numbers.push(t.firm_number());
    }
    numbers.push(FIRM_B_NUMBER.to_string());
    let mut leaks = Vec::new();
    for line in &lines {
        for number in &numbers {
            for spelling in spellings(number) {
                if line.contains(&spelling) {
                    leaks.push(format!("{spelling} in {line}"));
                }
            }
        }
        for email in clear_emails(line) {
            leaks.push(format!("email {email} in {line}"));
        }
        // Bearer material: a confirmation link's token, the signing secret.
        if ["/confirm/v1.", "\"v1.test1.", "/confirm/v2.", "\"v2.test1."]
            .iter()
            .any(|token| line.contains(token))
        {
            leaks.push(format!("a token in {line}"));
        }
        let secret = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        if line.contains(&secret) || line.contains(&secret[..20]) {
            leaks.push(format!("the token secret in {line}"));
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}

// --- pages -----------------------------------------------------------------------------------

async fn page(t: &TestService, method: Method, path: &str) -> (StatusCode, HeaderMap, String) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .unwrap_or_else(|e| panic!("{e}"));
    let response = match t.router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    (status, headers, String::from_utf8_lossy(&bytes).to_string())
}

fn assert_secure_page(what: &str, headers: &HeaderMap, html: &str) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert!(header("content-type").starts_with("text/html"), "{what}");
    let csp = header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
    ] {
        assert!(
            csp.contains(directive),
            "{what}: CSP {csp:?} lacks {directive}"
        );
    }
    assert!(
        !csp.contains("script-src"),
        "{what}: no scripts at all: {csp}"
    );
    // The one stylesheet is allowed by its hash (consent-http's pages.rs); 'unsafe-inline' would
    // let markup slipped into a page style it.
    assert!(
        !csp.contains("unsafe-inline") && csp.contains("style-src 'sha256-"),
        "{what}: styles by hash only: {csp}"
    );
    assert_eq!(header("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header("cache-control"), "no-store", "{what}");
    assert!(!html.contains("<script"), "{what}: {html}");
}

#[tokio::test]
async fn every_confirmation_page_carries_the_security_headers() {
    let s = FaultyService::in_memory();
    let t = &s.t;
    scenarios::register_firm(t).await;
    create(t, &t.firm_id(), "c1", &t.phone(1), "c1@client.example").await;
    create(t, &t.firm_id(), "c2", &t.phone(2), "c2@client.example").await;
    let token = token_for(t, "c1@client.example").await;
    let expiring = token_for(t, "c2@client.example").await;
    let path = format!("/confirm/{token}");

    let mut pages = Vec::new();
    pages.push(("GET form", page(t, Method::GET, &path).await));
    // A failure inside: the error page.
    s.plan.arm(Target::Op(Op::GetFirm, 0), Fault::ServerError);
    pages.push(("POST store failure", page(t, Method::POST, &path).await));
    s.plan.disarm();
    pages.push(("POST confirm", page(t, Method::POST, &path).await));
    pages.push(("POST again", page(t, Method::POST, &path).await));
    pages.push(("GET confirmed", page(t, Method::GET, &path).await));
    pages.push((
        "GET tampered",
        page(t, Method::GET, &format!("{path}x")).await,
    ));
    pages.push((
        "POST malformed",
        page(t, Method::POST, "/confirm/nonsense").await,
    ));
    pages.push((
        "GET over-long",
        page(t, Method::GET, &format!("/confirm/{}", "A".repeat(3000))).await,
    ));
    t.clock.advance(Duration::days(15));
    pages.push((
        "POST expired",
        page(t, Method::POST, &format!("/confirm/{expiring}")).await,
    ));

    let statuses: Vec<(&str, StatusCode)> = pages.iter().map(|(w, (s, _, _))| (*w, *s)).collect();
    assert_eq!(
        statuses,
        vec![
            ("GET form", StatusCode::OK),
            ("POST store failure", StatusCode::SERVICE_UNAVAILABLE),
            ("POST confirm", StatusCode::OK),
            ("POST again", StatusCode::OK),
            ("GET confirmed", StatusCode::OK),
            ("GET tampered", StatusCode::BAD_REQUEST),
            ("POST malformed", StatusCode::BAD_REQUEST),
            ("GET over-long", StatusCode::BAD_REQUEST),
            ("POST expired", StatusCode::GONE),
        ]
    );
    for (what, (_, headers, html)) in &pages {
        assert_secure_page(what, headers, html);
        // The page names the number only masked, and never echoes the token.
        assert!(!html.contains(&t.phone(1)), "{what}: {html}");
        assert!(!html.contains(&token), "{what}: the token is on the page");
    }
}

/// The SAM template names where secrets live; it holds none.
#[test]
fn the_sam_template_holds_no_secret() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml");
    let template = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut problems = Vec::new();
    for (n, line) in template.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') {
            continue;
        }
        // An environment variable that names a secret must get it by reference.
        if let Some((name, value)) = trimmed.split_once(':') {
            let value = value.trim();
            let secretive = ["SECRET", "PASSWORD", "TOKEN_KEYS", "PRIVATE", "SEED"]
                .iter()
                .any(|w| name.contains(w));
            let upper = name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if upper && secretive && !value.is_empty() && !value.starts_with('!') {
                problems.push(format!("line {}: {trimmed}", n + 1));
            }
        }
        if trimmed.contains("AKIA") || trimmed.contains("-----BEGIN") {
            problems.push(format!("line {}: key material: {trimmed}", n + 1));
        }
        // A secret's value is generated or resolved, never written here.
        if trimmed.starts_with("SecretString:") && !trimmed.contains("{{resolve:") {
            problems.push(format!("line {}: a literal secret: {trimmed}", n + 1));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// --- no usable token in what the service answers ---------------------------------------------

/// Every GET route of firm-admin, with its parameters filled in for one contact (`a1`), and
/// its proof also as the printable page and its list also as CSV.
fn readable_paths(
    firm: &str,
    phone: &str,
) -> Vec<(String, &'static [(&'static str, &'static str)])> {
    const JSON: &[(&str, &str)] = &[];
    const CSV: &[(&str, &str)] = &[("accept", "text/csv")];
    let mut paths: Vec<(String, &[(&str, &str)])> = firm_admin::ROUTES
        .iter()
        .filter(|(method, _)| *method == "GET")
        .map(|(_, path)| {
            let path = path
                .replace("{firm_id}", firm)
                .replace("{phone}", phone)
                .replace("{name}", "sms_opt_in_request")
                .replace("{contact_id}", "a1");
            (path, JSON)
        })
        .collect();
    paths.push((
        format!("/v1/firms/{firm}/consents/{phone}/proof?format=html"),
        JSON,
    ));
    paths.push((format!("/v1/firms/{firm}/consents"), CSV));
    paths
}

/// What each of [`readable_paths`] answers for one contact, as (path, body); each answers 2xx.
async fn read_every_path(t: &TestService, firm: &str, phone: &str) -> Vec<(String, String)> {
    let paths = readable_paths(firm, phone);
    assert!(paths.len() >= 7, "{paths:?}");
    let mut bodies = Vec::new();
    for (path, headers) in paths {
        let (status, _, body) = t.call_text(Method::GET, &path, headers).await;
        assert!(status.is_success(), "{path}: {status} {body}");
        bodies.push((path, body));
    }
    bodies
}

#[tokio::test]
async fn no_route_answers_with_a_usable_confirmation_link() {
    let t = TestService::in_memory();
    scenarios::register_firm(&t).await;
    let phone = t.phone(1);
    create(&t, &t.firm_id(), "a1", &phone, "a1@client.example").await;
    let token = token_for(&t, "a1@client.example").await;
    let mut read = 0;
    for (path, body) in read_every_path(&t, &t.firm_id(), &phone).await {
        assert!(
            !body.contains(&token),
            "{path} answers with the live token: {body}"
        );
        read += usize::from(body.contains("[token sha256:"));
    }
    // The record view, the proof and its page hold the email as sent, its token withheld.
    assert!(
        read >= 3,
        "the withheld link in the record, the proof and its page: {read}"
    );
    // And the link the contact got still works.
    let (status, _) = t
        .call(Method::POST, &format!("/confirm/{token}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_link_sent_before_opaque_links_is_withheld_by_every_route_and_the_proof_verifies() {
    let t = TestService::in_memory();
    scenarios::register_firm(&t).await;
    let (firm, phone) = (t.firm_id(), t.phone(1));
    create(&t, &firm, "a1", &phone, "a1@client.example").await;
    // An opt-in email as stored before v2 links: the v1 link in clear, its hash covering it.
    let v1 = "v1.test1.eyJmaXJtX2lkIjoiZGVtbyJ9.c2lnbmF0dXJlLW9mLXRoZS1saW5r";
    let link = format!("https://confirm.example/confirm/{v1}");
    let number = consent::model::phone::PhoneNumber::parse(&phone).expect("a test number");
    let store = &t.services.store;
    let Ok(Some(record)) = store.get_consent(&firm, &number).await else {
        panic!("a1 has a record");
    };
    let email = consent::evidence::audit::AuditEvent::new(
        t.clock.now(),
        consent::evidence::audit::AuditKind::EmailSent {
            to: "a1@client.example".into(),
            subject: "Please confirm".into(),
            text: format!("Confirm: {link}"),
            html: format!("<a href=\"{link}\">Confirm</a>"),
            provider_message_id: "ses-legacy".into(),
        },
    );
    let write = consent::ports::ConsentWrite::new(
        &firm,
        &number,
        Some(record.version),
        Some(record.next_version(t.clock.now())),
        vec![email],
    );
    assert!(store.commit(write).await.is_ok());

    let mut withheld = 0;
    for (path, body) in read_every_path(&t, &firm, &phone).await {
        assert!(
            !body.contains(v1),
            "{path} answers with the live v1 link: {body}"
        );
        withheld += usize::from(body.contains("legacy_confirmation_link"));
    }
    assert!(
        withheld >= 2,
        "the record view and the proof mark it: {withheld}"
    );
    let (status, proof) = t
        .call(
            Method::GET,
            &format!("/v1/firms/{firm}/consents/{phone}/proof"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{proof}");
    let checked = consent_proof::verify::verify(&proof, None).expect("a proof document");
    assert!(checked.is_valid(), "{:?}", checked.problems);
    assert!(
        checked.warnings.iter().any(|w| w.contains("is withheld")),
        "{:?}",
        checked.warnings
    );
}
