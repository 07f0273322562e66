// The store contract: every store enforces the same conditions DynamoDB does (versions,
// must-not-exist, inbound de-duplication, number routes, idempotency records, deferred sends).
// Included by each store's test file, which defines `Subject` (the store type) and
// `new_store()` (an empty one).

use chrono::{DateTime, Duration, Utc};
use consent::evidence::audit::{AuditEvent, AuditKind};
use consent::model::contact::Contact;
use consent::model::deferred::DeferredSend;
use consent::model::firm::Firm;
use consent::model::gate::{MessageCategory, MessageKind};
use consent::model::phone::PhoneNumber;
use consent::model::record::{ConsentRecord, ConsentStatus};
use consent::model::transition::{ConsentEvent, apply};
use consent::ports::{
    Completion, ConsentStore, ConsentWrite, DeferredStore, FirmStore, IdempotencyClaim,
    IdempotencyStore, StoreError, StoredResponse,
};

const FIRM: &str = "firm-1";

fn t(text: &str) -> DateTime<Utc> {
    text.parse().expect("a valid RFC 3339 instant")
}

fn now() -> DateTime<Utc> {
    t("2026-12-01T18:00:00Z")
}

fn phone(number: &str) -> PhoneNumber {
    PhoneNumber::parse(number).expect("a valid number")
}

fn client() -> PhoneNumber {
    phone("+14155550134")
}

/// A record at `version` in `status`, built from a new record so fields added later keep their
/// defaults.
fn record(version: u64, status: ConsentStatus) -> ConsentRecord {
    let created = ConsentEvent::ContactCreated {
        contact_id: "c-1".to_string(),
        source: None,
        email: None,
        double_opt_in: true,
        time_zone: None,
    };
    let mut record = apply(None, FIRM, &client(), created, now())
        .record
        .expect("a new contact creates a record");
    record.version = version;
    record.status = status;
    record
}

/// A new version of the stored record: built, like every flow's write, from the record as
/// stored, so it carries its chain head (a write over a record must).
async fn over(store: &Subject, version: u64, status: ConsentStatus) -> ConsentRecord {
    let mut next = record(version, status);
    next.audit_head = store
        .get_consent(FIRM, &client())
        .await
        .unwrap()
        .and_then(|r| r.audit_head);
    next
}

fn event(reason: &str) -> AuditEvent {
    AuditEvent::new(
        now(),
        AuditKind::EmailSkipped {
            reason: reason.to_string(),
        },
    )
}

fn write(expected: Option<u64>, record: Option<ConsentRecord>, reason: &str) -> ConsentWrite {
    ConsentWrite::new(FIRM, &client(), expected, record, vec![event(reason)])
}

fn contact(id: &str) -> Contact {
    Contact {
        firm_id: FIRM.to_string(),
        contact_id: id.to_string(),
        phone: client(),
        email: None,
        first_name: None,
        last_name: None,
        source: None,
        time_zone: None,
        created_at: now(),
    }
}

fn deferred(id: &str, not_before: DateTime<Utc>) -> DeferredSend {
    DeferredSend {
        id: id.to_string(),
        firm_id: FIRM.to_string(),
        to: client(),
        kind: MessageKind::FirmMessage,
        category: MessageCategory::Marketing,
        body: format!("message {id}"),
        not_before,
        idempotency_key: None,
    }
}

/// A firm as stored; read from JSON so settings added later keep their defaults.
fn firm(firm_id: &str, number: &str, version: u64) -> Firm {
    serde_json::from_value(serde_json::json!({
        "firm_id": firm_id,
        "name": format!("Firm {firm_id}"),
        "sms_number": number,
        "support_email": "help@firm.example",
        "support_phone": "(555) 010-0199",
        "website": "https://firm.example",
        "double_opt_in": true,
        "created_at": now(),
        "updated_at": now(),
        "version": version,
    }))
    .expect("a firm")
}

async fn event_reasons(store: &Subject) -> Vec<String> {
    store
        .events(FIRM, &client())
        .await
        .unwrap()
        .into_iter()
        .map(|e| match e.kind {
            AuditKind::EmailSkipped { reason } => reason,
            other => panic!("unexpected event {other:?}"),
        })
        .collect()
}

