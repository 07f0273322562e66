//! The hash chain and proof documents through the flows: whatever happens to a number, its
//! proof verifies and holds every event in one chain; a write from a stale copy of a record
//! cannot fork the chain; any change to a proof (any byte of any event, a dropped event, two
//! events swapped, another key) fails verification with a message that says what and where.

mod common;

use std::sync::OnceLock;

use chrono::Duration;
use common::{FIRM_ID, Harness, contact_with_email, firm_message, inbound, phone, t};
use consent::evidence::chain;
use consent::evidence::proof::{Problem, ProofSigner, parse_public_key, verify};
use consent::evidence::shown::ShownTexts;
use consent::evidence::token::ConfirmationClaims;
use consent::flows::Services;
use consent::ports::{ConsentStore, ConsentWrite, StoreError};
use proptest::prelude::*;
use serde_json::Value;

const NUMBERS: [&str; 3] = ["+14155550101", "+14155550102", "+12125550103"];
const TEXTS: &[&str] = &["YES", "STOP", "HELP", "START", "who is this", "Stop please"];

fn signer() -> ProofSigner {
    ProofSigner::from_seed("chain-test", [5; 32]).expect("a valid key")
}

fn with_signer(h: &Harness) -> Services {
    h.services.clone().with_proof_signer(signer())
}

#[derive(Debug, Clone)]
enum Op {
    Create {
        number: usize,
    },
    Text {
        number: usize,
        id: u8,
        text: &'static str,
        offset_secs: i64,
    },
    ConfirmEmail {
        number: usize,
    },
    Send {
        number: usize,
    },
    Batch {
        numbers: Vec<usize>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..3usize).prop_map(|number| Op::Create { number }),
        5 => (0..3usize, 0u8..10, proptest::sample::select(TEXTS), -600i64..120)
            .prop_map(|(number, id, text, offset_secs)| Op::Text { number, id, text, offset_secs }),
        1 => (0..3usize).prop_map(|number| Op::ConfirmEmail { number }),
        3 => (0..3usize).prop_map(|number| Op::Send { number }),
        2 => proptest::collection::vec(0..3usize, 1..6).prop_map(|numbers| Op::Batch { numbers }),
    ]
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let h = Harness::daytime().await;
    let services = with_signer(&h);
    for (i, op) in ops.iter().enumerate() {
        let now = t(common::DAYTIME) + Duration::minutes(i64::try_from(i).unwrap_or(0));
        h.set_now(now);
        let fail = |e: String| TestCaseError::fail(format!("{op:?}: {e}"));
        match op {
            Op::Create { number } => {
                let n = NUMBERS[*number];
                services
                    .create_contact(
                        FIRM_ID,
                        contact_with_email(&format!("c{number}"), n, "a@example.com"),
                    )
                    .await
                    .map_err(|e| fail(e.to_string()))?;
            }
            Op::Text {
                number,
                id,
                text,
                offset_secs,
            } => {
                let received = now + Duration::seconds(*offset_secs);
                services
                    .receive_sms(inbound(
                        NUMBERS[*number],
                        &format!("in-{id}"),
                        text,
                        received,
                    ))
                    .await
                    .map_err(|e| fail(e.to_string()))?;
            }
            Op::ConfirmEmail { number } => {
                let token = services
                    .token_keys()
                    .expect("token keys")
                    .sign(&ConfirmationClaims {
                        firm_id: FIRM_ID.to_string(),
                        phone: phone(NUMBERS[*number]),
                        contact_id: format!("c{number}"),
                        expires_at: now + Duration::days(1),
                    });
                // A number without a record refuses the link; that is not what is tested here.
                let _ = services
                    .confirm_email(&token, Some("203.0.113.7".into()), Some("UA".into()))
                    .await;
            }
            Op::Send { number } => {
                services
                    .gate
                    .send(&h.firm, &firm_message(NUMBERS[*number], &format!("op {i}")))
                    .await
                    .map_err(|e| fail(e.to_string()))?;
            }
            Op::Batch { numbers } => {
                let requests: Vec<_> = numbers
                    .iter()
                    .enumerate()
                    .map(|(j, n)| firm_message(NUMBERS[*n], &format!("op {i}.{j}")))
                    .collect();
                for result in services
                    .gate
                    .send_batch(&h.firm, &requests)
                    .await
                    .map_err(|e| fail(e.to_string()))?
                {
                    result.map_err(|e| fail(e.to_string()))?;
                }
            }
        }
    }

    for number in NUMBERS {
        let stored = h
            .store
            .events(FIRM_ID, &phone(number))
            .await
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(
            stored
                .iter()
                .all(|e| e.hash.is_some() && e.hash == chain::hash_of(e).ok())
        );
        let record = h
            .store
            .get_consent(FIRM_ID, &phone(number))
            .await
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        if record.is_none() {
            // No record: every event is sealed unchained, and there is no proof.
            prop_assert!(stored.iter().all(|e| e.prev_hash.is_none()));
            continue;
        }
        let proof = services
            .proof(FIRM_ID, number, ShownTexts::Committed)
            .await
            .map_err(|e| TestCaseError::fail(e.to_string()))?
            .to_json();
        let result = verify(&proof, None).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(result.is_valid(), "{}: {:?}", number, result.problems);
        // One chain holds every chained event: nothing forked off it.
        let chained = stored.iter().filter(|e| e.prev_hash.is_some()).count();
        prop_assert_eq!(result.chained, chained, "{}", number);
        prop_assert_eq!(result.chained + result.unchained, stored.len());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Whatever happens to a number, its trail is one unbroken chain and its proof verifies.
    #[test]
    fn every_trail_is_one_chain_and_its_proof_verifies(ops in proptest::collection::vec(op(), 1..25)) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(run(ops))?;
    }
}

