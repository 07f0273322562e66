//! `consent-proof verify`: checks a consent proof document (format `consent-proof/v1`,
//! docs/proof-format.md) with nothing but the public key: the one reading of its JSON
//! ([`strict`]), every event's hash and every link of the chain ([`chain`], [`canonical`]), its
//! head, and the Ed25519 signature ([`keys`], [`verify`]); the firm's own chain a firm-attested
//! number's proof carries ([`firm_chain`]); and `consent-proof verify-bundle`, a firm's audit
//! bundle of proofs under one signed manifest ([`bundle`]). It depends on serde_json, sha2,
//! ed25519 and base64 only; the service uses these same checks.

pub mod bundle;
pub mod canonical;
pub mod chain;
pub mod commitment;
pub mod disclosure;
pub mod firm_chain;
pub mod keys;
mod problem;
pub mod strict;
mod trail;
pub mod verify;

/// The `format` of a proof document of this version.
pub const PROOF_FORMAT: &str = "consent-proof/v1";
/// The signature algorithm.
pub const SIGNATURE_ALGORITHM: &str = "Ed25519";
/// The hash of the chain.
pub const HASH_ALGORITHM: &str = "SHA-256";
/// The canonical form that hashes and the signature are computed over.
pub const CANONICALIZATION: &str = "RFC 8785 (JCS)";

use std::io::Read;
use std::path::Path;

use crate::bundle::{BundleProblem, BundleVerification, NotABundle, verify_bundle};
use crate::keys::parse_public_key;
use crate::strict::ambiguities;
use crate::verify::{NotAProof, Verification, verify};
use serde_json::Value;

/// The input cannot be checked at all (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file that could not be used.
        path: String,
        /// The I/O error underneath.
        #[source]
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("{path} is not JSON: {source}")]
    NotJson {
        /// The file that could not be used.
        path: String,
        /// The parser's message (line and column).
        #[source]
        source: serde_json::Error,
    },
    /// The JSON is not a proof document.
    #[error("{path}: {source}")]
    NotAProof {
        /// The file that could not be used.
        path: String,
        /// What makes it not a proof document.
        #[source]
        source: NotAProof,
    },
    /// The JSON is not an audit bundle.
    #[error("{path}: {source}")]
    NotABundle {
        /// The file that could not be used.
        path: String,
        /// What makes it not a bundle.
        #[source]
        source: NotABundle,
    },
    /// The pinned public key is not one.
    #[error("--public-key: {0}")]
    BadPublicKey(#[source] keys::ProofKeyError),
    /// The salt of a disclosed text is not one.
    #[error("--salt: a salt is 64 hex digits (32 bytes)")]
    BadSalt,
}

/// What was checked, and what was found.
#[derive(Debug)]
pub struct Report {
    /// The document.
    pub document: Value,
    /// The verifier's findings.
    pub verification: Verification,
}

