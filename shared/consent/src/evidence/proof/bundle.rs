//! The audit bundle's manifest (`consent-audit-manifest/v1`): the firm, when the bundle was
//! made, each number in it with its status, chain head and event count, and the head of the
//! firm's own chain, signed with the proof key over its canonical form. It is what makes a
//! bundle whole: `consent_proof::bundle` checks that it lists exactly the bundle's proofs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::MANIFEST_FORMAT;
use super::document::{ProofDocument, ProofPublicKey, json_of};
use super::signer::ProofSigner;
use crate::model::record::ConsentStatus;

/// One number of a bundle, as its proof has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The number, E.164.
    pub phone: String,
    /// Its status in its proof.
    pub status: ConsentStatus,
    /// Its proof's chain head (`None`: no chained event).
    pub chain_head: Option<String>,
    /// Its proof's chained events.
    pub event_count: usize,
}

impl ManifestEntry {
    /// The entry of the number `proof` is about.
    pub fn of(proof: &ProofDocument) -> Self {
        Self {
            phone: proof.phone.clone(),
            status: proof.consent.status,
            chain_head: proof.chain.head.clone(),
            event_count: proof.chain.length,
        }
    }
}

/// The signed list of what a firm's audit bundle holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleManifest {
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    /// The firm whose numbers the bundle proves.
    pub firm_id: String,
    /// When the bundle was begun.
    pub generated_at: DateTime<Utc>,
    /// The status the bundle was asked for (`None`: every status).
    pub status: Option<ConsentStatus>,
    /// Every number of the bundle, in the order of its proofs.
    pub numbers: Vec<ManifestEntry>,
    /// The head of the firm's own chain when the bundle was begun.
    pub firm_chain_head: Option<String>,
    /// The key that signed the manifest (the proof key).
    pub signer: Option<ProofPublicKey>,
    /// Ed25519 signature, base64, over the canonical JSON of the manifest without this member.
    pub signature: Option<String>,
}

impl BundleManifest {
    /// An unsigned manifest of `firm_id`'s bundle.
    pub fn new(
        firm_id: &str,
        generated_at: DateTime<Utc>,
        status: Option<ConsentStatus>,
        numbers: Vec<ManifestEntry>,
        firm_chain_head: Option<String>,
    ) -> Self {
        Self {
            format: MANIFEST_FORMAT.to_string(),
            firm_id: firm_id.to_string(),
            generated_at,
            status,
            numbers,
            firm_chain_head,
            signer: None,
            signature: None,
        }
    }

    /// The manifest as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        json_of(self)
    }
}

impl ProofSigner {
    /// Signs `manifest` as a proof document is signed: its signer set to this key, its
    /// signature over the canonical JSON of the manifest without `signature`.
    pub fn sign_manifest(&self, mut manifest: BundleManifest) -> BundleManifest {
        manifest.signer = Some(self.public_key());
        manifest.signature = None;
        manifest.signature = Some(self.signature_of(&json_of(&manifest)));
        manifest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::audit::{AuditEvent, AuditKind};
    use crate::evidence::chain;
    use crate::evidence::proof::{
        BUNDLE_FORMAT, BundleProblem, Problem, build_proof, parse_public_key, verify_bundle,
    };
    use crate::model::firm::Firm;
    use crate::model::record::ConsentRecord;
    use serde_json::{Value, json};

    fn signer() -> ProofSigner {
        ProofSigner::from_seed("t1", [3; 32]).unwrap()
    }

    fn proof_of(phone: &str) -> ProofDocument {
        let now = Utc::now();
        let firm: Firm = serde_json::from_value(json!({
            "firm_id": "f1", "name": "Hartwell & Pine", "sms_number": "+12025550100",
            "support_email": "help@example.com", "support_phone": "1",
            "website": "https://example.com", "double_opt_in": true,
            "double_opt_in_changed": null, "time_zone": null,
            "created_at": now, "updated_at": now, "version": 1,
        }))
        .unwrap();
        let mut events = vec![AuditEvent::new(
            now,
            AuditKind::EmailSkipped {
                reason: "none".into(),
            },
        )];
        let head = chain::seal("f1", phone, None, &mut events).unwrap();
        let record: ConsentRecord = serde_json::from_value(json!({
            "firm_id": "f1", "phone": phone, "status": "pending", "basis": "opt_in_requested",
            "version": 1, "created_at": now, "status_changed_at": now, "updated_at": now,
            "audit_head": head,
        }))
        .unwrap();
        signer().sign(build_proof(&firm, &record, events, now))
    }

    fn bundle(proofs: &[ProofDocument], by: &ProofSigner) -> Value {
        let entries = proofs.iter().map(ManifestEntry::of).collect();
        let manifest = BundleManifest::new("f1", Utc::now(), None, entries, None);
        json!({
            "format": BUNDLE_FORMAT,
            "proofs": proofs.iter().map(ProofDocument::to_json).collect::<Vec<_>>(),
            "manifest": by.sign_manifest(manifest).to_json(),
        })
    }

    #[test]
    fn a_signed_manifest_lists_its_proofs_and_anything_else_is_named() {
        let proofs = [proof_of("+14155550100"), proof_of("+14155550101")];
        let whole = bundle(&proofs, &signer());
        let key = parse_public_key(&signer().public_key().public_key).unwrap();
        let result = verify_bundle(&whole, Some(&key)).unwrap();
        assert!(result.is_valid(), "{:?}", result.problems);
        assert_eq!((result.proofs, result.listed), (2, 2));
        assert_eq!(whole["manifest"]["format"], MANIFEST_FORMAT);
        assert_eq!(whole["manifest"]["numbers"][1]["event_count"], 1);

        let problems = |bundle: &Value| verify_bundle(bundle, Some(&key)).unwrap().problems;
        let mut dropped = whole.clone();
        dropped["proofs"].as_array_mut().unwrap().pop();
        assert_eq!(
            problems(&dropped),
            [BundleProblem::Missing {
                phone: "+14155550101".into()
            }]
        );
        let mut tampered = whole.clone();
        tampered["proofs"][0]["events"][0]["reason"] = json!("forged");
        let found = problems(&tampered);
        assert!(
            found.iter().any(|p| matches!(
                p,
                BundleProblem::Proof {
                    position: 1,
                    problem: Problem::HashMismatch { .. },
                    ..
                }
            )),
            "{found:?}"
        );
        let other_key = bundle(&proofs, &ProofSigner::from_seed("t2", [4; 32]).unwrap());
        let found = problems(&other_key);
        assert!(
            found
                .iter()
                .any(|p| matches!(p, BundleProblem::Manifest(Problem::KeyNotPinned { .. }))),
            "{found:?}"
        );
        let mut unlisted = whole.clone();
        unlisted["proofs"]
            .as_array_mut()
            .unwrap()
            .push(proof_of("+14155550102").to_json());
        assert!(
            problems(&unlisted)
                .iter()
                .any(|p| matches!(p, BundleProblem::Unlisted { position: 3, .. }))
        );
        // A proof swapped for another of the same number made at another time: its head or
        // count no longer matches; here the whole trail differs.
        let mut swapped = whole.clone();
        swapped["proofs"][0] = proof_of("+14155550100").to_json();
        assert!(
            problems(&swapped).iter().any(|p| matches!(
                p,
                BundleProblem::Mismatch {
                    what: "chain head",
                    ..
                }
            )),
            "{:?}",
            problems(&swapped)
        );
        let mut headless = whole.clone();
        headless.as_object_mut().unwrap().remove("manifest");
        assert_eq!(problems(&headless), [BundleProblem::NoManifest]);
    }
}
