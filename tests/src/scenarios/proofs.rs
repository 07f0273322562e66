//! The signed proof of consent: as JSON and as a page, against the key the service serves.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{create_contact, register_firm, send, status_of};
use crate::{TestService, confirm_token};

/// A whole lifecycle of one number, then its signed proof: pending (request by SMS and email)
/// → a blocked send → YES → the email link used after it → an allowed send → STOP → a blocked
/// send → START. Returns the proof (JSON) and the number.
pub async fn lifecycle_proof(t: &TestService) -> (Value, String) {
    register_firm(t).await;
    let phone = t.phone(1);
    let (status, body) = create_contact(t, "c1", &phone).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = send(t, &phone, "Before consent.", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    t.reply(&phone, &t.firm_number(), "Yes!", "in-p1").await;
    let emails = t.emails_to("c1@client.example").await;
    let Some(token) = emails.first().and_then(|e| confirm_token(&e.body)) else {
        panic!("no confirmation link in {emails:?}");
    };
    let (status, _) = t
        .call_with(
            Method::POST,
            &format!("/confirm/{token}"),
            None,
            &[("user-agent", "Mozilla/5.0 (proof test)")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send(t, &phone, "Your hearing is Monday.", Some("k-proof")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    t.reply(&phone, &t.firm_number(), "STOP", "in-p2").await;
    let (status, _) = send(t, &phone, "Are you there?", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    t.reply(&phone, &t.firm_number(), "START", "in-p3").await;
    assert_eq!(status_of(t, &phone).await, "opted_in");

    let (status, proof) = t
        .call(
            Method::GET,
            &format!("/v1/firms/{}/consents/{phone}/proof", t.firm_id()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{proof}");
    (proof, phone)
}

/// The proof of a whole lifecycle verifies, carries every piece of evidence, is served as a
/// printable page too, and names the key `GET /v1/proof-key` serves; a changed proof does not
/// verify; events recorded before a number had a record are listed apart and verify too.
pub async fn proof_of_consent(t: &TestService) {
    let (proof, phone) = lifecycle_proof(t).await;
    let verification = match consent::evidence::proof::verify(&proof, None) {
        Ok(v) => v,
        Err(e) => panic!("not a proof: {e}: {proof}"),
    };
    assert!(
        verification.is_valid(),
        "{:?}\n{proof}",
        verification.problems
    );
    assert!(
        verification.warnings.is_empty(),
        "{:?}",
        verification.warnings
    );
    assert_eq!(proof["format"], "consent-proof/v1");
    assert_eq!(proof["firm"]["firm_id"], t.firm_id());
    assert_eq!(proof["firm"]["name"], "Hartwell & Pine LLP");
    assert_eq!(proof["phone"], phone);
    assert_eq!(proof["consent"]["status"], "opted_in");
    assert_eq!(proof["consent"]["basis"], "sms_reply");
    assert_eq!(proof["signer"]["key_id"], "test-proof-1");
    assert_eq!(proof["signer"]["algorithm"], "Ed25519");

    let events = proof["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(proof["chain"]["length"], events.len());
    assert_eq!(
        proof["chain"]["head"],
        events.last().map(|e| e["hash"].clone()).unwrap_or_default()
    );
    assert_eq!(
        proof["unchained_events"].as_array().map(Vec::len),
        Some(0),
        "the number had a record for every event"
    );
    let of_type = |kind: &str| -> Vec<Value> {
        events
            .iter()
            .filter(|e| e["type"] == kind)
            .cloned()
            .collect()
    };
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types.first(), Some(&"contact_created"), "{types:?}");
    // Chain order is time order here.
    let ids: Vec<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    // The evidence: the reply texts with the carrier's ids, the email and its provider id, the
    // email link's user agent, the provider ids of the texts sent, double opt-in at each send.
    let opt_ins = of_type("opted_in");
    assert_eq!(opt_ins.len(), 2, "YES and START: {types:?}");
    assert_eq!(opt_ins[0]["evidence"]["channel"], "sms");
    assert_eq!(opt_ins[0]["evidence"]["text"], "Yes!");
    assert_eq!(opt_ins[0]["evidence"]["inbound_message_id"], "in-p1");
    assert_eq!(opt_ins[1]["evidence"]["inbound_message_id"], "in-p3");
    let opt_out = of_type("opted_out");
    assert_eq!(opt_out.len(), 1);
    assert_eq!(opt_out[0]["text"], "STOP");
    assert_eq!(opt_out[0]["inbound_message_id"], "in-p2");
    let email = of_type("email_sent");
    assert_eq!(email.len(), 1);
    assert_eq!(email[0]["to"], "c1@client.example");
    assert!(
        email[0]["provider_message_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    let ignored = of_type("email_confirmation_ignored");
    assert_eq!(ignored.len(), 1, "{types:?}");
    assert_eq!(ignored[0]["user_agent"], "Mozilla/5.0 (proof test)");
    let allowed = of_type("message_allowed");
    assert!(
        allowed.len() >= 4,
        "request, confirmations, the firm's text: {types:?}"
    );
    assert!(allowed.iter().all(|e| e["double_opt_in"] == true));
    let firm_text = allowed
        .iter()
        .find(|e| e["body"] == "Your hearing is Monday.")
        .cloned()
        .unwrap_or_default();
    assert_eq!(firm_text["idempotency_key"], "k-proof");
    let sent = of_type("message_sent");
    assert!(
        sent.iter().any(|e| e["allowed_event_id"] == firm_text["id"]
            && e["provider_message_id"]
                .as_str()
                .is_some_and(|id| !id.is_empty())),
        "the firm's text was sent with a provider id: {sent:?}"
    );
    assert_eq!(of_type("message_blocked").len(), 2);

    // Any change to the document shows.
    let mut changed = proof.clone();
    changed["events"][1]["contact_id"] = json!("someone-else");
    changed["events"][0]["source"] = json!("forged");
    let result = consent::evidence::proof::verify(&changed, None).map(|v| v.is_valid());
    assert_eq!(result, Ok(false));

    // The printable page: the same facts, escaped, with the security headers of every page.
    let (status, headers, html) = t
        .call_text(
            Method::GET,
            &format!(
                "/v1/firms/{}/consents/{phone}/proof?format=html",
                t.firm_id()
            ),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html")),
        "{headers:?}"
    );
    assert!(headers.get("content-security-policy").is_some());
    for expected in [
        "Proof of consent",
        "Hartwell &amp; Pine LLP",
        phone.as_str(),
        "The contact agreed by text",
        "Yes!",
        "in-p1",
        "The contact withdrew consent",
        "Mozilla/5.0 (proof test)",
        "test-proof-1",
    ] {
        assert!(html.contains(expected), "{expected} missing from the page");
    }
    assert!(
        !html.contains("Hartwell & Pine"),
        "unescaped text on the page"
    );
    let (status, body) = t
        .call(
            Method::GET,
            &format!(
                "/v1/firms/{}/consents/{phone}/proof?format=pdf",
                t.firm_id()
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // The public key the proof names is the one the service serves.
    let (status, key) = t.call(Method::GET, "/v1/proof-key", None).await;
    assert_eq!(status, StatusCode::OK, "{key}");
    assert_eq!(key["key_id"], proof["signer"]["key_id"]);
    assert_eq!(key["public_key"], proof["signer"]["public_key"]);
    assert_eq!(key["algorithm"], "Ed25519");
    let pinned = key["public_key"]
        .as_str()
        .and_then(|k| consent::evidence::proof::parse_public_key(k).ok());
    assert!(pinned.is_some(), "{key}");
    let pinned_result =
        consent::evidence::proof::verify(&proof, pinned.as_ref()).map(|v| v.is_valid());
    assert_eq!(pinned_result, Ok(true));

    // Events from before the number had a record: a text blocked as unknown, a stranger's
    // text. They are listed apart, hashed, and the proof still verifies.
    let stranger = t.phone(2);
    let (status, _) = send(t, &stranger, "Hello?", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    t.reply(&stranger, &t.firm_number(), "who is this", "in-s1")
        .await;
    let (status, _) = create_contact(t, "c2", &stranger).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, proof) = t
        .call(
            Method::GET,
            &format!("/v1/firms/{}/consents/{stranger}/proof", t.firm_id()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{proof}");
    let unchained: Vec<&str> = proof["unchained_events"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["type"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(unchained, ["message_blocked", "reply_received"]);
    assert_eq!(proof["events"][0]["type"], "contact_created");
    let verification = consent::evidence::proof::verify(&proof, None);
    assert!(
        verification.as_ref().is_ok_and(|v| v.is_valid()),
        "{verification:?}"
    );

    // No record, no proof; a bad number or an unknown firm is said so.
    for (path, expected) in [
        (
            format!("/v1/firms/{}/consents/{}/proof", t.firm_id(), t.phone(3)),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/v1/firms/{}/consents/12/proof", t.firm_id()),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            format!("/v1/firms/nobody-{}/consents/{phone}/proof", t.index),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, body) = t.call(Method::GET, &path, None).await;
        assert_eq!(status, expected, "{path}: {body}");
    }
}