// --- consent writes --------------------------------------------------------------------------

#[tokio::test]
async fn a_record_that_must_not_exist_is_created_once() {
    let store = new_store();
    store
        .commit(write(
            None,
            Some(record(1, ConsentStatus::Pending)),
            "first",
        ))
        .await
        .expect("the first create succeeds");
    let again = store
        .commit(write(
            None,
            Some(record(1, ConsentStatus::OptedIn)),
            "second",
        ))
        .await;
    assert!(
        matches!(again, Err(StoreError::VersionConflict { .. })),
        "{again:?}"
    );
    let stored = store.get_consent(FIRM, &client()).await.unwrap().unwrap();
    assert_eq!(
        stored.status,
        ConsentStatus::Pending,
        "the loser wrote nothing"
    );
    assert_eq!(event_reasons(&store).await, ["first"]);
}

#[tokio::test]
async fn a_write_with_the_wrong_expected_version_conflicts_and_writes_nothing() {
    let store = new_store();
    store
        .commit(write(
            None,
            Some(record(1, ConsentStatus::Pending)),
            "create",
        ))
        .await
        .unwrap();
    store
        .commit(write(
            Some(1),
            Some(over(&store, 2, ConsentStatus::OptedIn).await),
            "v2",
        ))
        .await
        .expect("the right version succeeds");

    for expected in [Some(1), Some(3), None] {
        let mut w = write(expected, Some(record(9, ConsentStatus::OptedOut)), "stale");
        w.contact = Some(contact("c-stale"));
        w.deferred = Some(deferred("d-stale", now()));
        w.inbound_message_id = Some("in-stale".to_string());
        let result = store.commit(w).await;
        assert!(
            matches!(result, Err(StoreError::VersionConflict { .. })),
            "{expected:?}: {result:?}"
        );
        assert!(result.unwrap_err().is_retryable());
    }
    let stored = store.get_consent(FIRM, &client()).await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.status, ConsentStatus::OptedIn);
    assert_eq!(event_reasons(&store).await, ["create", "v2"]);
    assert_eq!(store.get_contact(FIRM, "c-stale").await.unwrap(), None);
    assert!(store.due_deferred(now(), 10).await.unwrap().is_empty());
    // The inbound id of a failed write is not marked applied.
    let mut w = write(Some(2), None, "retry");
    w.inbound_message_id = Some("in-stale".to_string());
    store.commit(w).await.expect("the id is still free");
}

#[tokio::test]
async fn a_write_to_a_missing_record_with_an_expected_version_conflicts() {
    let store = new_store();
    let result = store
        .commit(write(Some(1), Some(record(2, ConsentStatus::OptedIn)), "x"))
        .await;
    assert!(matches!(result, Err(StoreError::VersionConflict { .. })));
    assert_eq!(store.get_consent(FIRM, &client()).await.unwrap(), None);
    assert!(event_reasons(&store).await.is_empty());
}

#[tokio::test]
async fn an_inbound_message_id_is_applied_once() {
    let store = new_store();
    let mut first = write(None, Some(record(1, ConsentStatus::OptedOut)), "stop");
    first.inbound_message_id = Some("in-1".to_string());
    store.commit(first).await.unwrap();

    let mut again = write(
        Some(1),
        Some(over(&store, 2, ConsentStatus::OptedIn).await),
        "stop again",
    );
    again.inbound_message_id = Some("in-1".to_string());
    let result = store.commit(again).await;
    assert!(
        matches!(result, Err(StoreError::DuplicateInbound)),
        "{result:?}"
    );
    assert!(!result.unwrap_err().is_retryable());
    let stored = store.get_consent(FIRM, &client()).await.unwrap().unwrap();
    assert_eq!(stored.version, 1, "nothing written");
    assert_eq!(stored.status, ConsentStatus::OptedOut);
    assert_eq!(event_reasons(&store).await, ["stop"]);

    // Even for another number of the same firm (carrier ids are unique).
    let other = phone("+14155550135");
    let mut elsewhere = ConsentWrite::new(FIRM, &other, None, None, vec![event("other")]);
    elsewhere.inbound_message_id = Some("in-1".to_string());
    assert!(matches!(
        store.commit(elsewhere).await,
        Err(StoreError::DuplicateInbound)
    ));

    // An id is scoped to its firm.
    let mut other_firm = ConsentWrite::new("firm-2", &client(), None, None, vec![event("f2")]);
    other_firm.inbound_message_id = Some("in-1".to_string());
    store
        .commit(other_firm)
        .await
        .expect("another firm's id space");
}