#[tokio::test]
async fn a_write_from_a_stale_copy_cannot_fork_the_chain() {
    let h = Harness::daytime().await;
    let number = NUMBERS[0];
    h.services
        .create_contact(FIRM_ID, contact_with_email("c1", number, "a@example.com"))
        .await
        .expect("created");
    let read = h
        .store
        .get_consent(FIRM_ID, &phone(number))
        .await
        .expect("read")
        .expect("a record");
    // A first write moves the head, and a stale copy with the right version but the old head
    // is then made to look current.
    let mut next = read.clone();
    next.version += 1;
    let write = ConsentWrite::new(
        FIRM_ID,
        &phone(number),
        Some(read.version),
        Some(next.clone()),
        vec![common_event("first")],
    );
    let written = write.record.clone().expect("a record");
    h.store.commit(write).await.expect("the first write");
    let mut stale = next.clone();
    stale.version += 1;
    let forked = h
        .store
        .commit(ConsentWrite::new(
            FIRM_ID,
            &phone(number),
            Some(next.version),
            Some(stale),
            vec![common_event("fork")],
        ))
        .await;
    assert!(
        matches!(forked, Err(StoreError::VersionConflict { .. })),
        "{forked:?}"
    );
    // From the record as written, the chain goes on.
    let mut good = written.clone();
    good.version += 1;
    h.store
        .commit(ConsentWrite::new(
            FIRM_ID,
            &phone(number),
            Some(written.version),
            Some(good),
            vec![common_event("second")],
        ))
        .await
        .expect("the write from the current record");
    let proof = with_signer(&h)
        .proof(FIRM_ID, number, ShownTexts::Committed)
        .await
        .expect("a proof")
        .to_json();
    let result = verify(&proof, None).expect("a proof");
    assert!(result.is_valid(), "{:?}", result.problems);
}

fn common_event(reason: &str) -> consent::evidence::audit::AuditEvent {
    consent::evidence::audit::AuditEvent::new(
        t(common::DAYTIME),
        consent::evidence::audit::AuditKind::EmailSkipped {
            reason: reason.to_string(),
        },
    )
}

/// One proof of a whole lifecycle, made once for the tampering properties.
fn lifecycle_proof() -> &'static Value {
    static PROOF: OnceLock<Value> = OnceLock::new();
    PROOF.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let h = Harness::daytime().await;
            let services = with_signer(&h);
            let number = NUMBERS[0];
            services
                .create_contact(FIRM_ID, contact_with_email("c1", number, "a@example.com"))
                .await
                .expect("created");
            let at = t(common::DAYTIME);
            for (id, text) in [
                ("in-1", "Yes!"),
                ("in-2", "HELP"),
                ("in-3", "STOP"),
                ("in-4", "START"),
            ] {
                services
                    .receive_sms(inbound(number, id, text, at))
                    .await
                    .expect("received");
            }
            services
                .gate
                .send(
                    &h.firm,
                    &firm_message(number, "Your hearing is Monday \"9:00\"\n— bring ID"),
                )
                .await
                .expect("sent");
            services
                .proof(FIRM_ID, number, ShownTexts::Committed)
                .await
                .expect("a proof")
                .to_json()
        })
    })
}

fn events_of(proof: &Value) -> Vec<Value> {
    proof["events"].as_array().cloned().unwrap_or_default()
}

