//! Privileged texts through the `consent-proof` binary and the Python verifier of the docs: a
//! proof verifies with its texts as commitments and with them disclosed; `verify --disclose
//! TEXT --salt SALT [--event ID]` accepts the right text and salt and refuses a wrong salt,
//! another text or an altered commitment (exit 1, with the reason); an unreadable salt exits 2;
//! a proof from before commitments (texts hashed in clear) still verifies; a confirmation link
//! sent before opaque links is withheld from the proof, which still verifies with a note.

use std::path::PathBuf;
use std::process::Command;

use chrono::Utc;
use consent::evidence::audit::{AuditEvent, AuditKind};
use consent::evidence::chain;
use consent::evidence::proof::build_proof;
use consent::model::firm::Firm;
use consent::model::gate::{MessageCategory, MessageKind};
use consent::model::record::ConsentRecord;
use consent_tests::scenarios::{self, PrivilegedProofs};
use consent_tests::{TestService, test_proof_key};
use serde_json::{Value, json};

mod common;

use common::file;

fn verify(path: &PathBuf, args: &[&str]) -> (i32, String, String) {
    common::run("verify", path, args)
}

/// The Python verifier printed in docs/proof-format.md, run on `proof`: exit status, output.
fn python_verifies(name: &str, proof: &Value) -> (i32, String) {
    let python = common::python();
    let key = test_proof_key().public_key().public_key;
    let output = Command::new(&python)
        .arg(common::documented_python_verifier())
        .arg(file(name, &proof.to_string()))
        .arg(key)
        .output()
        .unwrap_or_else(|e| panic!("{} does not run ({e})", python.display()));
    let out = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap_or(-1), out)
}

async fn proofs() -> PrivilegedProofs {
    scenarios::privileged_proofs(&TestService::in_memory()).await
}