#[tokio::test]
async fn an_inbound_id_without_a_record_is_still_remembered() {
    // A HELP from an unknown number writes events only; its redelivery must still be caught.
    let store = new_store();
    let mut first = write(None, None, "help");
    first.inbound_message_id = Some("in-help".to_string());
    store.commit(first).await.unwrap();
    let mut again = write(None, None, "help again");
    again.inbound_message_id = Some("in-help".to_string());
    assert!(matches!(
        store.commit(again).await,
        Err(StoreError::DuplicateInbound)
    ));
    assert_eq!(event_reasons(&store).await, ["help"]);
}

#[tokio::test]
async fn a_write_stores_its_contact_and_deferred_send_with_the_record() {
    let store = new_store();
    let mut w = write(None, Some(record(1, ConsentStatus::Pending)), "create");
    w.contact = Some(contact("c-1"));
    w.deferred = Some(deferred("d-1", now()));
    store.commit(w).await.unwrap();
    assert_eq!(
        store.get_contact(FIRM, "c-1").await.unwrap(),
        Some(contact("c-1"))
    );
    assert_eq!(store.get_contact("firm-2", "c-1").await.unwrap(), None);
    assert_eq!(
        store.due_deferred(now(), 10).await.unwrap(),
        [deferred("d-1", now())]
    );
    let many = store
        .get_consents(FIRM, &[client(), phone("+14155550199")])
        .await
        .unwrap();
    assert_eq!(many.len(), 1, "missing numbers are absent");
    assert_eq!(many[&client()].version, 1);
}

#[tokio::test]
async fn events_come_back_in_the_order_they_were_appended() {
    let store = new_store();
    store
        .commit(ConsentWrite::new(
            FIRM,
            &client(),
            None,
            None,
            vec![event("first"), event("second")],
        ))
        .await
        .unwrap();
    store.commit(write(None, None, "third")).await.unwrap();
    assert_eq!(event_reasons(&store).await, ["first", "second", "third"]);
}

// --- firms -----------------------------------------------------------------------------------

#[tokio::test]
async fn a_firm_number_routes_to_one_firm_only() {
    let store = new_store();
    store
        .put_firm(&firm("a", "+12125550100", 1), None, None, &[])
        .await
        .unwrap();
    assert_eq!(
        store.firm_for_number(&phone("+12125550100")).await.unwrap(),
        Some("a".to_string())
    );
    let taken = store
        .put_firm(&firm("b", "+12125550100", 1), None, None, &[])
        .await;
    assert!(matches!(taken, Err(StoreError::NumberInUse)), "{taken:?}");
    assert_eq!(store.get_firm("b").await.unwrap(), None, "nothing written");

    // Firm a moves to a new number: the old route is freed for b.
    store
        .put_firm(
            &firm("a", "+12125550101", 2),
            Some(1),
            Some(&phone("+12125550100")),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        store.firm_for_number(&phone("+12125550100")).await.unwrap(),
        None
    );
    assert_eq!(
        store.firm_for_number(&phone("+12125550101")).await.unwrap(),
        Some("a".to_string())
    );
    store
        .put_firm(&firm("b", "+12125550100", 1), None, None, &[])
        .await
        .expect("the freed number");
}

