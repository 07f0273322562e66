//! Proof documents: a number's whole paper trail at one firm, its hash chain (and the firm's
//! own chain when the consent rests on the firm's word), and an Ed25519 signature by the
//! service's proof key, in a form anyone can check with the public key alone; and the signed
//! manifest of a firm's audit bundle (the formats are described in `docs/proof-format.md`).
//!
//! Building and signing are here; verifying is the `consent-proof` crate's (re-exported here),
//! small enough for an outside auditor to read in one sitting, and the service, the command and
//! the tests share it.

mod bundle;
mod document;
mod firm_chain;
mod signer;

pub use bundle::*;
pub use consent_proof::bundle::{
    BUNDLE_FORMAT, BundleProblem, BundleVerification, MANIFEST_FORMAT, NotABundle, verify_bundle,
};
pub use consent_proof::keys::{ProofKeyError, parse_public_key, signing_input};
pub use consent_proof::strict::*;
pub use consent_proof::verify::*;
pub use consent_proof::{CANONICALIZATION, HASH_ALGORITHM, PROOF_FORMAT, SIGNATURE_ALGORITHM};
pub use document::*;
pub use firm_chain::*;
pub use signer::*;

#[cfg(test)]
mod tests {
    use super::*;

    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use chrono::Utc;

    use serde_json::Value;

    use crate::evidence::audit::AuditEvent;

    use crate::evidence::audit::AuditKind;
    use crate::evidence::chain;
    use crate::model::firm::Firm;
    use crate::model::phone::PhoneNumber;
    use crate::model::record::Delivery;
    use crate::model::record::{ConsentBasis, ConsentRecord, ConsentStatus};

    fn record(events: &mut [AuditEvent]) -> ConsentRecord {
        let now = Utc::now();
        let phone = PhoneNumber::parse("+14155550100").unwrap();
        let head = chain::seal("f1", phone.as_str(), None, events).unwrap();
        ConsentRecord {
            firm_id: "f1".into(),
            phone,
            status: ConsentStatus::OptedIn,
            basis: ConsentBasis::SmsReply,
            version: 3,
            created_at: now,
            status_changed_at: now,
            updated_at: now,
            opt_in_sms: Delivery::NotSent,
            opt_in_email: Delivery::NotSent,
            opt_out_confirmation_sent: false,
            recent_inbound_ids: Vec::new(),
            recent_sends: Default::default(),
            time_zone: None,
            audit_head: head,
            state: None,
            language: Default::default(),
            contact_ids: Vec::new(),
        }
    }

    fn firm() -> Firm {
        let now = Utc::now();
        Firm {
            firm_id: "f1".into(),
            name: "Hartwell & Pine".into(),
            sms_number: PhoneNumber::parse("+12025550100").unwrap(),
            support_email: "help@example.com".into(),
            support_phone: "1".into(),
            website: "https://example.com".into(),
            double_opt_in: true,
            double_opt_in_changed: None,
            time_zone: None,
            send_window: None,
            limits: Default::default(),
            templates: Default::default(),
            privacy_url: None,
            terms_url: None,
            require_consent_capture: false,
            created_at: now,
            updated_at: now,
            version: 1,
            audit_head: None,
        }
    }

    fn skipped(reason: &str) -> AuditEvent {
        AuditEvent::new(
            Utc::now(),
            AuditKind::EmailSkipped {
                reason: reason.into(),
            },
        )
    }

    fn signer() -> ProofSigner {
        ProofSigner::from_seed("t1", [3; 32]).unwrap()
    }

    fn signed_proof() -> Value {
        let mut events = vec![skipped("a"), skipped("b"), skipped("c")];
        let record = record(&mut events);
        let mut stray = vec![skipped("stray")];
        chain::seal_unchained(&mut stray).unwrap();
        let mut all = events;
        all.reverse();
        all.extend(stray);
        signer()
            .sign(build_proof(&firm(), &record, all, Utc::now()))
            .to_json()
    }

