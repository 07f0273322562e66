//! The firm's own hash chain: its settings, its double opt-in switches (who turned it, when,
//! whether the risk was acknowledged) and its template changes, chained like a number's events
//! ([`crate::evidence::chain`]: the same event hash, the same links) from the firm's own genesis,
//! SHA-256 of `consent-firm-chain/v1\n<firm_id>`. The firm record keeps the head
//! ([`Firm::audit_head`], inside its stored document); a firm's events are written in the same
//! write as the firm, conditioned on its version, so two writers cannot both extend one head.
//!
//! Firms registered before this chain existed have events without hashes. Their chain starts
//! at the first event written since, which links to the genesis; the older events are shown
//! apart, unchained and without a hash. They are not hashed on read: a hash computed from what
//! the store holds now would vouch for whatever it holds, edits included.

use crate::evidence::audit::AuditEvent;
use crate::evidence::chain::{self, UnhashableEvent};
use crate::model::firm::Firm;

/// Seals a firm's new `events` onto its chain: linked from the head `firm` carries (the firm as
/// read, one version on) or from the firm's genesis, with the firm's head moved to the last of
/// them. On a refusal nothing moves and the events must not be written.
pub fn seal_onto_firm(firm: &mut Firm, events: &mut [AuditEvent]) -> Result<(), UnhashableEvent> {
    let firm_id = firm.firm_id.as_str();
    let head = chain::seal_from(
        firm.audit_head.as_deref(),
        || chain::firm_genesis(firm_id),
        events,
    )?;
    firm.audit_head = head;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::audit::AuditKind;
    use chrono::Utc;

    fn firm() -> Firm {
        let now = Utc::now();
        serde_json::from_value(serde_json::json!({
            "firm_id": "f1", "name": "Hartwell & Pine", "sms_number": "+12025550100",
            "support_email": "help@example.com", "support_phone": "1",
            "website": "https://example.com", "double_opt_in": true,
            "double_opt_in_changed": null, "time_zone": null,
            "created_at": now, "updated_at": now, "version": 1,
        }))
        .unwrap()
    }

    fn switched(enabled: bool) -> AuditEvent {
        AuditEvent::new(
            Utc::now(),
            AuditKind::DoubleOptInChanged {
                enabled,
                changed_by: "ops@firm".into(),
                acknowledge_risk: !enabled,
                actor: None,
            },
        )
    }

    #[test]
    fn a_firms_events_chain_from_its_own_genesis_and_the_firm_keeps_the_head() {
        let mut firm = firm();
        // A firm from before the chain: no head, so its first hashed event starts it.
        assert_eq!(firm.audit_head, None);
        let mut first = vec![switched(false)];
        seal_onto_firm(&mut firm, &mut first).unwrap();
        assert_eq!(
            first[0].prev_hash.as_deref(),
            Some(chain::firm_genesis("f1").as_str())
        );
        assert_eq!(firm.audit_head, first[0].hash);
        // The next write links to the head the firm record carries.
        let mut second = vec![switched(true)];
        seal_onto_firm(&mut firm, &mut second).unwrap();
        assert_eq!(second[0].prev_hash, first[0].hash);
        assert_eq!(firm.audit_head, second[0].hash);
        assert_eq!(second[0].hash, chain::hash_of(&second[0]).ok());
        // The firm's genesis is not any number's, and the head is kept in the firm's document.
        assert_ne!(chain::firm_genesis("f1"), chain::genesis("f1", ""));
        let stored = serde_json::to_value(&firm).unwrap();
        assert_eq!(stored["audit_head"], serde_json::json!(firm.audit_head));
        let back: Firm = serde_json::from_value(stored).unwrap();
        assert_eq!(back, firm);
    }
}