/// The pinned key, if given, and the text of `path` (`-`: standard input).
fn read_input(
    path: &Path,
    public_key: Option<&str>,
) -> Result<(Option<[u8; 32]>, String), InputError> {
    let pinned = public_key
        .map(parse_public_key)
        .transpose()
        .map_err(InputError::BadPublicKey)?;
    let shown = path.display().to_string();
    let mut text = String::new();
    let read = if shown == "-" {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    read.map_err(|source| InputError::Read {
        path: shown,
        source,
    })?;
    Ok((pinned, text))
}

/// Reads `path` (`-`: standard input) and verifies it, with `public_key` pinned if given.
pub fn verify_file(path: &Path, public_key: Option<&str>) -> Result<Report, InputError> {
    let shown = path.display().to_string();
    let (pinned, text) = read_input(path, public_key)?;
    let document: Value = serde_json::from_str(&text).map_err(|source| InputError::NotJson {
        path: shown.clone(),
        source,
    })?;
    let mut verification =
        verify(&document, pinned.as_ref()).map_err(|source| InputError::NotAProof {
            path: shown.clone(),
            source,
        })?;
    // What two parsers could read differently invalidates the proof, whatever the one reading
    // above found: it parsed the text, so this reading of the same text cannot fail.
    let ambiguous = ambiguities(&text).map_err(|source| InputError::NotJson {
        path: shown,
        source,
    })?;
    verification.problems.splice(0..0, ambiguous);
    Ok(Report {
        document,
        verification,
    })
}

/// A proof checked against a text the firm discloses: the proof's report, and where the
/// text's commitment is or why it is not there.
#[derive(Debug)]
pub struct DisclosureReport {
    /// The proof's verification.
    pub report: Report,
    /// The commitment the text answers, or why none does.
    pub outcome: Result<disclosure::Disclosed, disclosure::NotDisclosed>,
}

impl DisclosureReport {
    /// Whether the proof is valid and commits to the text.
    pub fn is_valid(&self) -> bool {
        self.report.verification.is_valid() && self.outcome.is_ok()
    }
}

/// Reads the proof at `path` and verifies it as [`verify_file`] does, then checks that it
/// commits to `text` under `salt` (64 hex digits), in the event `event_id` if given.
pub fn verify_disclosure_file(
    path: &Path,
    public_key: Option<&str>,
    text: &str,
    salt: &str,
    event_id: Option<&str>,
) -> Result<DisclosureReport, InputError> {
    let salt = commitment::parse_salt(salt).ok_or(InputError::BadSalt)?;
    let report = verify_file(path, public_key)?;
    let disclosure = disclosure::Disclosure {
        text: text.to_string(),
        salt,
        event_id: event_id.map(str::to_string),
    };
    let outcome = disclosure::check(&report.document, &disclosure);
    Ok(DisclosureReport { report, outcome })
}

/// The disclosure report in words, for a person.
pub fn describe_disclosure(path: &str, report: &DisclosureReport) -> String {
    let mut out = describe(path, &report.report);
    match &report.outcome {
        Ok(found) if report.report.verification.is_valid() => out.push_str(&format!(
            "DISCLOSED: the text matches the {} commitment of {}\n",
            found.member, found.event
        )),
        Ok(found) => out.push_str(&format!(
            "NOT DISCLOSED: the text matches the {} commitment of {}, but the proof does not \
             verify, so the commitment proves nothing\n",
            found.member, found.event
        )),
        Err(reason) => out.push_str(&format!("NOT DISCLOSED: {reason}\n")),
    }
    out
}

/// What was checked of a bundle, and what was found.
#[derive(Debug)]
pub struct BundleReport {
    /// The bundle (`None` when its text ends before the bundle does).
    pub bundle: Option<Value>,
    /// The verifier's findings.
    pub verification: BundleVerification,
}

/// Reads the audit bundle at `path` (`-`: standard input) and verifies it, with `public_key`
/// pinned if given. Text that stops inside a bundle (a download cut short) is an invalid bundle,
/// not unreadable input.
pub fn verify_bundle_file(
    path: &Path,
    public_key: Option<&str>,
) -> Result<BundleReport, InputError> {
    let shown = path.display().to_string();
    let (pinned, text) = read_input(path, public_key)?;
    let bundle: Value = match serde_json::from_str(&text) {
        Ok(bundle) => bundle,
        Err(source) if source.is_eof() && starts_like_a_bundle(&text) => {
            return Ok(BundleReport {
                bundle: None,
                verification: BundleVerification::truncated(source.to_string()),
            });
        }
        Err(source) => {
            return Err(InputError::NotJson {
                path: shown,
                source,
            });
        }
    };
    let mut verification =
        verify_bundle(&bundle, pinned.as_ref()).map_err(|source| InputError::NotABundle {
            path: shown.clone(),
            source,
        })?;
    // As for a proof: what two parsers could read differently, anywhere in the bundle.
    let ambiguous = ambiguities(&text).map_err(|source| InputError::NotJson {
        path: shown,
        source,
    })?;
    verification
        .problems
        .splice(0..0, ambiguous.into_iter().map(BundleProblem::Ambiguous));
    Ok(BundleReport {
        bundle: Some(bundle),
        verification,
    })
}

/// Whether `text` opens as a bundle does (the service writes `format` first).
fn starts_like_a_bundle(text: &str) -> bool {
    let opening: String = text.trim_start().chars().take(120).collect();
    opening.starts_with('{') && opening.contains(bundle::BUNDLE_FORMAT)
}

/// The bundle report in words, for a person.
pub fn describe_bundle(path: &str, report: &BundleReport) -> String {
    let v = &report.verification;
    let manifest = report.bundle.as_ref().map(|b| &b["manifest"]);
    let text = |value: Option<&Value>| -> String {
        value
            .and_then(Value::as_str)
            .map_or_else(|| "?".to_string(), problem::shown)
    };
    let mut out = String::new();
    if v.is_valid() {
        out.push_str(&format!("VALID: {path}\n"));
    } else {
        out.push_str(&format!(
            "INVALID: {path}: {} problem{}\n",
            v.problems.len(),
            if v.problems.len() == 1 { "" } else { "s" }
        ));
        for problem in &v.problems {
            out.push_str(&format!("  - {problem}\n"));
        }
    }
    if let Some(manifest) = manifest {
        out.push_str(&format!(
            "  firm {}: {} proof{}, {} listed in the manifest (status: {}); generated at {}\n",
            text(manifest.get("firm_id")),
            v.proofs,
            if v.proofs == 1 { "" } else { "s" },
            v.listed,
            manifest
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("every status"),
            text(manifest.get("generated_at")),
        ));
        out.push_str(&format!(
            "  the firm's chain ends at {}\n",
            manifest
                .get("firm_chain_head")
                .and_then(Value::as_str)
                .unwrap_or("(no hashed event)"),
        ));
        out.push_str(&format!(
            "  signer: key {}, checked with public key {}\n",
            v.key_id.as_deref().unwrap_or("?"),
            v.public_key.as_deref().unwrap_or("(none)"),
        ));
    }
    for warning in &v.warnings {
        out.push_str(&format!("  note: {warning}\n"));
    }
    out
}

/// The report in words, for a person.
pub fn describe(path: &str, report: &Report) -> String {
    let v = &report.verification;
    let d = &report.document;
    let text = |value: &Value| -> String {
        value
            .as_str()
            .unwrap_or("?")
            .chars()
            .take(80)
            .map(|c| if c.is_control() { '?' } else { c })
            .collect()
    };
    let mut out = String::new();
    if v.is_valid() {
        out.push_str(&format!("VALID: {path}\n"));
    } else {
        out.push_str(&format!(
            "INVALID: {path}: {} problem{}\n",
            v.problems.len(),
            if v.problems.len() == 1 { "" } else { "s" }
        ));
        for problem in &v.problems {
            out.push_str(&format!("  - {problem}\n"));
        }
    }
    out.push_str(&format!(
        "  firm {} ({}), number {}, status {} ({})\n",
        text(&d["firm"]["name"]),
        text(&d["firm"]["firm_id"]),
        text(&d["phone"]),
        text(&d["consent"]["status"]),
        text(&d["consent"]["basis"]),
    ));
    out.push_str(&format!(
        "  {} chained event{}, {} unchained; generated at {}\n",
        v.chained,
        if v.chained == 1 { "" } else { "s" },
        v.unchained,
        text(&d["generated_at"]),
    ));
    if let Some(events) = v.firm_chain {
        out.push_str(&format!(
            "  the firm's chain (double opt-in history): {events} event{}, checked\n",
            if events == 1 { "" } else { "s" },
        ));
    }
    out.push_str(&format!(
        "  signer: key {} ({}), checked with public key {}\n",
        v.key_id.as_deref().unwrap_or("?"),
        text(&d["signer"]["algorithm"]),
        v.public_key.as_deref().unwrap_or("(none)"),
    ));
    for warning in &v.warnings {
        out.push_str(&format!("  note: {warning}\n"));
    }
    out
}