#[tokio::test]
async fn firm_writes_are_conditioned_on_the_version() {
    let store = new_store();
    let created = event("firm created");
    store
        .put_firm(&firm("a", "+12125550100", 1), None, None, &[created])
        .await
        .unwrap();
    for expected in [None, Some(2)] {
        let result = store
            .put_firm(
                &firm("a", "+12125550100", 9),
                expected,
                None,
                &[event("lost")],
            )
            .await;
        assert!(
            matches!(result, Err(StoreError::VersionConflict { .. })),
            "{expected:?}: {result:?}"
        );
    }
    assert_eq!(store.get_firm("a").await.unwrap().unwrap().version, 1);
    assert_eq!(store.firm_events("a").await.unwrap().len(), 1);
    store
        .put_firm(
            &firm("a", "+12125550100", 2),
            Some(1),
            None,
            &[event("renamed")],
        )
        .await
        .expect("the right version");
    assert_eq!(store.firm_events("a").await.unwrap().len(), 2);
}

#[tokio::test]
async fn firms_are_listed_by_id_a_page_at_a_time_each_once() {
    let store = new_store();
    assert!(store.list_firm_ids(None, 10).await.unwrap().is_empty());
    for (n, id) in ["c", "a", "d", "b"].into_iter().enumerate() {
        let number = format!("+1212555010{n}");
        store
            .put_firm(&firm(id, &number, 1), None, None, &[])
            .await
            .unwrap();
    }
    // A firm written again is still listed once.
    store
        .put_firm(&firm("a", "+12125550101", 2), Some(1), None, &[])
        .await
        .unwrap();
    assert_eq!(store.list_firm_ids(None, 10).await.unwrap(), ["a", "b", "c", "d"]);
    assert_eq!(store.list_firm_ids(None, 2).await.unwrap(), ["a", "b"]);
    assert_eq!(store.list_firm_ids(Some("b"), 2).await.unwrap(), ["c", "d"]);
    assert!(store.list_firm_ids(Some("d"), 2).await.unwrap().is_empty());
}

// --- idempotency -----------------------------------------------------------------------------

fn response(n: u16) -> StoredResponse {
    StoredResponse {
        status: n,
        body: serde_json::json!({ "n": n }),
    }
}

#[tokio::test]
async fn an_idempotency_key_is_claimed_then_completed_then_replayed() {
    let store = new_store();
    let until = now() + Duration::seconds(30);
    assert_eq!(
        store.claim("k", "h1", now(), until).await.unwrap(),
        IdempotencyClaim::Claimed
    );
    store
        .complete("k", "h1", &response(202), now() + Duration::hours(24))
        .await
        .unwrap();
    assert_eq!(
        store
            .claim("k", "h1", now() + Duration::hours(1), until)
            .await
            .unwrap(),
        IdempotencyClaim::Completed(response(202))
    );
    // A second completion of a completed key is refused.
    assert!(matches!(
        store
            .complete("k", "h1", &response(500), now() + Duration::hours(24))
            .await,
        Err(StoreError::VersionConflict { .. })
    ));
    assert_eq!(
        store.claim("k", "h1", now(), until).await.unwrap(),
        IdempotencyClaim::Completed(response(202))
    );
}

fn completion(key: &str, hash: &str, status: u16) -> Completion {
    Completion {
        key: key.to_string(),
        payload_hash: hash.to_string(),
        response: response(status),
        expires_at: now() + Duration::hours(24),
    }
}

#[tokio::test]
async fn a_write_keeps_a_keyed_response_with_its_record_and_a_failed_write_keeps_none() {
    let store = new_store();
    let until = now() + Duration::seconds(30);
    store.claim("k", "h1", now(), until).await.unwrap();
    store.claim("lost", "h1", now(), until).await.unwrap();
    let mut first = write(None, Some(record(1, ConsentStatus::OptedIn)), "sent");
    first.completes = Some(completion("k", "h1", 202));
    store.commit(first).await.unwrap();
    assert_eq!(
        store.claim("k", "h1", now(), until).await.unwrap(),
        IdempotencyClaim::Completed(response(202)),
        "replayed as the write kept it"
    );
    assert!(
        matches!(
            store
                .complete("k", "h1", &response(500), now() + Duration::hours(24))
                .await,
            Err(StoreError::VersionConflict { .. })
        ),
        "kept once: a completion on its own after it is refused"
    );

    // A write that loses its race keeps nothing: the key stays in progress.
    let mut stale = write(None, Some(record(1, ConsentStatus::OptedIn)), "stale");
    stale.completes = Some(completion("lost", "h1", 202));
    assert!(matches!(
        store.commit(stale).await,
        Err(StoreError::VersionConflict { .. })
    ));
    assert_eq!(
        store
            .claim("lost", "h1", now() + Duration::seconds(1), until)
            .await
            .unwrap(),
        IdempotencyClaim::InProgress { until }
    );
    assert_eq!(event_reasons(&store).await, ["sent"]);
}

