//! Audit bundles (`consent-audit-bundle/v1`): a firm's proofs, every one of its numbers (or those
//! of one status), and a manifest signed with the proof key that lists each number with its
//! status, chain head and event count, and the head of the firm's own chain. The manifest is
//! what makes the bundle whole: a proof dropped, added, swapped for an older one, or a bundle cut
//! short, no longer matches it.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::keys::parse_public_key;
use crate::problem::{Problem, shown};
use crate::verify::{NotAProof, finish, verify};

/// The `format` of a bundle of this version.
pub const BUNDLE_FORMAT: &str = "consent-audit-bundle/v1";
/// The `format` of its manifest, the signed part (so a manifest's signature can never be taken
/// for a proof document's, though the same key signs both).
pub const MANIFEST_FORMAT: &str = "consent-audit-manifest/v1";

/// The input is not a bundle at all (as opposed to a bundle that does not verify).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotABundle {
    /// Not a JSON object.
    #[error("the bundle is not a JSON object")]
    NotAnObject,
    /// No `format`, or another one.
    #[error("the document is not a {BUNDLE_FORMAT} bundle (format: {0})")]
    UnknownFormat(String),
}

/// Something that makes a bundle invalid, saying what and where. Proofs count from 1 in bundle
/// order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleProblem {
    /// Something two JSON parsers could read differently, anywhere in the bundle.
    #[error("{0}")]
    Ambiguous(Problem),
    /// The text stops before the bundle ends (a download cut short: the manifest comes last).
    #[error("the bundle is truncated: its text ends before the bundle does ({0})")]
    Truncated(String),
    /// No manifest, or not one of this format.
    #[error("the bundle has no {MANIFEST_FORMAT} manifest: it is cut short, or not a whole bundle")]
    NoManifest,
    /// A member of the manifest is missing or has the wrong type.
    #[error("the manifest: {0}")]
    ManifestMalformed(String),
    /// The manifest's signature or signer.
    #[error("the manifest: {0}")]
    Manifest(Problem),
    /// An entry of `proofs` is not a proof document.
    #[error("proof {position}: {reason}")]
    NotAProof {
        /// Position in `proofs`.
        position: usize,
        /// What makes it no proof document.
        reason: NotAProof,
    },
    /// A proof does not verify.
    #[error("proof {position} ({phone}): {problem}")]
    Proof {
        /// Position in `proofs`.
        position: usize,
        /// The number the proof at that position is about, E.164.
        phone: String,
        /// What is wrong with it.
        problem: Problem,
    },
    /// A proof of another firm's number.
    #[error("proof {position} ({phone}) is of firm {firm_id}, not of the manifest's firm")]
    OtherFirm {
        /// Position in `proofs`.
        position: usize,
        /// The number the proof at that position is about, E.164.
        phone: String,
        /// The firm it names.
        firm_id: String,
    },
    /// A number the manifest lists has no proof in the bundle.
    #[error("{phone} is listed in the manifest but the bundle has no proof of it")]
    Missing {
        /// The number in question, E.164.
        phone: String,
    },
    /// A proof of a number the manifest does not list.
    #[error("proof {position} ({phone}) is not listed in the manifest")]
    Unlisted {
        /// Position in `proofs`.
        position: usize,
        /// The number the proof at that position is about, E.164.
        phone: String,
    },
    /// A number listed, or proved, twice.
    #[error("{phone} appears more than once in the {place}")]
    Repeated {
        /// The number in question, E.164.
        phone: String,
        /// `manifest` or `proofs`.
        place: &'static str,
    },
    /// A proof says otherwise than the manifest's entry for its number.
    #[error("{phone}: the manifest's {what} is {manifest} but its proof's is {proof}")]
    Mismatch {
        /// The number in question, E.164.
        phone: String,
        /// `status`, `chain head` or `event count`.
        what: &'static str,
        /// The manifest's value.
        manifest: String,
        /// The proof's value.
        proof: String,
    },
    /// A proof's status is not the one the manifest says the bundle was asked for.
    #[error("proof {position} ({phone}) has status {status}, but the bundle holds only {filter}")]
    OutsideFilter {
        /// Position in `proofs`.
        position: usize,
        /// The number the proof at that position is about, E.164.
        phone: String,
        /// The status that proof's record has.
        status: String,
        /// The manifest's `status`.
        filter: String,
    },
    /// A proof carries another head of the firm's chain than the manifest.
    #[error(
        "proof {position} ({phone}): its firm chain ends at {proof}, not at the manifest's firm_chain_head {manifest}"
    )]
    FirmChainMismatch {
        /// Position in `proofs`.
        position: usize,
        /// The number the proof at that position is about, E.164.
        phone: String,
        /// The head the proof's `firm_chain` has.
        proof: String,
        /// The manifest's `firm_chain_head`.
        manifest: String,
    },
}