fn problems(proof: &Value) -> Vec<String> {
    verify(proof, None)
        .expect("still a proof")
        .problems
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn the_lifecycle_proof_verifies() {
    let proof = lifecycle_proof();
    let result = verify(proof, None).expect("a proof");
    assert!(result.is_valid(), "{:?}", result.problems);
    assert!(result.chained >= 12, "{}", result.chained);
    let pinned = parse_public_key(&signer().public_key().public_key).expect("a key");
    assert!(verify(proof, Some(&pinned)).expect("a proof").is_valid());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Changing any byte of any event (of its JSON text) is detected: the event's hash no longer
    /// matches, or the document no longer parses.
    #[test]
    fn changing_any_byte_of_any_event_is_detected(
        pick in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        byte in 0x20u8..0x7f,
    ) {
        let proof = lifecycle_proof();
        let events = events_of(proof);
        let i = pick.index(events.len());
        let text = serde_json::to_string(&events[i]).expect("json");
        let mut bytes = text.into_bytes();
        let at = at.index(bytes.len());
        prop_assume!(bytes[at] != byte);
        bytes[at] = byte;
        let Ok(changed) = serde_json::from_slice::<Value>(&bytes) else {
            // No longer JSON: unreadable, which is detection too.
            return Ok(());
        };
        // The same value written differently (e.g. an escape) is not a change.
        prop_assume!(changed != events[i]);
        let mut tampered = proof.clone();
        tampered["events"][i] = changed;
        let Ok(result) = verify(&tampered, None) else {
            return Ok(());
        };
        prop_assert!(!result.is_valid());
        let messages: Vec<String> = result.problems.iter().map(ToString::to_string).collect();
        let position = i + 1;
        // The event is named: its hash, its link, or (a changed `hash` member) the next
        // event's link or the head.
        let named = result.problems.iter().any(|p| match p {
            Problem::HashMismatch { position: at, .. }
            | Problem::MissingHash { position: at, .. }
            | Problem::MissingLink { position: at, .. }
            | Problem::OutOfOrder { position: at, .. } => *at == position,
            Problem::Gap { position: at, previous, .. } => *at == position || *previous == position,
            Problem::NotGenesis { .. } => position == 1,
            Problem::HeadMismatch => position == events.len(),
            _ => false,
        });
        prop_assert!(named, "event {} changed at byte {}: {:?}", position, at, messages);
        prop_assert!(messages.iter().any(|m| m.starts_with("signature does not verify")));
    }

    /// Dropping any one event is detected, and said where.
    #[test]
    fn dropping_any_event_is_detected(pick in any::<prop::sample::Index>()) {
        let proof = lifecycle_proof();
        let events = events_of(proof);
        let i = pick.index(events.len());
        let mut tampered = proof.clone();
        if let Some(list) = tampered["events"].as_array_mut() {
            list.remove(i);
        }
        let messages = problems(&tampered);
        let expected = if i == 0 {
            "event 1 (".to_string()
        } else if i == events.len() - 1 {
            "the chain's head is not the hash of the last event".to_string()
        } else {
            format!("event missing between event {i} (")
        };
        prop_assert!(
            messages.iter().any(|m| m.starts_with(&expected)),
            "dropped {}: {:?}", i + 1, messages
        );
    }

    /// Swapping any two events is detected as a broken order.
    #[test]
    fn swapping_two_events_is_detected(a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
        let proof = lifecycle_proof();
        let len = events_of(proof).len();
        let (a, b) = (a.index(len), b.index(len));
        prop_assume!(a != b);
        let mut tampered = proof.clone();
        if let Some(list) = tampered["events"].as_array_mut() {
            list.swap(a, b);
        }
        let messages = problems(&tampered);
        prop_assert!(
            messages.iter().any(|m| m.contains("out of order")
                || m.starts_with("event 1 (")
                || m.starts_with("event missing between")
                || m.starts_with("the chain's head")),
            "swapped {} and {}: {:?}", a + 1, b + 1, messages
        );
    }
}

#[test]
fn a_signature_by_another_key_fails() {
    let proof = lifecycle_proof();
    let ours = parse_public_key(&signer().public_key().public_key).expect("a key");
    // Re-signed by another key: consistent in itself, refused when our key is pinned.
    let other = ProofSigner::from_seed("impostor", [6; 32]).expect("a key");
    let resigned = other.sign_json(proof.clone());
    assert!(verify(&resigned, None).expect("a proof").is_valid());
    let pinned = verify(&resigned, Some(&ours)).expect("a proof");
    let messages: Vec<String> = pinned.problems.iter().map(ToString::to_string).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("the document is signed by key impostor")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("signature does not verify"))
    );
    // Our signer named, another key's signature: does not verify.
    let mut forged = proof.clone();
    forged["signature"] = resigned["signature"].clone();
    assert_eq!(
        problems(&forged),
        [
            "signature does not verify: the document was changed after it was signed, or another key signed it"
        ]
    );
    // A change outside the events (the status) is caught by the signature.
    let mut relabelled = proof.clone();
    relabelled["consent"]["status"] = "opted_out".into();
    assert_eq!(problems(&relabelled).len(), 1);
}