#[tokio::test]
async fn an_idempotency_key_reused_with_another_payload_is_a_mismatch() {
    let store = new_store();
    let until = now() + Duration::seconds(30);
    store.claim("k", "h1", now(), until).await.unwrap();
    assert_eq!(
        store.claim("k", "h2", now(), until).await.unwrap(),
        IdempotencyClaim::PayloadMismatch,
        "while in progress"
    );
    store
        .complete("k", "h1", &response(200), now() + Duration::hours(24))
        .await
        .unwrap();
    assert_eq!(
        store.claim("k", "h2", now(), until).await.unwrap(),
        IdempotencyClaim::PayloadMismatch,
        "once completed"
    );
    assert!(matches!(
        store
            .complete("k", "h2", &response(200), now() + Duration::hours(24))
            .await,
        Err(StoreError::VersionConflict { .. })
    ));
}

#[tokio::test]
async fn an_idempotency_key_in_progress_is_reported_until_its_claim_lapses() {
    let store = new_store();
    let until = now() + Duration::seconds(30);
    store.claim("k", "h1", now(), until).await.unwrap();
    assert_eq!(
        store
            .claim(
                "k",
                "h1",
                now() + Duration::seconds(10),
                now() + Duration::seconds(40)
            )
            .await
            .unwrap(),
        IdempotencyClaim::InProgress { until }
    );
    // The holder died: after its claim lapses, a retry takes it over.
    let later = now() + Duration::seconds(31);
    assert_eq!(
        store
            .claim("k", "h1", later, later + Duration::seconds(30))
            .await
            .unwrap(),
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        store
            .claim("k", "h1", later + Duration::seconds(1), later)
            .await
            .unwrap(),
        IdempotencyClaim::InProgress {
            until: later + Duration::seconds(30)
        },
        "the new holder's claim"
    );
}

#[tokio::test]
async fn a_released_idempotency_key_can_be_claimed_again() {
    let store = new_store();
    let until = now() + Duration::seconds(30);
    store.claim("k", "h1", now(), until).await.unwrap();
    store.release("k").await.unwrap();
    assert_eq!(
        store.claim("k", "h2", now(), until).await.unwrap(),
        IdempotencyClaim::Claimed,
        "released keys are free, whatever the payload"
    );
    // Release does not remove a completed response.
    store
        .complete("k", "h2", &response(201), now() + Duration::hours(24))
        .await
        .unwrap();
    store.release("k").await.unwrap();
    assert_eq!(
        store.claim("k", "h2", now(), until).await.unwrap(),
        IdempotencyClaim::Completed(response(201))
    );
}

#[tokio::test]
async fn a_completed_idempotency_key_expires() {
    let store = new_store();
    store
        .claim("k", "h1", now(), now() + Duration::seconds(30))
        .await
        .unwrap();
    let expires = now() + Duration::hours(24);
    store
        .complete("k", "h1", &response(200), expires)
        .await
        .unwrap();
    assert_eq!(
        store
            .claim("k", "h2", expires, expires + Duration::seconds(30))
            .await
            .unwrap(),
        IdempotencyClaim::Claimed,
        "an expired record is gone, payload and all"
    );
}

#[tokio::test]
async fn completing_an_unclaimed_key_is_refused() {
    let store = new_store();
    assert!(matches!(
        store
            .complete("nope", "h1", &response(200), now() + Duration::hours(1))
            .await,
        Err(StoreError::VersionConflict { .. })
    ));
}

// --- deferred sends --------------------------------------------------------------------------

async fn store_deferred(store: &Subject, sends: &[DeferredSend]) {
    for send in sends {
        let mut w = ConsentWrite::new(FIRM, &client(), None, None, Vec::new());
        w.deferred = Some(send.clone());
        // Events-only writes against a missing record keep expecting no record.
        store.commit(w).await.unwrap();
    }
}

