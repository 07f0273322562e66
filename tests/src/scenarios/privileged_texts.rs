//! Privilege-safe proofs (DESIGN §8): a proof, a record view and an audit bundle give the
//! consent messages in full and every other text (the firm's own messages, replies that
//! changed nothing) as a salted commitment; `?include=texts` adds the texts and salts for the
//! firm; both forms verify, with the same chain; any other `include` is a 422.

use axum::http::{Method, StatusCode};
use consent_proof::commitment::{Commitment, parse_salt};
use serde_json::Value;

use super::{create_contact, register_firm, send, status_of};
use crate::TestService;

/// The firm's own message of the scenario (privileged).
pub const FIRM_TEXT: &str = "Your deposition is moved to Thursday at 9.";
/// A client's reply that changed nothing (privileged).
pub const CLIENT_TEXT: &str = "I had two beers before the crash";
/// A client's short reply that changed nothing: guessable without a salt.
pub const SHORT_TEXT: &str = "ok";

/// A number's proof in both forms after an opt-in by text, a firm message and two replies
/// that changed nothing: the default (commitments) and the firm's copy (`include=texts`).
#[derive(Debug, Clone)]
pub struct PrivilegedProofs {
    /// The contact's number, E.164, whose proofs these are.
    pub phone: String,
    /// The default proof.
    pub committed: Value,
    /// The proof with the texts and salts.
    pub with_texts: Value,
}

