//! The `consent-proof` binary on real proofs: one from the embedded store and one from the AWS
//! adapters on moto verify alike (exit 0); a changed, cut, reordered or foreign-signed proof is
//! refused (exit 1) with what is wrong; input that is not a proof at all exits 2.

use std::path::PathBuf;
use std::process::Command;

use consent_tests::{TestService, scenarios};
use serde_json::Value;

mod common;

use common::{documented_python_verifier, file, python};

/// Runs `consent-proof verify FILE [ARGS]`: exit status, stdout, stderr.
fn verify(path: &PathBuf, args: &[&str]) -> (i32, String, String) {
    common::run("verify", path, args)
}

fn types(proof: &Value) -> Vec<String> {
    proof["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter_map(|e| e["type"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The public key the service serves, base64 and hex.
async fn public_key(t: &TestService) -> (String, String) {
    let (_, key) = t.call(http::Method::GET, "/v1/proof-key", None).await;
    (
        key["public_key"].as_str().unwrap_or_default().to_string(),
        key["public_key_hex"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

#[tokio::test]
async fn a_proof_from_the_embedded_store_verifies_and_tampering_is_named() {
    let t = TestService::in_memory();
    let (proof, _) = scenarios::lifecycle_proof(&t).await;
    let (key_base64, key_hex) = public_key(&t).await;
    let path = file("memory.json", &proof.to_string());

    let (code, out, err) = verify(&path, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("VALID: "), "{out}");
    assert!(out.contains("key test-proof-1"), "{out}");
    for key in [&key_base64, &key_hex] {
        let (code, out, err) = verify(&path, &["--public-key", key]);
        assert_eq!(code, 0, "{out}{err}");
    }
    // Pretty-printed, the same document still verifies: the canonical form is what counts.
    let pretty = file(
        "pretty.json",
        &serde_json::to_string_pretty(&proof).unwrap_or_default(),
    );
    assert_eq!(verify(&pretty, &[]).0, 0);

    // Pinned to another key.
    let other = consent::evidence::proof::ProofSigner::from_seed("other", [1; 32])
        .map(|s| s.public_key_hex())
        .unwrap_or_default();
    let (code, out, _) = verify(&path, &["--public-key", &other]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not by the pinned public key"), "{out}");
    assert!(out.contains("signature does not verify"), "{out}");

    let id = |i: usize| {
        proof["events"][i]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    // One event's text changed.
    let mut changed = proof.clone();
    changed["events"][2]["provider_message_id"] = Value::from("forged");
    let (code, out, _) = verify(&file("changed.json", &changed.to_string()), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("INVALID: "), "{out}");
    assert!(
        out.contains(&format!(
            "event 3 ({}): hash does not match its content",
            id(2)
        )),
        "{out}"
    );
    // One dropped.
    let mut dropped = proof.clone();
    if let Some(events) = dropped["events"].as_array_mut() {
        events.remove(3);
    }
    let (code, out, _) = verify(&file("dropped.json", &dropped.to_string()), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "event missing between event 3 ({}) and event 4",
            id(2)
        )),
        "{out}"
    );
    // Two swapped.
    let mut swapped = proof.clone();
    if let Some(events) = swapped["events"].as_array_mut() {
        events.swap(4, 5);
    }
    let (code, out, _) = verify(&file("swapped.json", &swapped.to_string()), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("out of order"), "{out}");
    // Re-signed by someone else: consistent in itself, refused against our key.
    let forged = consent::evidence::proof::ProofSigner::from_seed("forger", [2; 32])
        .map(|s| s.sign_json(proof.clone()))
        .expect("signed");
    let forged = file("forged.json", &forged.to_string());
    assert_eq!(verify(&forged, &[]).0, 0);
    let (code, out, _) = verify(&forged, &["--public-key", &key_base64]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("signed by key forger"), "{out}");

    // Not a proof at all: exit 2, said on stderr.
    for (name, contents, says) in [
        ("garbage.json", "{not json", "is not JSON"),
        (
            "other.json",
            r#"{"format":"something-else"}"#,
            "not a consent-proof/v1",
        ),
        ("list.json", "[]", "not a JSON object"),
    ] {
        let (code, out, err) = verify(&file(name, contents), &[]);
        assert_eq!(code, 2, "{name}: {out}{err}");
        assert!(err.contains(says), "{name}: {err}");
    }
    let (code, _, err) = verify(&PathBuf::from("/nonexistent/proof.json"), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
    let (code, _, err) = verify(&path, &["--public-key", "not-a-key"]);
    assert_eq!(code, 2);
    assert!(err.contains("--public-key"), "{err}");
}

#[tokio::test]
async fn proofs_from_the_embedded_store_and_the_emulator_verify_alike() {
    let memory = TestService::in_memory();
    let (from_memory, _) = scenarios::lifecycle_proof(&memory).await;
    let (emulated, _moto) = consent_tests::emulator::scenario_service(90).await;
    let (from_emulator, _) = scenarios::lifecycle_proof(&emulated).await;
    let (key, _) = public_key(&emulated).await;

    for (name, proof) in [("memory", &from_memory), ("emulator", &from_emulator)] {
        let path = file(&format!("{name}.json"), &proof.to_string());
        let (code, out, err) = verify(&path, &["--public-key", &key]);
        assert_eq!(code, 0, "{name}: {out}{err}");
    }
    // The same lifecycle leaves the same trail on both backends.
    assert_eq!(types(&from_memory), types(&from_emulator));
    assert_eq!(from_memory["consent"], from_emulator["consent"]);
    assert_eq!(
        from_memory["chain"]["length"],
        from_emulator["chain"]["length"]
    );
}

/// The example in docs/proof-format.md (built by an independent implementation of the format)
/// verifies, so the documentation and the verifier agree.
#[test]
fn the_documented_example_verifies() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/proof-format.md"
    ))
    .expect("docs/proof-format.md");
    let example = doc
        .split("## Example")
        .nth(1)
        .and_then(|rest| rest.split("```json\n").nth(1))
        .and_then(|block| block.split("```").next())
        .expect("a json block under ## Example");
    let path = file("documented.json", example);
    let (code, out, err) = verify(
        &path,
        &[
            "--public-key",
            "66be7e332c7a453332bd9d0a7f7db055f5c5ef1a06ada66d98b39fb6810c473a",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    // Its key is the test suite's seed (32 bytes of 0x0b).
    let key = consent_tests::test_proof_key().public_key().public_key;
    assert_eq!(key, "Zr5+Myx6RTMyvZ0Kf32wVfXF7xoGraZtmLOftoEMRzo=");
}

#[tokio::test]
async fn a_duplicated_member_or_an_unsafe_number_makes_a_genuine_proof_invalid() {
    let t = TestService::in_memory();
    let (proof, _) = scenarios::lifecycle_proof(&t).await;
    let text = proof.to_string();
    assert_eq!(verify(&file("genuine.json", &text), &[]).0, 0);

    // `"type":"opted_in"` inserted before an event's real `type`: serde_json keeps the last
    // member, so the hashes and the signature still check out; other parsers keep the first.
    let first_type = format!("\"type\":{}", proof["events"][0]["type"]);
    assert!(text.contains(&first_type), "{first_type}");
    let doubled = text.replacen(
        &first_type,
        &format!("\"type\":\"opted_in\",{first_type}"),
        1,
    );
    let (code, out, _) = verify(&file("doubled.json", &doubled), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("$.events[0].type appears more than once"),
        "{out}"
    );

    // A number no two parsers need read alike.
    let length = format!("\"length\":{}", proof["chain"]["length"]);
    let huge = text.replacen(&length, "\"length\":9007199254740993", 1);
    let (code, out, _) = verify(&file("huge.json", &huge), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("$.chain.length is a number outside"), "{out}");
}

#[tokio::test]
async fn the_python_verifier_in_the_docs_agrees_on_genuine_and_tampered_proofs() {
    let t = TestService::in_memory();
    let (proof, _) = scenarios::lifecycle_proof(&t).await;
    let (key_base64, _) = public_key(&t).await;
    let verifier = documented_python_verifier();
    let python = python();
    let run = |name: &str, text: &str| {
        let output = Command::new(&python)
            .arg(&verifier)
            .arg(file(name, text))
            .arg(&key_base64)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "{} does not run ({e}): scripts/test sets up .venv",
                    python.display()
                )
            });
        let out = String::from_utf8_lossy(&output.stdout).to_string()
            + &String::from_utf8_lossy(&output.stderr);
        (output.status.code().unwrap_or(-1), out)
    };
    let text = proof.to_string();
    let (code, out) = run("genuine.json", &text);
    assert_eq!((code, out.trim()), (0, "valid"), "{out}");
    // The consent-proof binary agrees on every case below.
    let mut changed = proof.clone();
    changed["events"][2]["provider_message_id"] = Value::from("forged");
    let mut dropped = proof.clone();
    if let Some(events) = dropped["events"].as_array_mut() {
        events.remove(3);
    }
    let first_type = format!("\"type\":{}", proof["events"][0]["type"]);
    let doubled = text.replacen(
        &first_type,
        &format!("\"type\":\"opted_in\",{first_type}"),
        1,
    );
    for (name, tampered, says) in [
        (
            "changed.json",
            changed.to_string(),
            "event 3: hash does not match its content",
        ),
        (
            "dropped.json",
            dropped.to_string(),
            "event 4: prev_hash does not link",
        ),
        ("doubled.json", doubled, "type appears more than once"),
    ] {
        let (code, out) = run(name, &tampered);
        assert_eq!(code, 1, "{name}: {out}");
        assert!(out.contains(says), "{name}: {out}");
        assert_eq!(verify(&file(name, &tampered), &[]).0, 1, "{name}");
    }
}

#[tokio::test]
async fn the_python_verifier_in_the_docs_checks_the_firms_chain() {
    let t = TestService::in_memory();
    let (text, phones) = scenarios::audit_bundle_text(&t).await;
    let (key_base64, _) = public_key(&t).await;
    let bundle: Value = serde_json::from_str(&text).expect("the bundle is JSON");
    let attested = bundle["proofs"]
        .as_array()
        .and_then(|proofs| proofs.iter().find(|p| p["phone"] == phones[2].as_str()))
        .cloned()
        .expect("the firm-attested number's proof");
    assert!(attested["firm_chain"]["events"].is_array(), "{attested}");
    let verifier = documented_python_verifier();
    let python = python();
    let run = |name: &str, proof: &Value| {
        let output = Command::new(&python)
            .arg(&verifier)
            .arg(file(name, &proof.to_string()))
            .arg(&key_base64)
            .output()
            .unwrap_or_else(|e| panic!("{} does not run ({e})", python.display()));
        let out = String::from_utf8_lossy(&output.stdout).to_string()
            + &String::from_utf8_lossy(&output.stderr);
        (output.status.code().unwrap_or(-1), out)
    };
    let (code, out) = run("attested.json", &attested);
    assert_eq!((code, out.trim()), (0, "valid"), "{out}");
    // Who turned double opt-in off, changed: the Python verifier and the binary both say so.
    let mut changed = attested.clone();
    let switch = changed["firm_chain"]["events"]
        .as_array()
        .and_then(|events| {
            events
                .iter()
                .position(|e| e["type"] == "double_opt_in_changed")
        })
        .expect("the switch is in the firm's chain");
    changed["firm_chain"]["events"][switch]["changed_by"] = Value::from("someone-else");
    let (code, out) = run("changed-firm-chain.json", &changed);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "the firm's chain: event {}: hash does not match its content",
            switch + 1
        )),
        "{out}"
    );
    let (code, out, _) = verify(&file("changed-firm-chain.json", &changed.to_string()), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("the firm's chain: event"), "{out}");
}
