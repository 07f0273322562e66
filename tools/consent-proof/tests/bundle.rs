//! `consent-proof verify-bundle` on a real audit bundle (four numbers, one of them opted in on
//! the firm's word): the genuine bundle verifies (exit 0); a bundle cut short, a manifest signed
//! by another key, a changed proof, a number left out, a member named twice are each refused
//! with the reason (exit 1); input that is no bundle at all exits 2.

use std::path::PathBuf;

use consent::evidence::proof::{BundleManifest, ProofSigner};
use consent_tests::{TestService, scenarios};
use serde_json::Value;

mod common;

use common::file;

/// Runs `consent-proof verify-bundle FILE [ARGS]`: exit status, stdout, stderr.
fn verify_bundle(path: &PathBuf, args: &[&str]) -> (i32, String, String) {
    common::run("verify-bundle", path, args)
}

/// A genuine bundle from the in-memory service, its numbers, and the service's public key
/// (base64, hex).
async fn genuine() -> (String, [String; 4], String, String) {
    let t = TestService::in_memory();
    let (text, phones) = scenarios::audit_bundle_text(&t).await;
    let (_, key) = t.call(http::Method::GET, "/v1/proof-key", None).await;
    let text_of = |name: &str| key[name].as_str().unwrap_or_default().to_string();
    (
        text,
        phones,
        text_of("public_key"),
        text_of("public_key_hex"),
    )
}

fn parsed(text: &str) -> Value {
    serde_json::from_str(text).expect("the bundle is JSON")
}

#[tokio::test]
async fn a_genuine_bundle_verifies_and_every_kind_of_tampering_is_named() {
    let (text, phones, key, key_hex) = genuine().await;
    let path = file("genuine.json", &text);
    for pinned in [&key, &key_hex] {
        let (code, out, err) = verify_bundle(&path, &["--public-key", pinned]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.starts_with("VALID: "), "{out}");
        assert!(out.contains("4 proofs, 4 listed"), "{out}");
        assert!(out.contains("key test-proof-1"), "{out}");
    }
    let (code, out, err) = verify_bundle(&path, &[]);
    assert_eq!(code, 0, "without a pinned key, the manifest's: {out}{err}");
    let pinned = ["--public-key", key.as_str()];
    let bundle = parsed(&text);

    // Cut short, as a download can be: the manifest (last) is missing.
    let cut = file("cut.json", &text[..text.len() * 3 / 5]);
    let (code, out, err) = verify_bundle(&cut, &pinned);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("the bundle is truncated"), "{out}");

    // The manifest re-signed by another key.
    let manifest: BundleManifest =
        serde_json::from_value(bundle["manifest"].clone()).expect("a manifest");
    let other = ProofSigner::from_seed("other-key", [1; 32]).expect("a key");
    let mut foreign = bundle.clone();
    foreign["manifest"] = other.sign_manifest(manifest).to_json();
    let (code, out, _) = verify_bundle(&file("foreign.json", &foreign.to_string()), &pinned);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("the manifest: the document is signed by key other-key"),
        "{out}"
    );

    // A proof changed: the event's hash no longer matches.
    let mut tampered = bundle.clone();
    tampered["proofs"][1]["events"][0]["source"] = Value::from("forged");
    let (code, out, _) = verify_bundle(&file("tampered.json", &tampered.to_string()), &pinned);
    assert_eq!(code, 1, "{out}");
    let phone = bundle["proofs"][1]["phone"].as_str().unwrap_or_default();
    assert!(
        out.contains(&format!("proof 2 ({phone}): event 1 (")),
        "{out}"
    );
    assert!(out.contains("hash does not match its content"), "{out}");

    // A number left out, and a number added that the manifest does not list.
    let mut missing = bundle.clone();
    if let Some(proofs) = missing["proofs"].as_array_mut() {
        proofs.retain(|p| p["phone"] != phones[2].as_str());
    }
    let (code, out, _) = verify_bundle(&file("missing.json", &missing.to_string()), &pinned);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "{} is listed in the manifest but the bundle has no proof of it",
            phones[2]
        )),
        "{out}"
    );
    let mut added = bundle.clone();
    if let Some(proofs) = added["proofs"].as_array_mut()
        && let Some(first) = proofs.first().cloned()
    {
        proofs.push(first);
    }
    let (code, out, _) = verify_bundle(&file("added.json", &added.to_string()), &pinned);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("appears more than once in the proofs"),
        "{out}"
    );

    // A member named twice, which parsers read differently.
    let doubled = text.replacen(
        "\"format\":\"consent-audit-bundle/v1\"",
        "\"format\":\"consent-audit-bundle/v1\",\"format\":\"consent-audit-bundle/v1\"",
        1,
    );
    let (code, out, _) = verify_bundle(&file("doubled.json", &doubled), &pinned);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("$.format appears more than once"), "{out}");
}

#[test]
fn input_that_is_no_bundle_exits_2_and_never_panics() {
    for (name, contents, says) in [
        ("garbage.json", "{not json", "is not JSON"),
        ("empty.json", "", "is not JSON"),
        ("list.json", "[]", "not a JSON object"),
        (
            "proof.json",
            r#"{"format":"consent-proof/v1"}"#,
            "not a consent-audit-bundle/v1",
        ),
    ] {
        let (code, out, err) = verify_bundle(&file(name, contents), &[]);
        assert_eq!(code, 2, "{name}: {out}{err}");
        assert!(err.contains(says), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
    let (code, _, err) = verify_bundle(&PathBuf::from("/nonexistent/bundle.json"), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
    let (code, _, err) = verify_bundle(&file("any.json", "{}"), &["--public-key", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("--public-key"), "{err}");
    // Structurally odd bundles are invalid (exit 1), not a crash.
    for odd in [
        r#"{"format":"consent-audit-bundle/v1"}"#,
        r#"{"format":"consent-audit-bundle/v1","proofs":7,"manifest":[]}"#,
        r#"{"format":"consent-audit-bundle/v1","proofs":[1,{"format":"consent-proof/v1"}],"manifest":{"format":"consent-audit-manifest/v1","numbers":[{"phone":3},{}]}}"#,
    ] {
        let (code, out, err) = verify_bundle(&file("odd.json", odd), &[]);
        assert_eq!(code, 1, "{odd}: {out}{err}");
        assert!(out.starts_with("INVALID: "), "{out}");
    }
}
