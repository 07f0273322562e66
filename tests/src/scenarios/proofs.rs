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
    // The firm's own text is not a consent message: the proof holds its commitment.
    let firm_text = allowed
        .iter()
        .find(|e| e["kind"] == "firm_message")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        firm_text["body"]["length"],
        "Your hearing is Monday.".len(),
        "{firm_text}"
    );
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

/// A firm with four numbers in every state (pending; opted in by a reply; opted in on the
/// firm's word with double opt-in off; opted in so, then out by STOP), and its audit bundle as
/// served: the text and the phones in that order.
pub async fn audit_bundle_text(t: &TestService) -> (String, [String; 4]) {
    register_firm(t).await;
    let phones = [t.phone(1), t.phone(2), t.phone(3), t.phone(4)];
    let (status, body) = create_contact(t, "a1", &phones[0]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = create_contact(t, "b1", &phones[1]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    t.reply(&phones[1], &t.firm_number(), "YES", "in-b1").await;
    let (status, body) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{}/double-opt-in", t.firm_id()),
            Some(json!({
                "enabled": false,
                "changed_by": "ops@hartwell.example",
                "acknowledge_risk": true
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (contact, phone) in [("c1", &phones[2]), ("d1", &phones[3])] {
        let (status, body) = create_contact(t, contact, phone).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["consent"]["status"], "opted_in", "{body}");
    }
    t.reply(&phones[3], &t.firm_number(), "STOP", "in-d1").await;
    let (status, headers, text) = t
        .call_text(
            Method::GET,
            &format!("/v1/firms/{}/proofs", t.firm_id()),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json")),
        "{headers:?}"
    );
    (text, phones)
}

/// A firm's audit bundle: every number's proof under one manifest signed with the proof key,
/// verified in process by the consent-proof library; the firm-attested numbers carry the firm's
/// chain (who turned double opt-in off, when, acknowledged); `status` selects; an unknown firm
/// and a bad status are said so.
pub async fn audit_bundle(t: &TestService) {
    let (text, phones) = audit_bundle_text(t).await;
    let (status, key) = t.call(Method::GET, "/v1/proof-key", None).await;
    assert_eq!(status, StatusCode::OK, "{key}");
    let pinned = key["public_key"]
        .as_str()
        .and_then(|k| consent_proof::keys::parse_public_key(k).ok());
    assert!(pinned.is_some(), "{key}");
    let check = |text: &str| -> Value {
        let bundle: Value = match serde_json::from_str(text) {
            Ok(bundle) => bundle,
            Err(e) => panic!("the bundle is not JSON ({e}): {text}"),
        };
        let verification = consent_proof::bundle::verify_bundle(&bundle, pinned.as_ref());
        assert!(
            verification.as_ref().is_ok_and(|v| v.is_valid()),
            "{verification:?}"
        );
        let ambiguous = consent_proof::strict::ambiguities(text);
        assert!(ambiguous.as_ref().is_ok_and(Vec::is_empty), "{ambiguous:?}");
        bundle
    };
    let bundle = check(&text);
    let manifest = &bundle["manifest"];
    assert_eq!(manifest["format"], "consent-audit-manifest/v1");
    assert_eq!(manifest["firm_id"], t.firm_id());
    assert_eq!(manifest["status"], Value::Null);
    assert_eq!(manifest["signer"]["key_id"], "test-proof-1");
    let status_of_number = |phone: &str| -> Option<Value> {
        manifest["numbers"]
            .as_array()?
            .iter()
            .find(|n| n["phone"] == phone)
            .map(|n| n["status"].clone())
    };
    assert_eq!(manifest["numbers"].as_array().map(Vec::len), Some(4));
    for (phone, expected) in phones
        .iter()
        .zip(["pending", "opted_in", "opted_in", "opted_out"])
    {
        assert_eq!(status_of_number(phone), Some(json!(expected)), "{phone}");
    }
    let proof_of = |phone: &str| -> Value {
        bundle["proofs"]
            .as_array()
            .and_then(|proofs| proofs.iter().find(|p| p["phone"] == phone).cloned())
            .unwrap_or_default()
    };
    // Consent on the firm's word carries the firm's chain; a contact's own consent does not.
    let attested = proof_of(&phones[2]);
    assert_eq!(attested["consent"]["basis"], "firm_attested");
    let firm_chain = &attested["firm_chain"];
    assert_eq!(firm_chain["head"], manifest["firm_chain_head"]);
    assert!(manifest["firm_chain_head"].is_string(), "{manifest}");
    let switch = firm_chain["events"]
        .as_array()
        .and_then(|events| {
            events
                .iter()
                .find(|e| e["type"] == "double_opt_in_changed")
                .cloned()
        })
        .unwrap_or_default();
    assert_eq!(switch["enabled"], false, "{firm_chain}");
    assert_eq!(switch["changed_by"], "ops@hartwell.example");
    assert_eq!(switch["acknowledge_risk"], true);
    assert_eq!(
        switch["actor"],
        crate::TEST_CALLER,
        "who switched it, as authenticated"
    );
    assert!(switch["at"].is_string() && switch["hash"].is_string());
    assert!(
        proof_of(&phones[3]).get("firm_chain").is_some(),
        "opted in so before STOP"
    );
    for phone in &phones[..2] {
        assert!(proof_of(phone).get("firm_chain").is_none(), "{phone}");
    }
    // The single proof of that number carries the same chain, and verifies with it.
    let (status, single) = t
        .call(
            Method::GET,
            &format!("/v1/firms/{}/consents/{}/proof", t.firm_id(), phones[2]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{single}");
    assert_eq!(single["firm_chain"], *firm_chain);
    let verification = consent::evidence::proof::verify(&single, pinned.as_ref());
    assert!(
        verification
            .as_ref()
            .is_ok_and(|v| v.is_valid() && v.firm_chain == Some(2)),
        "{verification:?}"
    );

    // One status: only those numbers, and the manifest says which status it holds.
    for (status_filter, expected) in [
        ("opted_in", vec![&phones[1], &phones[2]]),
        ("pending", vec![&phones[0]]),
    ] {
        let (status, _, text) = t
            .call_text(
                Method::GET,
                &format!("/v1/firms/{}/proofs?status={status_filter}", t.firm_id()),
                &[],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let bundle = check(&text);
        assert_eq!(bundle["manifest"]["status"], status_filter);
        let mut listed: Vec<&str> = bundle["manifest"]["numbers"]
            .as_array()
            .map(|n| n.iter().filter_map(|n| n["phone"].as_str()).collect())
            .unwrap_or_default();
        listed.sort_unstable();
        let mut expected: Vec<&str> = expected.into_iter().map(String::as_str).collect();
        expected.sort_unstable();
        assert_eq!(listed, expected, "{status_filter}");
    }

    // An unknown firm, a status that is none.
    let (status, body) = t
        .call(
            Method::GET,
            &format!("/v1/firms/nobody-{}/proofs", t.index),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "firm_not_found");
    let (status, body) = t
        .call(
            Method::GET,
            &format!("/v1/firms/{}/proofs?status=maybe", t.firm_id()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "invalid_request");
}