/// What verifying a bundle found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleVerification {
    /// What makes it invalid (empty: valid).
    pub problems: Vec<BundleProblem>,
    /// What a reader should know without it being invalid.
    pub warnings: Vec<String>,
    /// The manifest signer's key id, as the manifest names it.
    pub key_id: Option<String>,
    /// The key the manifest and every proof were checked with, base64.
    pub public_key: Option<String>,
    /// Proofs in the bundle.
    pub proofs: usize,
    /// Numbers the manifest lists.
    pub listed: usize,
}

impl BundleVerification {
    /// Whether the bundle is valid: the manifest's signature, every proof, and the manifest
    /// matching the proofs one for one.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }

    /// The verification of text that ends before the bundle does.
    pub fn truncated(reason: String) -> Self {
        Self {
            problems: vec![BundleProblem::Truncated(reason)],
            warnings: Vec::new(),
            key_id: None,
            public_key: None,
            proofs: 0,
            listed: 0,
        }
    }
}

/// Verifies a bundle with the public key its manifest names, or with `pinned` (which it must
/// name): the manifest's signature, every proof (each signed by the same key), and that the
/// manifest lists exactly the bundle's proofs, each with its status, chain head and count.
pub fn verify_bundle(
    bundle: &Value,
    pinned: Option<&[u8; 32]>,
) -> Result<BundleVerification, NotABundle> {
    let Value::Object(members) = bundle else {
        return Err(NotABundle::NotAnObject);
    };
    match members.get("format").and_then(Value::as_str) {
        Some(BUNDLE_FORMAT) => {}
        other => {
            return Err(NotABundle::UnknownFormat(
                other.map_or_else(|| "none".to_string(), shown),
            ));
        }
    }
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let proofs: &[Value] = match bundle.get("proofs") {
        Some(Value::Array(proofs)) => proofs,
        _ => {
            problems.push(BundleProblem::ManifestMalformed(
                "the bundle's proofs are missing or not a list".to_string(),
            ));
            &[]
        }
    };
    let manifest = bundle
        .get("manifest")
        .filter(|m| m.get("format").and_then(Value::as_str) == Some(MANIFEST_FORMAT));
    let Some(manifest) = manifest else {
        problems.push(BundleProblem::NoManifest);
        return Ok(BundleVerification {
            problems,
            warnings,
            key_id: None,
            public_key: None,
            proofs: proofs.len(),
            listed: 0,
        });
    };

    // The manifest's signature, with the pinned key or the one it names; every proof must be
    // signed by that same key.
    let signed = finish(Vec::new(), Vec::new(), manifest, pinned, 0, 0);
    problems.extend(signed.problems.into_iter().map(BundleProblem::Manifest));
    let key = pinned.copied().or_else(|| {
        manifest
            .get("signer")
            .and_then(|s| s.get("public_key"))
            .and_then(Value::as_str)
            .and_then(|k| parse_public_key(k).ok())
    });

    let firm_id = manifest.get("firm_id").and_then(Value::as_str);
    if firm_id.is_none() {
        problems.push(BundleProblem::ManifestMalformed(
            "firm_id is missing or not a string".to_string(),
        ));
    }
    let filter = manifest.get("status").and_then(Value::as_str);
    let firm_chain_head = manifest.get("firm_chain_head").cloned().unwrap_or_default();
    let entries: &[Value] = match manifest.get("numbers") {
        Some(Value::Array(entries)) => entries,
        _ => {
            problems.push(BundleProblem::ManifestMalformed(
                "numbers is missing or not a list".to_string(),
            ));
            &[]
        }
    };
    let mut listed: HashMap<&str, &Value> = HashMap::new();
    for entry in entries {
        let Some(phone) = entry.get("phone").and_then(Value::as_str) else {
            problems.push(BundleProblem::ManifestMalformed(
                "an entry of numbers has no phone".to_string(),
            ));
            continue;
        };
        if listed.insert(phone, entry).is_some() {
            problems.push(BundleProblem::Repeated {
                phone: shown(phone),
                place: "manifest",
            });
        }
    }

    let mut proved = HashSet::new();
    for (i, proof) in proofs.iter().enumerate() {
        let position = i + 1;
        let phone_text = proof.get("phone").and_then(Value::as_str).unwrap_or("");
        let phone = if phone_text.is_empty() {
            "no phone".to_string()
        } else {
            shown(phone_text)
        };
        match verify(proof, key.as_ref()) {
            Err(reason) => {
                problems.push(BundleProblem::NotAProof { position, reason });
                continue;
            }
            Ok(verification) => {
                problems.extend(verification.problems.into_iter().map(|problem| {
                    BundleProblem::Proof {
                        position,
                        phone: phone.clone(),
                        problem,
                    }
                }));
                warnings.extend(
                    verification
                        .warnings
                        .into_iter()
                        .map(|w| format!("proof {position} ({phone}): {w}")),
                );
            }
        }
        if !proved.insert(phone_text) {
            problems.push(BundleProblem::Repeated {
                phone: phone.clone(),
                place: "proofs",
            });
        }
        let proof_firm = proof
            .get("firm")
            .and_then(|f| f.get("firm_id"))
            .and_then(Value::as_str);
        if let (Some(expected), Some(found)) = (firm_id, proof_firm)
            && expected != found
        {
            problems.push(BundleProblem::OtherFirm {
                position,
                phone: phone.clone(),
                firm_id: shown(found),
            });
        }
        let status = proof.get("consent").and_then(|c| c.get("status"));
        if let Some(filter) = filter
            && status.and_then(Value::as_str) != Some(filter)
        {
            problems.push(BundleProblem::OutsideFilter {
                position,
                phone: phone.clone(),
                status: text_of(status),
                filter: shown(filter),
            });
        }
        if let Some(chain) = proof.get("firm_chain").filter(|c| !c.is_null()) {
            let head = chain.get("head").cloned().unwrap_or_default();
            if head != firm_chain_head {
                problems.push(BundleProblem::FirmChainMismatch {
                    position,
                    phone: phone.clone(),
                    proof: text_of(Some(&head)),
                    manifest: text_of(Some(&firm_chain_head)),
                });
            }
        }
        let Some(entry) = listed.get(phone_text) else {
            problems.push(BundleProblem::Unlisted { position, phone });
            continue;
        };
        let chain = proof.get("chain");
        for (what, in_manifest, in_proof) in [
            ("status", entry.get("status"), status),
            (
                "chain head",
                entry.get("chain_head"),
                chain.and_then(|c| c.get("head")),
            ),
            (
                "event count",
                entry.get("event_count"),
                chain.and_then(|c| c.get("length")),
            ),
        ] {
            // An absent head and a null one are the same: a trail without events.
            let (in_manifest, in_proof) = (
                in_manifest.unwrap_or(&Value::Null),
                in_proof.unwrap_or(&Value::Null),
            );
            if in_manifest != in_proof {
                problems.push(BundleProblem::Mismatch {
                    phone: phone.clone(),
                    what,
                    manifest: text_of(Some(in_manifest)),
                    proof: text_of(Some(in_proof)),
                });
            }
        }
    }
    for entry in entries {
        if let Some(phone) = entry.get("phone").and_then(Value::as_str)
            && !proved.contains(phone)
        {
            problems.push(BundleProblem::Missing {
                phone: shown(phone),
            });
        }
    }
    Ok(BundleVerification {
        problems,
        warnings,
        key_id: signed.key_id,
        public_key: signed.public_key,
        proofs: proofs.len(),
        listed: entries.len(),
    })
}

/// A value of the bundle, safe to print.
fn text_of(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "none".to_string(),
        Some(Value::String(text)) => shown(text),
        Some(other) => shown(&other.to_string()),
    }
}
