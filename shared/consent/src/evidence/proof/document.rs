//! The proof document: a number's trail at one firm in chain order, with where it stands.

use super::firm_chain::FirmChain;
use super::{CANONICALIZATION, HASH_ALGORITHM, PROOF_FORMAT};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::evidence::audit::AuditEvent;
use crate::evidence::chain;
use crate::evidence::shown::{ShownEvent, ShownTexts, shown_events};
use crate::model::firm::Firm;
use crate::model::record::{ConsentBasis, ConsentRecord, ConsentStatus};

/// A public key as documents name their signer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofPublicKey {
    /// Always `Ed25519`.
    pub algorithm: String,
    /// The key id.
    pub key_id: String,
    /// The 32-byte public key, base64 (standard alphabet, padded).
    pub public_key: String,
}

/// The firm a proof is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofFirm {
    /// The firm's id.
    pub firm_id: String,
    /// Its business name.
    pub name: String,
    /// The number it texts from.
    pub sms_number: String,
    /// Its double opt-in setting when the proof was made (each send records the one in force).
    pub double_opt_in: bool,
}

/// Where the number stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofConsent {
    /// The status now.
    pub status: ConsentStatus,
    /// What the status rests on.
    pub basis: ConsentBasis,
    /// Since when (the time of the event that set the status).
    pub since: DateTime<Utc>,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// The record's version the proof was made from.
    pub record_version: u64,
}

/// How the chain is built, and where it starts and ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofChain {
    /// Always `SHA-256`.
    pub hash_algorithm: String,
    /// Always `RFC 8785 (JCS)`.
    pub canonicalization: String,
    /// What the first event links to: SHA-256 of `consent-chain/v1\n<firm_id>\n<phone>`.
    pub genesis: String,
    /// The hash of the newest event, as the consent record keeps it.
    pub head: Option<String>,
    /// How many events the chain has.
    pub length: usize,
}

/// A proof of consent: the trail of one number at one firm, signed. It serializes its events
/// in the form [`ProofDocument::texts`] asks for (privileged texts as commitments by default),
/// never as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofDocument {
    /// Always [`PROOF_FORMAT`].
    pub format: String,
    /// When the document was made.
    pub generated_at: DateTime<Utc>,
    /// The firm.
    pub firm: ProofFirm,
    /// The number, E.164.
    pub phone: String,
    /// The current status and basis.
    pub consent: ProofConsent,
    /// The chain's parameters, genesis and head.
    pub chain: ProofChain,
    /// Every chained event, oldest first (chain order), with its evidence and hashes.
    pub events: Vec<AuditEvent>,
    /// Events recorded while the number had no consent record (or before the chain existed):
    /// each has a hash of its content but no link, so their completeness rests on the
    /// signature alone.
    pub unchained_events: Vec<AuditEvent>,
    /// The firm's own chain (its double opt-in history), when the consent rests on the firm's
    /// word; absent otherwise.
    pub firm_chain: Option<FirmChain>,
    /// The key that signed the document.
    pub signer: Option<ProofPublicKey>,
    /// Ed25519 signature, base64, over the canonical JSON of the document without this member.
    pub signature: Option<String>,
    /// Whether the events show their privileged texts beside the commitments (the firm's copy)
    /// or the commitments alone (the default); not a member of the document.
    pub texts: ShownTexts,
}

/// The document as written: its events in their shown form.
#[derive(Serialize)]
struct Written<'a> {
    format: &'a str,
    generated_at: &'a DateTime<Utc>,
    firm: &'a ProofFirm,
    phone: &'a str,
    consent: &'a ProofConsent,
    chain: &'a ProofChain,
    events: Vec<ShownEvent<'a>>,
    unchained_events: Vec<ShownEvent<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    firm_chain: Option<&'a FirmChain>,
    signer: Option<&'a ProofPublicKey>,
    signature: Option<&'a str>,
}

impl Serialize for ProofDocument {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Written {
            format: &self.format,
            generated_at: &self.generated_at,
            firm: &self.firm,
            phone: &self.phone,
            consent: &self.consent,
            chain: &self.chain,
            events: shown_events(&self.events, self.texts),
            unchained_events: shown_events(&self.unchained_events, self.texts),
            firm_chain: self.firm_chain.as_ref(),
            signer: self.signer.as_ref(),
            signature: self.signature.as_deref(),
        }
        .serialize(serializer)
    }
}

impl ProofDocument {
    /// The document showing its privileged texts or not (before it is signed: the signature
    /// covers the form it is given in).
    pub fn with_texts(mut self, texts: ShownTexts) -> Self {
        self.texts = texts;
        self
    }

    /// The document as JSON.
    pub fn to_json(&self) -> Value {
        json_of(self)
    }

    /// The document with the firm's chain in it (before it is signed).
    pub fn with_firm_chain(mut self, firm_chain: FirmChain) -> Self {
        self.firm_chain = Some(firm_chain);
        self
    }
}

/// Serializes a model type; cannot fail for the types here (string keys, no custom
/// serializers). Were it ever to, the signature over it would not verify, so it would not pass
/// unnoticed.
pub(super) fn json_of<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The unsigned proof of `record`'s number at `firm`, from its stored `events` (any order).
pub fn build_proof(
    firm: &Firm,
    record: &ConsentRecord,
    events: Vec<AuditEvent>,
    generated_at: DateTime<Utc>,
) -> ProofDocument {
    let phone = record.phone.as_str();
    let genesis = chain::genesis(&firm.firm_id, phone);
    let (chained, mut unchained): (Vec<_>, Vec<_>) =
        events.into_iter().partition(|e| e.prev_hash.is_some());
    unchained.sort_by(|a, b| a.id.cmp(&b.id));
    let chained = chain::chain_order(chained, record.audit_head.as_deref(), &genesis);
    ProofDocument {
        format: PROOF_FORMAT.to_string(),
        generated_at,
        firm: ProofFirm {
            firm_id: firm.firm_id.clone(),
            name: firm.name.clone(),
            sms_number: firm.sms_number.to_string(),
            double_opt_in: firm.double_opt_in,
        },
        phone: phone.to_string(),
        consent: ProofConsent {
            status: record.status,
            basis: record.basis,
            since: record.status_changed_at,
            created_at: record.created_at,
            record_version: record.version,
        },
        chain: ProofChain {
            hash_algorithm: HASH_ALGORITHM.to_string(),
            canonicalization: CANONICALIZATION.to_string(),
            genesis,
            head: record.audit_head.clone(),
            length: chained.len(),
        },
        events: chained,
        unchained_events: unchained,
        firm_chain: None,
        signer: None,
        signature: None,
        texts: ShownTexts::Committed,
    }
}