/// The client's reply, its event id and salt, from the firm's copy.
fn client_reply(with_texts: &Value) -> (String, String) {
    let event = with_texts["events"]
        .as_array()
        .and_then(|events| {
            events
                .iter()
                .find(|e| e["disclosed"]["text"]["text"] == scenarios::CLIENT_TEXT)
        })
        .cloned()
        .expect("the client's reply, disclosed");
    (
        event["id"].as_str().unwrap_or_default().to_string(),
        event["disclosed"]["text"]["salt"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

#[tokio::test]
async fn both_forms_verify_with_the_binary_and_the_python_verifier() {
    let proofs = proofs().await;
    for (name, proof) in [
        ("committed.json", &proofs.committed),
        ("with-texts.json", &proofs.with_texts),
    ] {
        let (code, out, err) = verify(&file(name, &proof.to_string()), &[]);
        assert_eq!(code, 0, "{name}: {out}{err}");
        let (code, out) = python_verifies(name, proof);
        assert_eq!((code, out.trim()), (0, "valid"), "{name}: {out}");
    }
    // A disclosed text changed in the firm's copy: both verifiers say so.
    let mut altered = proofs.with_texts.clone();
    let events = altered["events"].as_array_mut().expect("events");
    let reply = events
        .iter_mut()
        .find(|e| e["disclosed"]["text"]["text"] == scenarios::CLIENT_TEXT)
        .expect("the client's reply");
    reply["disclosed"]["text"]["text"] = json!("I had no beers before the crash");
    let (code, out, _) = verify(&file("altered-text.json", &altered.to_string()), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("the disclosed text does not match its commitment"),
        "{out}"
    );
    let (code, out) = python_verifies("altered-text.json", &altered);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("a disclosed text does not match its commitment"),
        "{out}"
    );
}

#[tokio::test]
async fn a_disclosed_text_is_accepted_with_its_salt_and_refused_otherwise() {
    let proofs = proofs().await;
    let (event_id, salt) = client_reply(&proofs.with_texts);
    let path = file("committed.json", &proofs.committed.to_string());
    let text = scenarios::CLIENT_TEXT;

    for args in [
        vec!["--disclose", text, "--salt", &salt, "--event", &event_id],
        vec!["--disclose", text, "--salt", &salt],
    ] {
        let (code, out, err) = verify(&path, &args);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        assert!(
            out.contains("DISCLOSED: the text matches the text commitment of event"),
            "{out}"
        );
    }

    let wrong_salt = "0".repeat(64);
    let (code, out, _) = verify(
        &path,
        &[
            "--disclose",
            text,
            "--salt",
            &wrong_salt,
            "--event",
            &event_id,
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("do not hash to the commitment"), "{out}");
    let (code, out, _) = verify(&path, &["--disclose", text, "--salt", &wrong_salt]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("none of the proof's 3 commitments"), "{out}");

    let other = "I had two beers after the crash";
    let (code, out, _) = verify(
        &path,
        &["--disclose", other, "--salt", &salt, "--event", &event_id],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("NOT DISCLOSED"), "{out}");
    let (code, out, _) = verify(
        &path,
        &[
            "--disclose",
            "I had beer",
            "--salt",
            &salt,
            "--event",
            &event_id,
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("the text is 10 bytes long but the commitment is to 32"),
        "{out}"
    );

    // The commitment itself altered: the proof no longer verifies, so nothing is disclosed.
    let mut altered = proofs.committed.clone();
    let events = altered["events"].as_array_mut().expect("events");
    let reply = events
        .iter_mut()
        .find(|e| e["id"] == event_id.as_str())
        .expect("the reply");
    reply["text"]["commitment"] = json!("ab".repeat(32));
    let altered = file("altered-commitment.json", &altered.to_string());
    let (code, out, _) = verify(
        &altered,
        &["--disclose", text, "--salt", &salt, "--event", &event_id],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("hash does not match its content"), "{out}");
    assert!(out.contains("NOT DISCLOSED"), "{out}");

    // An event that is no commitment, or no event at all.
    let first = proofs.committed["events"][0]["id"]
        .as_str()
        .unwrap_or_default();
    let (code, out, _) = verify(
        &path,
        &["--disclose", text, "--salt", &salt, "--event", first],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("holds no commitment"), "{out}");
    let (code, out, _) = verify(
        &path,
        &["--disclose", text, "--salt", &salt, "--event", "nope"],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("the proof has no event nope"), "{out}");

    // A salt that is not one, or none: the input cannot be read.
    let (code, _, err) = verify(&path, &["--disclose", text, "--salt", "not-hex"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--salt"), "{err}");
    let (code, _, err) = verify(&path, &["--disclose", text]);
    assert_eq!(code, 2, "{err}");
}

/// The firm's proof of `events` on +14155550100, sealed into its chain, with the record at
/// `status` on `basis`.
fn signed_proof(mut events: Vec<AuditEvent>, status: &str, basis: &str) -> Value {
    let now = Utc::now();
    let firm: Firm = serde_json::from_value(json!({
        "firm_id": "f1", "name": "Hartwell & Pine", "sms_number": "+12025550100",
        "support_email": "help@example.com", "support_phone": "1",
        "website": "https://example.com", "double_opt_in": true,
        "double_opt_in_changed": null, "time_zone": null,
        "created_at": now, "updated_at": now, "version": 1,
    }))
    .expect("a firm");
    let head = chain::seal("f1", "+14155550100", None, &mut events).expect("sealed");
    let record: ConsentRecord = serde_json::from_value(json!({
        "firm_id": "f1", "phone": "+14155550100", "status": status, "basis": basis,
        "version": 2, "created_at": now, "status_changed_at": now, "updated_at": now,
        "audit_head": head,
    }))
    .expect("a record");
    test_proof_key()
        .sign(build_proof(&firm, &record, events, now))
        .to_json()
}

/// The firm's message as events written before commitments hold it: its text hashed in clear
/// (no salt).
fn message_in_clear() -> AuditEvent {
    let mut message = AuditEvent::new(
        Utc::now(),
        AuditKind::MessageAllowed {
            kind: MessageKind::FirmMessage,
            category: MessageCategory::Transactional,
            body: "Your hearing is Monday.".into(),
            from: "+12025550100".into(),
            double_opt_in: true,
            idempotency_key: None,
        },
    );
    message.salt = None;
    message
}

/// A trail written before commitments: the firm's message with its text hashed in clear, as
/// stored then.
fn legacy_proof() -> Value {
    signed_proof(vec![message_in_clear()], "opted_in", "sms_reply")
}

#[test]
fn a_proof_from_before_commitments_still_verifies_with_its_texts_in_clear() {
    let proof = legacy_proof();
    assert_eq!(proof["events"][0]["body"], "Your hearing is Monday.");
    let path = file("legacy.json", &proof.to_string());
    let (code, out, err) = verify(&path, &[]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out) = python_verifies("legacy.json", &proof);
    assert_eq!((code, out.trim()), (0, "valid"), "{out}");
    // It holds no commitment to disclose against.
    let salt = "1".repeat(64);
    let args = [
        "--disclose",
        "Your hearing is Monday.",
        "--salt",
        salt.as_str(),
    ];
    let (code, out, _) = verify(&path, &args);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("none of the proof's 0 commitments"), "{out}");
}

/// A trail whose opt-in email was sent before opaque links: its `email_sent` event holds a live
/// v1 link in clear, and its hash covers it, as stored then; a firm message follows it.
fn proof_with_a_v1_link(link: &str) -> Value {
    let email = AuditEvent::new(
        Utc::now(),
        AuditKind::EmailSent {
            to: "client@example.com".into(),
            subject: "Please confirm".into(),
            text: format!("Confirm here: {link}"),
            html: format!("<a href=\"{link}\">Confirm</a>"),
            provider_message_id: "ses-1".into(),
        },
    );
    signed_proof(
        vec![email, message_in_clear()],
        "pending",
        "opt_in_requested",
    )
}

#[test]
fn a_v1_link_is_withheld_from_the_proof_which_still_verifies_with_a_note() {
    let token = "v1.k1.eyJmaXJtX2lkIjoiZjEifQ.c2lnbmF0dXJl";
    let link = format!("https://confirm.example/confirm/{token}");
    let proof = proof_with_a_v1_link(&link);
    let text = proof.to_string();
    assert!(
        !text.contains(token),
        "the live link is in the proof: {text}"
    );
    let email = &proof["events"][0];
    assert_eq!(email["withheld"], "legacy_confirmation_link", "{email}");
    let marker = consent::evidence::token::withheld_marker(token);
    assert_eq!(
        email["text"],
        format!("Confirm here: https://confirm.example/confirm/{marker}")
    );

    let path = file("withheld.json", &text);
    let (code, out, err) = verify(&path, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("event 1 ("), "{out}");
    assert!(out.contains("is withheld"), "{out}");
    let (code, out) = python_verifies("withheld.json", &proof);
    assert_eq!((code, out.trim()), (0, "valid"), "{out}");
}

/// Both verifiers refuse `proof` (written as `name`); the binary's report names each of `said`.
fn refused_by_both(name: &str, proof: &Value, said: &[&str]) {
    let path = file(name, &proof.to_string());
    let (code, out, _) = verify(&path, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(said.iter().all(|s| out.contains(s)), "{out}");
    let (code, out) = python_verifies(name, proof);
    assert_eq!(code, 1, "{out}");
}

#[test]
fn withholding_anything_but_a_legacy_link_or_relinking_around_it_is_refused() {
    let link = "https://confirm.example/confirm/v1.k1.eyJmIjoxfQ.c2ln";
    // The firm's message marked withheld: its hash would go unchecked.
    let mut proof = proof_with_a_v1_link(link);
    proof["events"][1]["withheld"] = json!("legacy_confirmation_link");
    refused_by_both(
        "withheld-message.json",
        &proof,
        &["event 2 (", "marked withheld"],
    );

    // Another reason on the email itself.
    let mut proof = proof_with_a_v1_link(link);
    proof["events"][0]["withheld"] = json!("inconvenient");
    refused_by_both(
        "withheld-reason.json",
        &proof,
        &["event 1 (", "marked withheld"],
    );

    // The withheld event's stored hash swapped: the next event no longer links to it.
    let mut proof = proof_with_a_v1_link(link);
    proof["events"][0]["hash"] = json!("0".repeat(64));
    refused_by_both("withheld-relinked.json", &proof, &["event 2 ("]);
}