    #[test]
    fn a_built_proof_verifies_in_chain_order() {
        let proof = signed_proof();
        let result = verify(&proof, None).unwrap();
        assert!(result.is_valid(), "{:?}", result.problems);
        assert_eq!((result.chained, result.unchained), (3, 1));
        assert_eq!(result.key_id.as_deref(), Some("t1"));
        let reasons: Vec<&str> = proof["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["reason"].as_str().unwrap())
            .collect();
        assert_eq!(reasons, ["a", "b", "c"]);
        // Pinned to its own key: valid; to another: not.
        let own = parse_public_key(&signer().public_key().public_key).unwrap();
        assert!(verify(&proof, Some(&own)).unwrap().is_valid());
        let other = parse_public_key(&signer().public_key_hex()).unwrap();
        assert_eq!(own, other);
        let stranger = ProofSigner::from_seed("t2", [4; 32]).unwrap().public_key();
        let stranger = parse_public_key(&stranger.public_key).unwrap();
        let pinned = verify(&proof, Some(&stranger)).unwrap();
        assert!(
            pinned
                .problems
                .iter()
                .any(|p| matches!(p, Problem::KeyNotPinned { .. }))
        );
        assert!(pinned.problems.contains(&Problem::BadSignature));
    }

    #[test]
    fn a_broken_store_chain_is_shown_in_id_order_and_fails() {
        let mut events = vec![skipped("a"), skipped("b"), skipped("c")];
        let record = record(&mut events);
        events.remove(1);
        let proof = signer()
            .sign(build_proof(&firm(), &record, events, Utc::now()))
            .to_json();
        let result = verify(&proof, None).unwrap();
        assert!(
            result
                .problems
                .iter()
                .any(|p| matches!(p, Problem::Gap { position: 2, .. })),
            "{:?}",
            result.problems
        );
    }

    #[test]
    fn tampering_is_named() {
        let proof = signed_proof();
        let check = |mutate: &dyn Fn(&mut Value)| {
            let mut copy = proof.clone();
            mutate(&mut copy);
            verify(&copy, None)
                .unwrap()
                .problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        let edited = check(&|d| d["events"][1]["reason"] = "x".into());
        assert!(
            edited.contains(&format!(
                "event 2 ({}): hash does not match its content",
                proof["events"][1]["id"].as_str().unwrap()
            )),
            "{edited:?}"
        );
        assert!(
            edited
                .iter()
                .any(|p| p.starts_with("signature does not verify"))
        );
        let dropped = check(&|d| {
            d["events"].as_array_mut().unwrap().remove(1);
        });
        assert!(
            dropped
                .iter()
                .any(|p| p.starts_with("event missing between event 1")),
            "{dropped:?}"
        );
        let swapped = check(&|d| d["events"].as_array_mut().unwrap().swap(0, 2));
        assert!(
            swapped.iter().any(|p| p.contains("out of order")),
            "{swapped:?}"
        );
        let truncated = check(&|d| {
            d["events"].as_array_mut().unwrap().pop();
        });
        assert!(
            truncated.iter().any(|p| p.starts_with("the chain's head")),
            "{truncated:?}"
        );
        let stray = check(&|d| d["unchained_events"][0]["reason"] = "y".into());
        assert!(
            stray.iter().any(|p| p.starts_with("unchained event 1")),
            "{stray:?}"
        );
        let unsigned = check(&|d| {
            d.as_object_mut().unwrap().remove("signature");
        });
        assert_eq!(unsigned, ["the document is not signed"]);
    }

    #[test]
    fn not_a_proof() {
        assert_eq!(verify(&Value::Null, None), Err(NotAProof::NotAnObject));
        assert!(matches!(
            verify(&serde_json::json!({"format": "other"}), None),
            Err(NotAProof::UnknownFormat(f)) if f == "other"
        ));
    }

    #[test]
    fn key_specs() {
        let seed = BASE64.encode([9u8; 32]);
        let named = ProofSigner::from_spec(&format!("k7:{seed}")).unwrap();
        assert_eq!(named.key_id(), "k7");
        let bare = ProofSigner::from_spec(&seed).unwrap();
        assert!(bare.key_id().starts_with("ed25519-") && bare.key_id().len() == 24);
        assert_eq!(named.public_key_hex(), bare.public_key_hex());
        let hex = ProofSigner::from_spec(&"09".repeat(32)).unwrap();
        assert_eq!(hex.public_key_hex(), bare.public_key_hex());
        assert_eq!(hex.key_id(), bare.key_id());
        assert_eq!(
            ProofSigner::from_spec("k7:c2hvcnQ=").err(),
            Some(ProofKeyError::BadSeed)
        );
        assert_eq!(
            ProofSigner::from_spec(&format!("bad id:{seed}")).err(),
            Some(ProofKeyError::BadKeyId)
        );
        assert!(!format!("{named:?}").contains(&seed));
        assert_eq!(parse_public_key("zz"), Err(ProofKeyError::BadPublicKey));
    }
}