/// Builds the trail of [`PrivilegedProofs`] and fetches both proofs.
pub async fn privileged_proofs(t: &TestService) -> PrivilegedProofs {
    register_firm(t).await;
    let phone = t.phone(7);
    let (status, body) = create_contact(t, "c-priv", &phone).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    t.reply(&phone, &t.firm_number(), "Yes!", "in-priv-1").await;
    assert_eq!(status_of(t, &phone).await, "opted_in");
    let (status, body) = send(t, &phone, FIRM_TEXT, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    t.reply(&phone, &t.firm_number(), CLIENT_TEXT, "in-priv-2")
        .await;
    t.reply(&phone, &t.firm_number(), SHORT_TEXT, "in-priv-3")
        .await;
    let path = format!("/v1/firms/{}/consents/{phone}/proof", t.firm_id());
    let (status, committed) = t.call(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{committed}");
    let (status, with_texts) = t
        .call(Method::GET, &format!("{path}?include=texts"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{with_texts}");
    PrivilegedProofs {
        phone,
        committed,
        with_texts,
    }
}

/// Every string anywhere in `value`, member names included.
fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(text) => vec![text.as_str()],
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        Value::Object(members) => members
            .iter()
            .flat_map(|(name, member)| {
                let mut found = vec![name.as_str()];
                found.extend(strings(member));
                found
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether `value` shows any privileged text of the scenario, or a salt.
fn shows_privileged(value: &Value) -> Option<String> {
    strings(value)
        .into_iter()
        .find(|s| {
            s.contains(FIRM_TEXT)
                || s.contains(CLIENT_TEXT)
                || *s == SHORT_TEXT
                || *s == "salt"
                || *s == "disclosed"
        })
        .map(str::to_string)
}

/// The events of a proof, chained then unchained.
fn events(proof: &Value) -> Vec<Value> {
    ["events", "unchained_events"]
        .iter()
        .filter_map(|list| proof[list].as_array())
        .flatten()
        .cloned()
        .collect()
}

/// Checks every disclosed text of `events` against its commitment; returns the texts.
fn disclosed_texts(events: &[Value]) -> Vec<String> {
    let mut texts = Vec::new();
    for event in events {
        let Some(disclosed) = event["disclosed"].as_object() else {
            continue;
        };
        for (member, shown) in disclosed {
            let text = shown["text"].as_str().unwrap_or_default();
            let salt = shown["salt"].as_str().and_then(parse_salt);
            let commitment = Commitment::of(&event[member]);
            let (Some(salt), Some(commitment)) = (salt, commitment) else {
                panic!("{member} of {event} is not a commitment with a salt beside it");
            };
            assert_eq!(commitment.check(text, &salt), Ok(()), "{event}");
            texts.push(text.to_string());
        }
    }
    texts
}

/// The default proof holds no privileged text and no salt, the consent messages in full; the
/// firm's copy holds every text with its salt, each matching its commitment; both verify with
/// the same chain, and so do the record view, the printable page and the audit bundle.
pub async fn privileged_texts(t: &TestService) {
    let proofs = privileged_proofs(t).await;
    let (committed, with_texts) = (&proofs.committed, &proofs.with_texts);
    assert_eq!(shows_privileged(committed), None, "{committed}");
    for proof in [committed, with_texts] {
        let verification = consent_proof::verify::verify(proof, None).expect("a proof");
        assert!(verification.is_valid(), "{:?}", verification.problems);
    }
    assert_eq!(committed["chain"], with_texts["chain"]);
    let hashes =
        |proof: &Value| -> Vec<Value> { events(proof).iter().map(|e| e["hash"].clone()).collect() };
    assert_eq!(hashes(committed), hashes(with_texts));

    // Consent messages in full: the reply that opted in, the request and the confirmation.
    let all = events(committed);
    let of_kind = |kind: &str| {
        all.iter()
            .find(|e| e["type"] == "message_allowed" && e["kind"] == kind)
            .cloned()
            .unwrap_or_default()
    };
    let opt_in = all.iter().find(|e| e["type"] == "opted_in").cloned();
    assert_eq!(
        opt_in.map(|e| e["evidence"]["text"].clone()),
        Some(Value::from("Yes!"))
    );
    for kind in ["opt_in_request", "opt_in_confirmation"] {
        assert!(of_kind(kind)["body"].is_string(), "{kind}: {committed}");
    }
    // The others as commitments with their length in UTF-8 bytes.
    let firm = of_kind("firm_message");
    assert_eq!(firm["body"]["length"], FIRM_TEXT.len(), "{firm}");
    let replies: Vec<&Value> = all
        .iter()
        .filter(|e| e["type"] == "reply_received")
        .collect();
    assert_eq!(replies.len(), 2, "{committed}");
    assert!(replies.iter().all(|e| Commitment::of(&e["text"]).is_some()));

    let mut texts = disclosed_texts(&events(with_texts));
    texts.sort();
    let mut expected = vec![FIRM_TEXT, CLIENT_TEXT, SHORT_TEXT];
    expected.sort();
    assert_eq!(texts, expected);

    record_view_and_page(t, &proofs.phone).await;
    bundle(t).await;
    refuses_other_includes(t, &proofs.phone).await;
}

/// The record view and the printable page: commitments by default, texts with `include`.
async fn record_view_and_page(t: &TestService, phone: &str) {
    let record = format!("/v1/firms/{}/consents/{phone}", t.firm_id());
    let (status, view) = t.call(Method::GET, &record, None).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(shows_privileged(&view), None, "{view}");
    let (_, view) = t
        .call(Method::GET, &format!("{record}?include=texts"), None)
        .await;
    let events = view["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(disclosed_texts(&events).len(), 3, "{view}");

    let page = format!("{record}/proof?format=html");
    let (status, _, html) = t.call_text(Method::GET, &page, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !html.contains(FIRM_TEXT) && !html.contains("two beers"),
        "{html}"
    );
    assert!(
        html.contains("commitment") && html.contains("Yes!"),
        "{html}"
    );
    let (_, _, html) = t
        .call_text(Method::GET, &format!("{page}&include=texts"), &[])
        .await;
    assert!(
        html.contains("two beers") && html.contains("Salt"),
        "{html}"
    );
}

/// The audit bundle: commitments by default, texts with `include`, valid either way.
async fn bundle(t: &TestService) {
    let path = format!("/v1/firms/{}/proofs", t.firm_id());
    for (query, shown) in [("", false), ("?include=texts", true)] {
        let (status, _, text) = t
            .call_text(Method::GET, &format!("{path}{query}"), &[])
            .await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let bundle: Value = serde_json::from_str(&text).expect("a bundle");
        let verification = consent_proof::bundle::verify_bundle(&bundle, None).expect("a bundle");
        assert!(verification.is_valid(), "{:?}", verification.problems);
        assert_eq!(
            shows_privileged(&bundle).is_some(),
            shown,
            "{query}: {text}"
        );
    }
}

/// `include` takes `texts` or nothing: anything else is the caller's mistake, said so.
async fn refuses_other_includes(t: &TestService, phone: &str) {
    let firm = t.firm_id();
    for path in [
        format!("/v1/firms/{firm}/consents/{phone}/proof?include=everything"),
        format!("/v1/firms/{firm}/consents/{phone}/proof?format=html&include="),
        format!("/v1/firms/{firm}/consents/{phone}?include=salts"),
        format!("/v1/firms/{firm}/proofs?include=TEXTS"),
    ] {
        let (status, body) = t.call(Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {body}");
        assert_eq!(body["error"]["code"], "invalid_include", "{path}: {body}");
    }
}
