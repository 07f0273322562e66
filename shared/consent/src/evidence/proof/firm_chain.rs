//! The firm's own chain as a proof carries it (`firm_chain`): shown when the number's consent
//! rests on the firm's word, so the reader sees who turned double opt-in off, when, and with
//! what acknowledgement (chained in [`crate::evidence::firm_chain`], checked by
//! `consent_proof::firm_chain`).

use serde::{Deserialize, Serialize};

use crate::evidence::audit::{AuditEvent, AuditKind, OptInEvidence};
use crate::evidence::chain;
use crate::model::firm::Firm;
use crate::model::record::{ConsentBasis, ConsentRecord};

/// The firm's chain in a proof: its events in chain order, from the firm's genesis to its head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirmChain {
    /// What the first event links to: SHA-256 of `consent-firm-chain/v1\n<firm_id>`.
    pub genesis: String,
    /// The hash of the newest event, as the firm record keeps it.
    pub head: Option<String>,
    /// How many events the chain has.
    pub length: usize,
    /// Every chained event of the firm, oldest first (chain order).
    pub events: Vec<AuditEvent>,
    /// The firm's events from before its chain existed (no hash, no link), oldest first.
    pub unchained_events: Vec<AuditEvent>,
}

/// The chain of `firm` from its stored `events` (any order).
pub fn build_firm_chain(firm: &Firm, events: Vec<AuditEvent>) -> FirmChain {
    let genesis = chain::firm_genesis(&firm.firm_id);
    let (chained, mut unchained): (Vec<_>, Vec<_>) =
        events.into_iter().partition(|e| e.prev_hash.is_some());
    unchained.sort_by(|a, b| a.id.cmp(&b.id));
    let chained = chain::chain_order(chained, firm.audit_head.as_deref(), &genesis);
    FirmChain {
        genesis,
        head: firm.audit_head.clone(),
        length: chained.len(),
        events: chained,
        unchained_events: unchained,
    }
}