#[tokio::test]
async fn due_deferred_sends_come_oldest_first_and_only_when_due() {
    let store = new_store();
    let at = |minutes| now() + Duration::minutes(minutes);
    let sends = [
        deferred("d-3", at(30)),
        deferred("d-1", at(10)),
        deferred("d-4", at(60)),
        deferred("d-2b", at(20)),
        deferred("d-2a", at(20)),
    ];
    store_deferred(&store, &sends).await;
    let ids = |due: Vec<DeferredSend>| due.into_iter().map(|d| d.id).collect::<Vec<_>>();

    assert!(store.due_deferred(at(9), 10).await.unwrap().is_empty());
    assert_eq!(ids(store.due_deferred(at(10), 10).await.unwrap()), ["d-1"]);
    assert_eq!(
        ids(store.due_deferred(at(30), 10).await.unwrap()),
        ["d-1", "d-2a", "d-2b", "d-3"],
        "by due time, then id"
    );
    assert_eq!(
        ids(store.due_deferred(at(60), 2).await.unwrap()),
        ["d-1", "d-2a"],
        "at most `limit`"
    );
}

#[tokio::test]
async fn a_deferred_send_is_taken_exactly_once() {
    let store = new_store();
    let send = deferred("d-1", now());
    store_deferred(&store, std::slice::from_ref(&send)).await;
    assert!(store.take_deferred(&send).await.unwrap());
    assert!(
        !store.take_deferred(&send).await.unwrap(),
        "a second releaser loses"
    );
    assert!(store.due_deferred(now(), 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_write_takes_a_deferred_send_with_its_record_and_a_second_such_write_changes_nothing() {
    let store = new_store();
    let send = deferred("d-1", now());
    store_deferred(&store, std::slice::from_ref(&send)).await;
    store
        .commit(write(None, Some(record(1, ConsentStatus::OptedIn)), "created"))
        .await
        .unwrap();
    // The release's decision: deferred again, to a later send, in the write that takes it.
    let later = deferred("d-2", now() + Duration::hours(10));
    let mut release = write(Some(1), Some(over(&store, 2, ConsentStatus::OptedIn).await), "released");
    release.takes_deferred = Some(send.id.clone());
    release.deferred = Some(later.clone());
    store.commit(release).await.unwrap();
    let queued = store.due_deferred(now() + Duration::days(1), 10).await.unwrap();
    assert_eq!(queued, [later], "taken, and the new one queued");

    let mut again = write(Some(2), Some(over(&store, 3, ConsentStatus::OptedIn).await), "again");
    again.takes_deferred = Some(send.id.clone());
    assert!(
        matches!(store.commit(again).await, Err(StoreError::DeferredTaken)),
        "a second releaser loses"
    );
    let stored = store.get_consent(FIRM, &client()).await.unwrap();
    assert_eq!(stored.map(|r| r.version), Some(2), "the losing write wrote nothing");
    assert_eq!(event_reasons(&store).await, ["created", "released"]);
}

#[tokio::test]
async fn concurrent_takers_get_a_deferred_send_once() {
    let store = std::sync::Arc::new(new_store());
    let send = deferred("d-1", now());
    store_deferred(&store, std::slice::from_ref(&send)).await;
    let mut handles = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let send = send.clone();
        handles.push(tokio::spawn(async move {
            store.take_deferred(&send).await.unwrap()
        }));
    }
    let mut taken = 0;
    for handle in handles {
        taken += usize::from(handle.await.unwrap());
    }
    assert_eq!(taken, 1);
}

#[tokio::test]
async fn concurrent_creates_of_one_record_have_one_winner() {
    let store = std::sync::Arc::new(new_store());
    let mut handles = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            store
                .commit(write(
                    None,
                    Some(record(1, ConsentStatus::Pending)),
                    &format!("w{i}"),
                ))
                .await
                .is_ok()
        }));
    }
    let mut winners = 0;
    for handle in handles {
        winners += usize::from(handle.await.unwrap());
    }
    assert_eq!(winners, 1);
    assert_eq!(event_reasons(&store).await.len(), 1);
}
