//! Salted text commitments are sound for any text: a commitment checks with its own text and
//! salt only, and an event hashes the same whether its text is committed or disclosed.

use chrono::Utc;
use consent::evidence::audit::{AuditEvent, AuditKind, ReplyNote};
use consent::evidence::chain::{self, event_hash};
use consent::evidence::commitment::{Commitment, TextSalt};
use consent::evidence::shown::{ShownTexts, event_json};
use consent::model::keywords::Classification;
use proptest::prelude::*;

fn reply(text: &str) -> AuditEvent {
    let now = Utc::now();
    AuditEvent::new(
        now,
        AuditKind::ReplyReceived {
            text: text.to_string(),
            inbound_message_id: "in-1".into(),
            classification: Classification::Other,
            received_at: now,
            note: ReplyNote::Unrecognized,
        },
    )
}

proptest! {
    #[test]
    fn a_commitment_checks_with_its_own_text_and_salt_only(
        text in any::<String>(),
        other in any::<String>(),
        salt in any::<[u8; 32]>(),
        other_salt in any::<[u8; 32]>(),
    ) {
        let committed = serde_json::to_value(TextSalt::from_bytes(salt).commit(&text)).unwrap();
        let commitment = Commitment::of(&committed).unwrap();
        prop_assert_eq!(commitment.length, text.len() as u64);
        prop_assert!(commitment.check(&text, &salt).is_ok());
        prop_assert_eq!(commitment.check(&other, &salt).is_ok(), other == text);
        prop_assert_eq!(commitment.check(&text, &other_salt).is_ok(), other_salt == salt);
    }

    #[test]
    fn an_event_hashes_the_same_committed_or_disclosed(text in any::<String>()) {
        let mut events = vec![reply(&text)];
        chain::seal("f1", "+14155550100", None, &mut events).unwrap();
        let event = &events[0];
        let committed = event_json(event, ShownTexts::Committed);
        let disclosed = event_json(event, ShownTexts::Included);
        prop_assert_eq!(event.hash.clone(), Some(event_hash(&committed)));
        prop_assert_eq!(event.hash.clone(), Some(event_hash(&disclosed)));
        prop_assert!(Commitment::of(&committed["text"]).is_some());
        prop_assert!(committed.get("salt").is_none() && committed.get("disclosed").is_none());
        prop_assert_eq!(disclosed["disclosed"]["text"]["text"].as_str(), Some(text.as_str()));
        // Changing the disclosed text shows against the commitment, not in the hash.
        let mut forged = disclosed.clone();
        forged["disclosed"]["text"]["text"] = format!("{text}!").into();
        prop_assert_eq!(event.hash.clone(), Some(event_hash(&forged)));
        prop_assert_eq!(consent_proof::commitment::check_disclosed(&forged).len(), 1);
    }
}

#[test]
fn a_stored_event_keeps_its_text_and_salt_and_reads_back_alike() {
    let event = reply("I had two beers before the crash");
    let stored = serde_json::to_string(&event).unwrap();
    let back: AuditEvent = serde_json::from_str(&stored).unwrap();
    assert_eq!(back, event);
    assert!(back.salt.is_some());
    // An event without a privileged text gets no salt.
    let skipped = AuditEvent::new(Utc::now(), AuditKind::EmailSkipped { reason: "x".into() });
    assert!(skipped.salt.is_none());
}