/// Whether a number's consent rests on the firm's word, now (basis `firm_attested`) or at an
/// opt-in of its trail: its proof then carries the firm's chain.
pub fn rests_on_firm_attestation(record: &ConsentRecord, events: &[AuditEvent]) -> bool {
    record.basis == ConsentBasis::FirmAttested
        || events.iter().any(|e| {
            matches!(
                e.kind,
                AuditKind::OptedIn {
                    evidence: OptInEvidence::FirmAttested { .. },
                    ..
                }
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::firm_chain::seal_onto_firm;
    use crate::evidence::proof::{Problem, ProofSigner, build_proof, verify};
    use crate::model::phone::PhoneNumber;
    use chrono::Utc;
    use serde_json::{Value, json};

    /// A firm and a record read from JSON, so fields added later keep their defaults.
    fn firm() -> Firm {
        let now = Utc::now();
        serde_json::from_value(json!({
            "firm_id": "f1", "name": "Hartwell & Pine", "sms_number": "+12025550100",
            "support_email": "help@example.com", "support_phone": "1",
            "website": "https://example.com", "double_opt_in": false,
            "double_opt_in_changed": null, "time_zone": null,
            "created_at": now, "updated_at": now, "version": 3,
        }))
        .unwrap()
    }

    fn attested_record(events: &mut [AuditEvent]) -> ConsentRecord {
        let now = Utc::now();
        let phone = PhoneNumber::parse("+14155550100").unwrap();
        let head = chain::seal("f1", phone.as_str(), None, events).unwrap();
        serde_json::from_value(json!({
            "firm_id": "f1", "phone": phone, "status": "opted_in", "basis": "firm_attested",
            "version": 1, "created_at": now, "status_changed_at": now, "updated_at": now,
            "audit_head": head,
        }))
        .unwrap()
    }

    fn attested_opt_in() -> AuditEvent {
        AuditEvent::new(
            Utc::now(),
            AuditKind::OptedIn {
                from: None,
                basis: ConsentBasis::FirmAttested,
                evidence: OptInEvidence::FirmAttested {
                    contact_id: "c1".into(),
                },
            },
        )
    }

    /// A firm whose chain holds one event from before the chain, then its registration and
    /// the switch of double opt-in to off; its events as stored.
    fn firm_with_history() -> (Firm, Vec<AuditEvent>) {
        let mut firm = firm();
        let legacy = AuditEvent::new(
            Utc::now(),
            AuditKind::TemplateChanged {
                name: "sms_help".into(),
                language: None,
                reset: true,
                actor: None,
            },
        );
        let mut events = vec![
            AuditEvent::new(
                Utc::now(),
                AuditKind::FirmUpdated {
                    name: firm.name.clone(),
                    sms_number: firm.sms_number.to_string(),
                    actor: None,
                },
            ),
            AuditEvent::new(
                Utc::now(),
                AuditKind::DoubleOptInChanged {
                    enabled: false,
                    changed_by: "ops@hartwell.example".into(),
                    acknowledge_risk: true,
                    actor: Some("arn:aws:iam::123456789012:role/crm".into()),
                },
            ),
        ];
        for event in events.iter_mut() {
            seal_onto_firm(&mut firm, std::slice::from_mut(event)).unwrap();
        }
        events.insert(0, legacy);
        events.reverse();
        (firm, events)
    }

    fn signed(firm_chain: Option<FirmChain>) -> Value {
        let (firm, _) = firm_with_history();
        let mut events = vec![attested_opt_in()];
        let record = attested_record(&mut events);
        assert!(rests_on_firm_attestation(&record, &events));
        let mut document = build_proof(&firm, &record, events, Utc::now());
        if let Some(chain) = firm_chain {
            document = document.with_firm_chain(chain);
        }
        ProofSigner::from_seed("t1", [3; 32])
            .unwrap()
            .sign(document)
            .to_json()
    }

    fn problems(document: &Value) -> Vec<Problem> {
        verify(document, None).unwrap().problems
    }

    #[test]
    fn a_firm_attested_proof_carries_the_firms_chain_and_it_verifies() {
        let (firm, events) = firm_with_history();
        let chain = build_firm_chain(&firm, events);
        assert_eq!(chain.length, 2);
        assert_eq!(chain.head, firm.audit_head);
        assert_eq!(chain.unchained_events.len(), 1, "the event from before");
        let proof = signed(Some(chain));
        let result = verify(&proof, None).unwrap();
        assert!(result.is_valid(), "{:?}", result.problems);
        assert_eq!(result.firm_chain, Some(2));
        assert!(
            result.warnings.iter().any(|w| w.contains("1 event was")),
            "{:?}",
            result.warnings
        );
        let switch = &proof["firm_chain"]["events"][1];
        assert_eq!(switch["type"], "double_opt_in_changed");
        assert_eq!(switch["changed_by"], "ops@hartwell.example");
        assert_eq!(switch["acknowledge_risk"], true);
    }

    #[test]
    fn a_changed_firm_chain_is_named_even_under_a_fresh_signature() {
        let (firm, events) = firm_with_history();
        let chain = build_firm_chain(&firm, events);
        // Each change is re-signed, so only the chain can tell it.
        let resigned = |mutate: &dyn Fn(&mut FirmChain)| {
            let mut changed = chain.clone();
            mutate(&mut changed);
            problems(&signed(Some(changed)))
        };
        let edited = resigned(&|c| {
            if let AuditKind::DoubleOptInChanged { changed_by, .. } = &mut c.events[1].kind {
                *changed_by = "someone-else".into();
            }
        });
        assert!(
            matches!(edited.as_slice(), [Problem::FirmChain(p), ..] if matches!(**p, Problem::HashMismatch { position: 2, .. })),
            "{edited:?}"
        );
        assert!(
            edited[0]
                .to_string()
                .starts_with("the firm's chain: event 2")
        );
        let dropped = resigned(&|c| {
            c.events.remove(0);
            c.length = 1;
        });
        assert!(
            dropped.iter().any(|p| matches!(p, Problem::FirmChain(p) if matches!(**p, Problem::NotFirmGenesis { .. }))),
            "{dropped:?}"
        );
        let cut = resigned(&|c| {
            c.events.pop();
        });
        assert!(
            cut.iter()
                .any(|p| matches!(p, Problem::FirmChain(p) if **p == Problem::HeadMismatch)),
            "{cut:?}"
        );
        let other_firm = resigned(&|c| c.genesis = chain::firm_genesis("f2"));
        assert!(
            other_firm
                .iter()
                .any(|p| matches!(p, Problem::FirmChain(p) if **p == Problem::FirmGenesisMismatch)),
            "{other_firm:?}"
        );
    }

    #[test]
    fn a_firm_attested_proof_without_the_chain_is_valid_with_a_note() {
        let proof = signed(None);
        assert!(proof.get("firm_chain").is_none());
        let result = verify(&proof, None).unwrap();
        assert!(result.is_valid(), "{:?}", result.problems);
        assert_eq!(result.firm_chain, None);
        assert!(
            result
                .warnings
                .iter()
                .any(|w| w.contains("firm's attestation")),
            "{:?}",
            result.warnings
        );
    }
}
