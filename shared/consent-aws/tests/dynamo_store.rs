//! The AWS adapters against the emulators: every store condition behaves as in the in-memory
//! store (each script runs on both and must give the same outcomes), on moto and on DynamoDB
//! Local (AWS's own emulator) alike, and what SNS and SES were asked to send is what moto
//! recorded.
//!
//! Races are not tested here but in `tests/tests/races.rs` of `consent-tests`, on DynamoDB
//! Local: moto's server does not serialise conditional writes to one item as DynamoDB does.
//! What decides a race, the condition each write carries, is tested here sequentially (the
//! loser's write meets the winner's item).
//!
//! Each test on moto starts its own server on a free loopback port (`$MOTO_SERVER`, or the
//! repo's `.venv/bin/moto_server`); the tests on DynamoDB Local share one (`$DYNAMODB_LOCAL`,
//! or the jar under the repo's `node_modules`), each on tables of its own. A test panics if
//! its emulator cannot start: these tests are never skipped.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};

use consent::adapters::memory::MemoryStore;
use consent::evidence::audit::{AuditEvent, AuditKind};
use consent::flows::FlowError;
use consent::model::contact::Contact;
use consent::model::deferred::DeferredSend;
use consent::model::firm::Firm;
use consent::model::gate::{MessageCategory, MessageKind};
use consent::model::phone::PhoneNumber;
use consent::model::record::{ConsentBasis, ConsentRecord, ConsentStatus, Delivery};
use consent::ports::{
    CarrierOptIn, Completion, ConsentStore, ConsentWrite, DeferredStore, IdempotencyClaim, Mailer,
    OutgoingEmail, OutgoingSms, SendError, SmsSender, Store, StoreError, StoredResponse,
    SystemClock,
};
use consent_aws::config::{self, AwsConfig, ConfigError, TokenKeySource};
use consent_aws::{DynamoStore, SesMailer, SnsSmsSender, ensure_sender_identity, ensure_table};
use consent_tests::dynamodb_local::DynamoDbLocal;
use consent_tests::emulator::{MOTO_OPTED_OUT, Moto};

// ---------------------------------------------------------------------------------------------
// Fixtures.

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0)
        .single()
        .expect("valid time")
}

fn phone(n: u32) -> PhoneNumber {
    let text = format!("+1415555{n:04}");
    PhoneNumber::from_e164(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn record(firm: &str, phone: &PhoneNumber, version: u64, status: ConsentStatus) -> ConsentRecord {
    ConsentRecord {
        firm_id: firm.to_string(),
        phone: phone.clone(),
        status,
        basis: ConsentBasis::OptInRequested,
        version,
        created_at: t0(),
        status_changed_at: t0(),
        updated_at: t0(),
        opt_in_sms: Delivery::NotSent,
        opt_in_email: Delivery::NotSent,
        opt_out_confirmation_sent: false,
        recent_inbound_ids: Vec::new(),
        recent_sends: Default::default(),
        time_zone: None,
        audit_head: None,
        state: None,
        language: Default::default(),
        contact_ids: Vec::new(),
    }
}

fn event(note: &str) -> AuditEvent {
    AuditEvent::new(
        t0(),
        AuditKind::EmailSkipped {
            reason: note.to_string(),
        },
    )
}

/// A note longer than a write unit, as an email's text and HTML are.
fn long_note() -> String {
    (0..60)
        .map(|line| format!("line {line}: the provider refused the address. "))
        .collect()
}

fn firm(id: &str, number: &PhoneNumber, version: u64) -> Firm {
    Firm {
        firm_id: id.to_string(),
        name: format!("{id} LLP"),
        sms_number: number.clone(),
        support_email: "help@example.com".to_string(),
        support_phone: "+14155550100".to_string(),
        website: "https://example.com".to_string(),
        double_opt_in: true,
        double_opt_in_changed: None,
        time_zone: None,
        send_window: None,
        limits: Default::default(),
        templates: BTreeMap::new(),
        privacy_url: None,
        terms_url: None,
        require_consent_capture: false,
        created_at: t0(),
        updated_at: t0(),
        version,
        audit_head: None,
    }
}

fn deferred(id: &str, not_before: DateTime<Utc>) -> DeferredSend {
    DeferredSend {
        id: id.to_string(),
        firm_id: "f1".to_string(),
        to: phone(1),
        kind: MessageKind::FirmMessage,
        category: MessageCategory::Marketing,
        body: format!("deferred {id}"),
        not_before,
        idempotency_key: None,
    }
}

/// A comparable outcome: the value, or which typed error.
fn outcome<T: Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Ok(value) => format!("ok {value:?}"),
        Err(StoreError::VersionConflict { operation }) => format!("version_conflict {operation}"),
        Err(StoreError::NumberInUse) => "number_in_use".to_string(),
        Err(StoreError::DuplicateInbound) => "duplicate_inbound".to_string(),
        Err(StoreError::DeferredTaken) => "deferred_taken".to_string(),
        Err(error @ (StoreError::Backend { .. } | StoreError::Unavailable { .. })) => {
            panic!("backend failure: {error:?}")
        }
    }
}

/// Runs `script` on a fresh in-memory store and on DynamoDB; both must give the same outcomes.
async fn same_on_both<F, Fut>(dynamo: DynamoStore, script: F) -> Vec<String>
where
    F: Fn(Arc<dyn Store>) -> Fut,
    Fut: std::future::Future<Output = Vec<String>>,
{
    let memory = script(Arc::new(MemoryStore::new())).await;
    let aws = script(Arc::new(dynamo)).await;
    assert_eq!(aws, memory, "DynamoDB and the in-memory store disagree");
    aws
}

/// The emulator a store test's tables live on.
enum Backend {
    /// A moto server of the test's own.
    Moto(Moto),
    /// The test binary's DynamoDB Local.
    DynamoDbLocal(&'static DynamoDbLocal),
}

impl Backend {
    /// A DynamoDB store on a new table.
    async fn store(&self, table: &str) -> DynamoStore {
        match self {
            Self::Moto(moto) => moto.store(table).await,
            Self::DynamoDbLocal(dynamodb) => dynamodb.store(table).await,
        }
    }

    /// The SDK config for the emulator.
    fn sdk(&self) -> aws_config::SdkConfig {
        match self {
            Self::Moto(moto) => moto.sdk(),
            Self::DynamoDbLocal(dynamodb) => dynamodb.sdk(),
        }
    }
}

/// Each store test twice: `on_moto::NAME` and `on_dynamodb_local::NAME`.
macro_rules! on_both_emulators {
    ($($name:ident),* $(,)?) => {
        mod on_moto {
            $(
                #[tokio::test]
                async fn $name() {
                    let moto = consent_tests::emulator::Moto::start().await;
                    super::$name(super::Backend::Moto(moto)).await;
                }
            )*
        }
        mod on_dynamodb_local {
            $(
                #[tokio::test]
                async fn $name() {
                    let dynamodb = consent_tests::dynamodb_local::DynamoDbLocal::shared().await;
                    super::$name(super::Backend::DynamoDbLocal(dynamodb)).await;
                }
            )*
        }
    };
}

on_both_emulators!(
    commit_enforces_the_version_like_the_memory_store,
    inbound_ids_apply_once_and_version_wins_over_duplicate,
    contacts_and_deferred_sends_are_written_with_the_record,
    a_write_larger_than_one_item_is_refused_before_sending,
    batch_get_reads_250_numbers_in_chunks,
    firms_own_their_numbers_like_the_memory_store,
    idempotency_claims_like_the_memory_store,
    deferred_sends_come_due_in_order_and_are_taken_once,
    ensure_table_is_idempotent_and_errors_keep_the_sdk_error,
    records_are_listed_by_status_like_the_memory_store,
    audit_events_never_expire_and_writes_keep_one_chain,
);

// ---------------------------------------------------------------------------------------------
// Consent records.

async fn commit_enforces_the_version_like_the_memory_store(backend: Backend) {
    let outcomes = same_on_both(backend.store("commit-version").await, |store| async move {
        let p = phone(1);
        let mut out = Vec::new();
        let write = |expected, rec: Option<ConsentRecord>, note: &str| {
            ConsentWrite::new("f1", &p, expected, rec, vec![event(note)])
        };
        let pending = record("f1", &p, 1, ConsentStatus::Pending);
        let created = write(None, Some(pending.clone()), "a");
        // An update is built from the record as written: it carries its chain head.
        let mut opted_in = record("f1", &p, 2, ConsentStatus::OptedIn);
        opted_in.audit_head = created.record.as_ref().and_then(|r| r.audit_head.clone());
        // Create; create again; update from the right and a stale version.
        out.push(outcome(store.commit(created).await));
        out.push(outcome(
            store
                .commit(write(None, Some(pending.clone()), "lost"))
                .await,
        ));
        out.push(outcome(
            store
                .commit(write(Some(1), Some(opted_in.clone()), "b"))
                .await,
        ));
        out.push(outcome(
            store
                .commit(write(Some(1), Some(opted_in.clone()), "lost"))
                .await,
        ));
        // Events only, under the record's version; a wrong version writes nothing.
        out.push(outcome(store.commit(write(Some(2), None, "c")).await));
        out.push(outcome(store.commit(write(Some(7), None, "lost")).await));
        out.push(outcome(store.commit(write(None, None, "lost")).await));
        // Events only for a number with no record, which must stay absent.
        let q = phone(2);
        out.push(outcome(
            store
                .commit(ConsentWrite::new("f1", &q, None, None, vec![event("d")]))
                .await,
        ));
        out.push(outcome(
            store
                .commit(ConsentWrite::new(
                    "f1",
                    &q,
                    Some(1),
                    None,
                    vec![event("lost")],
                ))
                .await,
        ));
        let current = store.get_consent("f1", &p).await;
        out.push(outcome(current.map(|r| r.map(|r| (r.version, r.status)))));
        out.push(outcome(store.get_consent("f1", &q).await));
        let notes = |events: Vec<AuditEvent>| {
            events
                .into_iter()
                .map(|e| match e.kind {
                    AuditKind::EmailSkipped { reason } => reason,
                    other => format!("{other:?}"),
                })
                .collect::<Vec<_>>()
        };
        out.push(outcome(store.events("f1", &p).await.map(notes)));
        out.push(outcome(store.events("f1", &q).await.map(notes)));
        out
    })
    .await;
    assert_eq!(
        outcomes,
        vec![
            "ok ()",
            "version_conflict commit",
            "ok ()",
            "version_conflict commit",
            "ok ()",
            "version_conflict commit",
            "version_conflict commit",
            "ok ()",
            "version_conflict commit",
            "ok Some((2, OptedIn))",
            "ok None",
            r#"ok ["a", "b", "c"]"#,
            r#"ok ["d"]"#,
        ]
    );
}

async fn inbound_ids_apply_once_and_version_wins_over_duplicate(backend: Backend) {
    let outcomes = same_on_both(backend.store("commit-inbound").await, |store| async move {
        let p = phone(1);
        let mut out = Vec::new();
        let with_inbound = |expected, version, id: &str, firm: &str, head: Option<String>| {
            let mut record = record(firm, &p, version, ConsentStatus::OptedIn);
            record.audit_head = head;
            ConsentWrite {
                inbound_message_id: Some(id.to_string()),
                ..ConsentWrite::new(firm, &p, expected, Some(record), vec![event(id)])
            }
        };
        let first = with_inbound(None, 1, "m1", "f1", None);
        // Updates are built from the record as written: they carry its chain head.
        let head = first.record.as_ref().and_then(|r| r.audit_head.clone());
        let with_inbound = |expected: Option<u64>, version, id: &str, firm: &str| {
            let head = if expected.is_some() {
                head.clone()
            } else {
                None
            };
            with_inbound(expected, version, id, firm, head)
        };
        out.push(outcome(store.commit(first).await));
        // The same message again, with the right version: a duplicate, nothing written.
        out.push(outcome(
            store.commit(with_inbound(Some(1), 2, "m1", "f1")).await,
        ));
        // A stale version and a duplicate: the version conflict is reported.
        out.push(outcome(
            store.commit(with_inbound(Some(9), 2, "m1", "f1")).await,
        ));
        out.push(outcome(
            store.commit(with_inbound(Some(1), 2, "m2", "f1")).await,
        ));
        // The same message id at another firm is another message.
        out.push(outcome(
            store.commit(with_inbound(None, 1, "m1", "f2")).await,
        ));
        out.push(outcome(
            store
                .get_consent("f1", &p)
                .await
                .map(|r| r.map(|r| r.version)),
        ));
        out.push(outcome(store.events("f1", &p).await.map(|e| e.len())));
        out
    })
    .await;
    assert_eq!(
        outcomes,
        vec![
            "ok ()",
            "duplicate_inbound",
            "version_conflict commit",
            "ok ()",
            "ok ()",
            "ok Some(2)",
            "ok 2",
        ]
    );
}

async fn contacts_and_deferred_sends_are_written_with_the_record(backend: Backend) {
    let store = backend.store("commit-extras").await;
    let p = phone(1);
    let contact = Contact {
        firm_id: "f1".to_string(),
        contact_id: "c-1".to_string(),
        phone: p.clone(),
        email: Some("ana@example.com".to_string()),
        first_name: Some("Ana".to_string()),
        last_name: None,
        source: Some("web".to_string()),
        time_zone: Some("America/Chicago".to_string()),
        created_at: t0(),
    };
    let send = deferred("01DEFERRED", t0() + Duration::hours(2));
    // A failed write stores neither.
    let failed = store
        .commit(ConsentWrite {
            contact: Some(contact.clone()),
            deferred: Some(send.clone()),
            ..ConsentWrite::new("f1", &p, Some(3), None, vec![event("x")])
        })
        .await;
    assert!(matches!(failed, Err(StoreError::VersionConflict { .. })));
    assert_eq!(store.get_contact("f1", "c-1").await.expect("read"), None);
    assert!(
        store
            .due_deferred(t0() + Duration::days(1), 10)
            .await
            .expect("due")
            .is_empty()
    );

    store
        .commit(ConsentWrite {
            contact: Some(contact.clone()),
            deferred: Some(send.clone()),
            ..ConsentWrite::new(
                "f1",
                &p,
                None,
                Some(record("f1", &p, 1, ConsentStatus::Pending)),
                vec![event("created")],
            )
        })
        .await
        .expect("commit");
    assert_eq!(
        store.get_contact("f1", "c-1").await.expect("read"),
        Some(contact)
    );
    assert_eq!(store.get_contact("f2", "c-1").await.expect("read"), None);
    assert_eq!(
        store
            .due_deferred(t0() + Duration::hours(2), 10)
            .await
            .expect("due"),
        vec![send]
    );
}

async fn a_write_larger_than_one_item_is_refused_before_sending(backend: Backend) {
    let store = backend.store("commit-too-big").await;
    let p = phone(1);
    // A write's events are one item: this many pass DynamoDB's 400 KB.
    let events = (0..4_000).map(|i| event(&i.to_string())).collect();
    let result = store
        .commit(ConsentWrite::new("f1", &p, None, None, events))
        .await;
    match result {
        Err(StoreError::Backend {
            retryable: false,
            source,
            ..
        }) => assert!(
            source.to_string().contains("larger than an item may be"),
            "{source}"
        ),
        other => panic!("expected a non-retryable backend error, got {other:?}"),
    }
}

async fn batch_get_reads_250_numbers_in_chunks(backend: Backend) {
    let store = backend.store("batch-get").await;
    for n in 0..250 {
        let p = phone(n);
        let status = if n % 2 == 0 {
            ConsentStatus::OptedIn
        } else {
            ConsentStatus::Pending
        };
        store
            .commit(ConsentWrite::new(
                "f1",
                &p,
                None,
                Some(record("f1", &p, 1, status)),
                Vec::new(),
            ))
            .await
            .expect("seed");
    }
    // 250 stored, 20 unknown, and a number asked for twice.
    let mut asked: Vec<PhoneNumber> = (0..270).map(phone).collect();
    asked.push(phone(7));
    let found = store.get_consents("f1", &asked).await.expect("batch get");
    assert_eq!(found.len(), 250);
    for n in 0..250 {
        let p = phone(n);
        let record = found.get(&p).unwrap_or_else(|| panic!("{n} missing"));
        assert_eq!(record.phone, p);
        let expected = if n % 2 == 0 {
            ConsentStatus::OptedIn
        } else {
            ConsentStatus::Pending
        };
        assert_eq!(record.status, expected);
    }
    assert!(!found.contains_key(&phone(260)));
    // Another firm's records are not this firm's.
    assert!(
        store
            .get_consents("f2", &asked)
            .await
            .expect("batch get")
            .is_empty()
    );
    assert!(
        store
            .get_consents("f1", &[])
            .await
            .expect("empty batch")
            .is_empty()
    );
}

// ---------------------------------------------------------------------------------------------
// Firms.

async fn firms_own_their_numbers_like_the_memory_store(backend: Backend) {
    let outcomes = same_on_both(backend.store("firms").await, |store| async move {
        let (n1, n2) = (phone(9001), phone(9002));
        let mut out = Vec::new();
        let put = |f: Firm, expected, previous: Option<PhoneNumber>, note: &str| {
            let store = store.clone();
            let events = vec![event(note)];
            async move {
                outcome(
                    store
                        .put_firm(&f, expected, previous.as_ref(), &events)
                        .await,
                )
            }
        };
        out.push(put(firm("a", &n1, 1), None, None, "a1").await);
        // Registering twice, and another firm on a's number.
        out.push(put(firm("a", &n1, 1), None, None, "lost").await);
        out.push(put(firm("b", &n1, 1), None, None, "lost").await);
        out.push(put(firm("b", &n2, 1), None, None, "b1").await);
        // A stale version and a taken number: the version conflict is reported.
        out.push(put(firm("b", &n1, 2), None, Some(n2.clone()), "lost").await);
        out.push(put(firm("b", &n1, 2), Some(1), Some(n2.clone()), "lost").await);
        // a moves to a new number; its old one is free for b.
        let n3 = phone(9003);
        out.push(put(firm("a", &n3, 2), Some(1), Some(n1.clone()), "a2").await);
        out.push(put(firm("b", &n1, 2), Some(1), Some(n2.clone()), "b2").await);
        // Saving without a number change keeps the route.
        out.push(put(firm("a", &n3, 3), Some(2), Some(n3.clone()), "a3").await);
        for n in [&n1, &n2, &n3] {
            out.push(outcome(store.firm_for_number(n).await));
        }
        out.push(outcome(
            store
                .get_firm("a")
                .await
                .map(|f| f.map(|f| (f.version, f.sms_number))),
        ));
        out.push(outcome(store.get_firm("zz").await));
        let notes = |events: Vec<AuditEvent>| {
            events
                .into_iter()
                .map(|e| match e.kind {
                    AuditKind::EmailSkipped { reason } => reason,
                    other => format!("{other:?}"),
                })
                .collect::<Vec<_>>()
        };
        out.push(outcome(store.firm_events("a").await.map(notes)));
        out.push(outcome(store.firm_events("b").await.map(notes)));
        // Listed once each, however often written; a page of one resumes after the last id.
        out.push(outcome(store.list_firm_ids(None, 10).await));
        out.push(outcome(store.list_firm_ids(None, 1).await));
        out.push(outcome(store.list_firm_ids(Some("a"), 1).await));
        out.push(outcome(store.list_firm_ids(Some("b"), 1).await));
        out
    })
    .await;
    assert_eq!(
        outcomes,
        vec![
            "ok ()",
            "version_conflict put_firm",
            "number_in_use",
            "ok ()",
            "version_conflict put_firm",
            "number_in_use",
            "ok ()",
            "ok ()",
            "ok ()",
            r#"ok Some("b")"#,
            "ok None",
            r#"ok Some("a")"#,
            "ok Some((3, PhoneNumber(+1415***9003)))",
            "ok None",
            r#"ok ["a1", "a2", "a3"]"#,
            r#"ok ["b1", "b2"]"#,
            r#"ok ["a", "b"]"#,
            r#"ok ["a"]"#,
            r#"ok ["b"]"#,
            "ok []",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Idempotency.

async fn idempotency_claims_like_the_memory_store(backend: Backend) {
    let outcomes = same_on_both(backend.store("idempotency").await, |store| async move {
        let now = t0();
        let hold = Duration::seconds(30);
        let response = StoredResponse {
            status: 202,
            body: serde_json::json!({"decision": "sent", "message_id": "m-1"}),
        };
        let mut out = Vec::new();
        let claim = |key: &'static str, hash: &'static str, at: DateTime<Utc>| {
            let store = store.clone();
            async move { outcome(store.claim(key, hash, at, at + hold).await) }
        };
        out.push(claim("k1", "h1", now).await);
        // Held: the same payload waits, another payload is refused.
        out.push(claim("k1", "h1", now + Duration::seconds(5)).await);
        out.push(claim("k1", "h2", now + Duration::seconds(5)).await);
        // Completing needs the claim's payload, and happens once.
        let expires = now + Duration::hours(24);
        out.push(outcome(
            store.complete("k1", "h2", &response, expires).await,
        ));
        out.push(outcome(
            store.complete("k1", "h1", &response, expires).await,
        ));
        out.push(outcome(
            store.complete("k1", "h1", &response, expires).await,
        ));
        out.push(outcome(
            store.complete("nope", "h1", &response, expires).await,
        ));
        // Replayed, even after the hold lapsed; another payload is refused.
        out.push(claim("k1", "h1", now + Duration::minutes(10)).await);
        out.push(claim("k1", "h2", now + Duration::minutes(10)).await);
        // A completed key is not released.
        out.push(outcome(store.release("k1").await));
        out.push(claim("k1", "h1", now + Duration::minutes(11)).await);
        // Once expired, the key is free again, for any payload.
        out.push(claim("k1", "h3", expires).await);
        // A crashed holder: after its hold lapses, the same payload takes over, another
        // payload is still refused.
        out.push(claim("k2", "h1", now).await);
        out.push(claim("k2", "h1", now + hold).await);
        out.push(claim("k2", "h9", now + Duration::minutes(5)).await);
        // Released after a failure: a retry claims again.
        out.push(outcome(store.release("k2").await));
        out.push(claim("k2", "h9", now + Duration::minutes(5)).await);
        out.push(outcome(store.release("never-claimed").await));
        // Kept by the consent write that finishes the request: replayed, and kept once; a
        // write that loses its race keeps nothing.
        out.push(claim("k3", "h1", now).await);
        let p = phone(3);
        let finishing = |expected, version, note: &str| {
            let mut write = ConsentWrite::new(
                "f1",
                &p,
                expected,
                Some(record("f1", &p, version, ConsentStatus::OptedIn)),
                vec![event(note)],
            );
            write.completes = Some(Completion {
                key: "k3".to_string(),
                payload_hash: "h1".to_string(),
                response: response.clone(),
                expires_at: expires,
            });
            write
        };
        out.push(outcome(store.commit(finishing(Some(7), 8, "stale")).await));
        out.push(claim("k3", "h1", now + Duration::seconds(1)).await);
        out.push(outcome(store.commit(finishing(None, 1, "sent")).await));
        out.push(claim("k3", "h1", now + Duration::seconds(2)).await);
        out.push(outcome(
            store.complete("k3", "h1", &response, expires).await,
        ));
        out
    })
    .await;
    let held_until = |secs: i64| {
        format!(
            "ok {:?}",
            IdempotencyClaim::InProgress {
                until: t0() + Duration::seconds(secs)
            }
        )
    };
    let completed = format!(
        "ok {:?}",
        IdempotencyClaim::Completed(StoredResponse {
            status: 202,
            body: serde_json::json!({"decision": "sent", "message_id": "m-1"}),
        })
    );
    assert_eq!(
        outcomes,
        vec![
            "ok Claimed".to_string(),
            held_until(30),
            "ok PayloadMismatch".to_string(),
            "version_conflict complete_idempotency".to_string(),
            "ok ()".to_string(),
            "version_conflict complete_idempotency".to_string(),
            "version_conflict complete_idempotency".to_string(),
            completed.clone(),
            "ok PayloadMismatch".to_string(),
            "ok ()".to_string(),
            completed.clone(),
            "ok Claimed".to_string(),
            "ok Claimed".to_string(),
            "ok Claimed".to_string(),
            "ok PayloadMismatch".to_string(),
            "ok ()".to_string(),
            "ok Claimed".to_string(),
            "ok ()".to_string(),
            "ok Claimed".to_string(),
            "version_conflict commit".to_string(),
            held_until(30),
            "ok ()".to_string(),
            completed,
            "version_conflict complete_idempotency".to_string(),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Deferred sends.

async fn deferred_sends_come_due_in_order_and_are_taken_once(backend: Backend) {
    let outcomes = same_on_both(backend.store("deferred").await, |store| async move {
        let now = t0();
        let p = phone(1);
        let sends = [
            deferred("D3", now - Duration::days(3)),
            deferred("D1", now - Duration::minutes(1)),
            deferred("D0", now - Duration::minutes(1)),
            deferred("D2", now - Duration::milliseconds(1)),
            deferred("D4", now),
            deferred("D5", now + Duration::nanoseconds(1_000)),
            deferred("D6", now + Duration::hours(10)),
        ];
        let mut version = None;
        for (i, send) in sends.iter().enumerate() {
            let next = u64::try_from(i + 1).unwrap_or(u64::MAX);
            store
                .commit(ConsentWrite {
                    deferred: Some(send.clone()),
                    ..ConsentWrite::new(
                        "f1",
                        &p,
                        version,
                        Some(record("f1", &p, next, ConsentStatus::OptedIn)),
                        Vec::new(),
                    )
                })
                .await
                .expect("defer");
            version = Some(next);
        }
        let ids = |sends: Vec<DeferredSend>| sends.into_iter().map(|s| s.id).collect::<Vec<_>>();
        let mut out = vec![
            outcome(store.due_deferred(now, 100).await.map(ids)),
            outcome(store.due_deferred(now, 2).await.map(ids)),
            outcome(store.due_deferred(now, 0).await.map(ids)),
        ];
        out.push(outcome(store.take_deferred(&sends[0]).await));
        out.push(outcome(store.take_deferred(&sends[0]).await));
        // A release's decision takes its send in the same transaction; a second one loses and
        // writes nothing (the record stays at version 8).
        for (expected, next) in [(7, 8), (8, 9)] {
            out.push(outcome(
                store
                    .commit(ConsentWrite {
                        takes_deferred: Some("D0".to_string()),
                        ..ConsentWrite::new(
                            "f1",
                            &p,
                            Some(expected),
                            Some(record("f1", &p, next, ConsentStatus::OptedIn)),
                            Vec::new(),
                        )
                    })
                    .await,
            ));
        }
        out.push(outcome(
            store
                .get_consent("f1", &p)
                .await
                .map(|r| r.map(|r| r.version)),
        ));
        out.push(outcome(store.due_deferred(now, 100).await.map(ids)));
        out.push(outcome(
            store
                .due_deferred(now + Duration::days(1), 100)
                .await
                .map(ids),
        ));
        out
    })
    .await;
    assert_eq!(
        outcomes,
        vec![
            r#"ok ["D3", "D0", "D1", "D2", "D4"]"#,
            r#"ok ["D3", "D0"]"#,
            "ok []",
            "ok true",
            "ok false",
            "ok ()",
            "deferred_taken",
            "ok Some(8)",
            r#"ok ["D1", "D2", "D4"]"#,
            r#"ok ["D1", "D2", "D4", "D5", "D6"]"#,
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Table setup and backend errors.

async fn ensure_table_is_idempotent_and_errors_keep_the_sdk_error(backend: Backend) {
    let client = aws_sdk_dynamodb::Client::new(&backend.sdk());
    ensure_table(&client, "twice").await.expect("first");
    ensure_table(&client, "twice").await.expect("second");
    let ttl = client
        .describe_time_to_live()
        .table_name("twice")
        .send()
        .await
        .expect("ttl");
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|d| d.attribute_name()),
        Some("ttl")
    );

    let missing = DynamoStore::new(client, "no-such-table");
    match missing.get_consent("f1", &phone(1)).await {
        Err(StoreError::Backend {
            operation,
            retryable,
            source,
        }) => {
            assert_eq!(operation, "get_consent");
            assert!(!retryable);
            assert!(
                source
                    .downcast_ref::<aws_sdk_dynamodb::error::SdkError<
                        aws_sdk_dynamodb::operation::get_item::GetItemError,
                        aws_sdk_dynamodb::config::http::HttpResponse,
                    >>()
                    .is_some(),
                "the SDK error is kept whole: {source:?}"
            );
        }
        other => panic!("expected a backend error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Sending.

#[tokio::test]
async fn sns_publishes_to_the_phone_number() {
    let moto = Moto::start().await;
    let sender = SnsSmsSender::new(aws_sdk_sns::Client::new(&moto.sdk()));
    let sms = OutgoingSms {
        from: phone(9001),
        to: phone(1),
        body: "Smith LLP: reply YES to get texts. STOP to end, HELP for help.".to_string(),
    };
    let message_id = sender.send_sms(&sms).await.expect("publish");
    assert!(!message_id.is_empty());
    let data = moto.data().await;
    let recorded = data["sns"]["SMS"]
        .as_array()
        .unwrap_or_else(|| panic!("no sns.SMS in {data}"));
    assert!(
        recorded
            .iter()
            .any(|m| m["message_id"] == message_id.as_str()
                && m["phone_number"] == "+14155550001"
                && m["message"] == sms.body.as_str()),
        "{recorded:?}"
    );
}

/// moto lists a fixed set of opted-out numbers in one page (`MOTO_OPTED_OUT`), and an opt-in
/// removes a number from it; it never refuses one (AWS does within 30 days of the last).
#[tokio::test]
async fn sns_lists_opted_out_numbers_and_lifts_one() {
    let moto = Moto::start().await;
    let sender = SnsSmsSender::new(aws_sdk_sns::Client::new(&moto.sdk()));
    let page = sender.opted_out_numbers(None).await.expect("list");
    assert_eq!(page.numbers, MOTO_OPTED_OUT);
    assert_eq!(page.next_token, None);
    let lifted = PhoneNumber::parse(MOTO_OPTED_OUT[0]).expect("a valid number");
    assert_eq!(
        sender.opt_in_number(&lifted).await.expect("opt in"),
        CarrierOptIn::OptedIn
    );
    let page = sender.opted_out_numbers(None).await.expect("list again");
    assert_eq!(page.numbers, MOTO_OPTED_OUT[1..]);
}

#[tokio::test]
async fn ses_sends_from_a_registered_identity() {
    let moto = Moto::start().await;
    let client = aws_sdk_sesv2::Client::new(&moto.sdk());
    let mailer = SesMailer::new(client.clone(), "consent@example.com", None);
    let email = OutgoingEmail {
        to: "ana@example.com".to_string(),
        subject: "Confirm texts from Smith LLP".to_string(),
        text: "Open https://c.example.com/confirm/t".to_string(),
        html: "<p>Open <a href=\"https://c.example.com/confirm/t\">the link</a></p>".to_string(),
    };
    // Before the identity exists SES refuses, and that is not worth retrying.
    match mailer.send_email(&email).await {
        Err(SendError::Provider {
            operation,
            retryable,
            ..
        }) => {
            assert_eq!(operation, "send_email");
            assert!(!retryable);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    ensure_sender_identity(&client, "consent@example.com")
        .await
        .expect("identity");
    ensure_sender_identity(&client, "consent@example.com")
        .await
        .expect("identity again");
    let message_id = mailer.send_email(&email).await.expect("send");
    let data = moto.data().await;
    let recorded = data["ses"]["Message"]
        .as_array()
        .unwrap_or_else(|| panic!("no ses.Message in {data}"));
    let sent = recorded
        .iter()
        .find(|m| m["id"] == message_id.as_str())
        .unwrap_or_else(|| panic!("{message_id} not in {recorded:?}"));
    assert_eq!(sent["source"], "consent@example.com");
    assert_eq!(sent["destinations"]["ToAddresses"][0], "ana@example.com");
    assert_eq!(sent["subject"], email.subject.as_str());
    assert_eq!(sent["body"], email.html.as_str());
}

// ---------------------------------------------------------------------------------------------
// Configuration.

const SECRET: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

fn lookup(vars: HashMap<&'static str, String>) -> impl Fn(&str) -> Option<String> {
    move |name| vars.get(name).cloned()
}

#[test]
fn config_names_every_missing_variable() {
    let error = AwsConfig::from_lookup(lookup(HashMap::from([(
        config::SES_FROM_ADDRESS,
        "a@example.com".to_string(),
    )])))
    .err();
    let Some(error @ ConfigError::Missing(_)) = error else {
        panic!("expected Missing, got {error:?}");
    };
    assert_eq!(
        error.to_string(),
        "missing environment variables: TABLE_NAME, CONFIRM_BASE_URL, \
         TOKEN_KEYS or TOKEN_KEYS_SECRET_ARN or TOKEN_KEYS_PARAMETER"
    );
}

#[tokio::test]
async fn token_keys_come_from_secrets_manager_or_ssm() {
    let moto = Moto::start().await;
    let sdk = moto.sdk();
    let secret = aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name("consent/token-keys")
        .secret_string(format!("k2:{SECRET},k1:{SECRET}"))
        .send()
        .await
        .expect("secret");
    aws_sdk_ssm::Client::new(&sdk)
        .put_parameter()
        .name("/consent/token-keys")
        .value(format!(r#"{{"TOKEN_KEYS":"p1:{SECRET}"}}"#))
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .expect("parameter");
    let base = || {
        HashMap::from([
            (config::TABLE_NAME, "wiring".to_string()),
            (
                config::CONFIRM_BASE_URL,
                "https://c.example.com".to_string(),
            ),
            (config::SES_FROM_ADDRESS, "consent@example.com".to_string()),
        ])
    };

    let mut vars = base();
    vars.insert(
        config::TOKEN_KEYS_SECRET_ARN,
        secret.arn().expect("arn").to_string(),
    );
    let from_secret = AwsConfig::from_lookup(lookup(vars)).expect("config");
    assert!(matches!(
        from_secret.token_keys,
        Some(TokenKeySource::SecretsManager(_))
    ));
    let ring = from_secret
        .token_keyring(&sdk)
        .await
        .expect("keyring")
        .expect("token keys configured");
    assert_eq!(ring.current.id, "k2");
    assert_eq!(ring.previous.len(), 1);

    let mut vars = base();
    vars.insert(
        config::TOKEN_KEYS_PARAMETER,
        "/consent/token-keys".to_string(),
    );
    let from_parameter = AwsConfig::from_lookup(lookup(vars)).expect("config");
    assert_eq!(
        from_parameter
            .token_keyring(&sdk)
            .await
            .expect("keyring")
            .expect("token keys configured")
            .current
            .id,
        "p1"
    );

    let mut vars = base();
    vars.insert(config::TOKEN_KEYS_PARAMETER, "/consent/absent".to_string());
    let absent = AwsConfig::from_lookup(lookup(vars)).expect("config");
    assert!(matches!(
        absent.token_keyring(&sdk).await,
        Err(ConfigError::TokenKeysUnavailable { .. })
    ));

    // The whole wiring over moto: the flows read through the DynamoDB store.
    ensure_table(&aws_sdk_dynamodb::Client::new(&sdk), "wiring")
        .await
        .expect("table");
    let services = consent_aws::services(&sdk, &from_secret, Arc::new(SystemClock))
        .await
        .expect("services");
    assert!(
        services
            .store
            .get_firm("nobody")
            .await
            .expect("read")
            .is_none()
    );
}

async fn records_are_listed_by_status_like_the_memory_store(backend: Backend) {
    let outcomes = same_on_both(backend.store("list-consents").await, |store| async move {
        let statuses = [
            ConsentStatus::Pending,
            ConsentStatus::OptedIn,
            ConsentStatus::OptedOut,
            ConsentStatus::OptedIn,
            ConsentStatus::Pending,
        ];
        for (n, status) in statuses.into_iter().enumerate() {
            let p = phone(10 + u32::try_from(n).unwrap_or(0));
            let write =
                ConsentWrite::new("f1", &p, None, Some(record("f1", &p, 1, status)), vec![]);
            store.commit(write).await.expect("written");
        }
        // Another firm's record never shows.
        let other = phone(10);
        let write = ConsentWrite::new(
            "f2",
            &other,
            None,
            Some(record("f2", &other, 1, ConsentStatus::OptedIn)),
            vec![],
        );
        store.commit(write).await.expect("written");
        // A status change moves the record in the listing.
        let moved = phone(14);
        let current = store.get_consent("f1", &moved).await.ok().flatten();
        if let Some(current) = current {
            let mut next = current.clone();
            next.version += 1;
            next.status = ConsentStatus::OptedOut;
            let write = ConsentWrite::new("f1", &moved, Some(current.version), Some(next), vec![]);
            store.commit(write).await.expect("written");
        }

        let show = |records: Vec<ConsentRecord>| {
            records
                .iter()
                .map(|r| format!("{} {}", r.status.as_str(), r.phone))
                .collect::<Vec<_>>()
        };
        let mut out = Vec::new();
        for status in [
            None,
            Some(ConsentStatus::OptedIn),
            Some(ConsentStatus::OptedOut),
        ] {
            out.push(outcome(
                store.list_consents("f1", status, None, 100).await.map(show),
            ));
        }
        // Two at a time, resuming after the last one seen.
        let mut after: Option<consent::ports::ConsentListPosition> = None;
        loop {
            let page = store
                .list_consents("f1", None, after.as_ref(), 2)
                .await
                .expect("a page");
            out.push(format!("page {:?}", show(page.clone())));
            match page.last() {
                Some(last) if page.len() == 2 => {
                    after = Some(consent::ports::ConsentListPosition::of(last));
                }
                _ => break,
            }
        }
        // Resuming within a status, after a position.
        let after = consent::ports::ConsentListPosition {
            status: ConsentStatus::OptedOut,
            phone: phone(12),
        };
        out.push(outcome(
            store
                .list_consents("f1", Some(ConsentStatus::OptedOut), Some(&after), 10)
                .await
                .map(show),
        ));
        out
    })
    .await;
    assert_eq!(
        outcomes,
        vec![
            r#"ok ["opted_in +14155550011", "opted_in +14155550013", "opted_out +14155550012", "opted_out +14155550014", "pending +14155550010"]"#,
            r#"ok ["opted_in +14155550011", "opted_in +14155550013"]"#,
            r#"ok ["opted_out +14155550012", "opted_out +14155550014"]"#,
            r#"page ["opted_in +14155550011", "opted_in +14155550013"]"#,
            r#"page ["opted_out +14155550012", "opted_out +14155550014"]"#,
            r#"page ["pending +14155550010"]"#,
            r#"ok ["opted_out +14155550014"]"#,
        ]
    );
}

async fn audit_events_never_expire_and_writes_keep_one_chain(backend: Backend) {
    let store = backend.store("retention").await;
    let outcomes = same_on_both(store.clone(), |store| async move {
        let p = phone(20);
        let mut out = Vec::new();
        let created = ConsentWrite::new(
            "f1",
            &p,
            None,
            Some(record("f1", &p, 1, ConsentStatus::Pending)),
            vec![event("a")],
        );
        let written = created.record.clone().expect("a record");
        out.push(outcome(store.commit(created).await));
        // Right version, old head (a stale copy of the record): refused, no fork.
        let mut stale = record("f1", &p, 2, ConsentStatus::OptedIn);
        stale.audit_head = None;
        out.push(outcome(
            store
                .commit(ConsentWrite::new(
                    "f1",
                    &p,
                    Some(1),
                    Some(stale),
                    vec![event("fork")],
                ))
                .await,
        ));
        let mut next = written.clone();
        next.version = 2;
        out.push(outcome(
            store
                .commit(ConsentWrite::new(
                    "f1",
                    &p,
                    Some(1),
                    Some(next),
                    vec![event("b")],
                ))
                .await,
        ));
        // A write of two events: one item, read back as two links of the chain.
        let mut third = store
            .get_consent("f1", &p)
            .await
            .ok()
            .flatten()
            .expect("the record");
        third.version = 3;
        out.push(outcome(
            store
                .commit(ConsentWrite::new(
                    "f1",
                    &p,
                    Some(2),
                    Some(third),
                    vec![event("c"), event(&long_note())],
                ))
                .await,
        ));
        let events = store.events("f1", &p).await.expect("events");
        let linked = events.len() == 4
            && events
                .windows(2)
                .all(|pair| pair[1].prev_hash == pair[0].hash)
            && events[0].prev_hash.as_deref()
                == Some(consent::evidence::chain::genesis("f1", p.as_str()).as_str());
        out.push(format!("linked {linked}"));
        let head = store
            .get_consent("f1", &p)
            .await
            .ok()
            .flatten()
            .and_then(|r| r.audit_head);
        out.push(format!("head {}", head == events[3].hash));
        out
    })
    .await;
    assert_eq!(
        outcomes,
        vec![
            "ok ()",
            "version_conflict commit",
            "ok ()",
            "ok ()",
            "linked true",
            "head true"
        ]
    );
    // Audit events are kept for good: no item of the partition but the inbound markers and
    // idempotency records (other partitions) has a TTL.
    let items = store
        .client()
        .query()
        .table_name(store.table())
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(
            ":pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("CONSENT#f1#{}", phone(20))),
        )
        .consistent_read(true)
        .send()
        .await
        .expect("query")
        .items
        .unwrap_or_default();
    let events: Vec<_> = items
        .iter()
        .filter(|item| {
            item.get("sk")
                .and_then(|v| v.as_s().ok())
                .is_some_and(|sk| sk.starts_with("EVT#"))
        })
        .collect();
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|item| !item.contains_key("ttl")));
    // The two-event item, over a write unit, is kept deflated, and keeps the second event's
    // prev_hash only by its `linked` mark.
    let pair = events
        .iter()
        .find(|item| {
            item.get("type").and_then(|v| v.as_s().ok())
                == Some(&"email_skipped,email_skipped".to_string())
        })
        .expect("the two-event item");
    assert_eq!(
        pair.get("linked"),
        Some(&aws_sdk_dynamodb::types::AttributeValue::Bool(true))
    );
    assert_eq!(pair.get("doc"), None);
    let packed = pair
        .get("doc_deflate")
        .and_then(|v| v.as_b().ok())
        .expect("a deflated doc");
    let mut doc = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::DeflateDecoder::new(packed.as_ref()),
        &mut doc,
    )
    .expect("the doc inflates");
    assert!(packed.as_ref().len() * 3 < doc.len());
    assert_eq!(doc.matches("prev_hash").count(), 1);
}

#[tokio::test]
async fn the_proof_key_comes_from_secrets_manager() {
    let moto = Moto::start().await;
    let sdk = moto.sdk();
    let secret = aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name("consent/proof-key")
        .secret_string(format!(r#"{{"PROOF_KEY":"proof-k1:{SECRET}"}}"#))
        .send()
        .await
        .expect("secret");
    let mut vars = HashMap::from([
        (config::TABLE_NAME, "proof-wiring".to_string()),
        (
            config::CONFIRM_BASE_URL,
            "https://c.example.com".to_string(),
        ),
        (config::SES_FROM_ADDRESS, "consent@example.com".to_string()),
        (config::TOKEN_KEYS, format!("k1:{SECRET}")),
    ]);
    let missing = AwsConfig::from_lookup_with_proof_key(lookup(vars.clone())).err();
    assert_eq!(
        missing.map(|e| e.to_string()).unwrap_or_default(),
        "missing environment variables: PROOF_KEY or PROOF_KEY_SECRET_ARN"
    );
    vars.insert(
        config::PROOF_KEY_SECRET_ARN,
        secret.arn().expect("arn").to_string(),
    );
    let config = AwsConfig::from_lookup_with_proof_key(lookup(vars.clone())).expect("config");
    let services = consent_aws::services(&sdk, &config, Arc::new(SystemClock))
        .await
        .expect("services");
    let (key, _) = services.proof_key().await.expect("a proof key");
    assert_eq!(key.key_id, "proof-k1");

    vars.insert(config::PROOF_KEY_SECRET_ARN, "consent/absent".to_string());
    let absent = AwsConfig::from_lookup_with_proof_key(lookup(vars)).expect("config");
    assert!(matches!(
        absent.proof_signer(&sdk).await,
        Err(ConfigError::ProofKeyUnavailable { .. })
    ));
    // The services read the key on first use, not at start: they start, and a proof answers
    // "unavailable" (retryable) until the secret can be read.
    let services = consent_aws::services(&sdk, &absent, Arc::new(SystemClock))
        .await
        .expect("services start without reading the proof key");
    let error = services.proof_key().await.err();
    assert!(
        matches!(&error, Some(e @ FlowError::ProofKeyUnavailable(_)) if e.is_retryable()),
        "{error:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// DynamoDB Local against DynamoDB's documentation, where the store relies on it
// (docs/reliability.md, "DynamoDB Local").

/// A refused transaction names a reason per item, in order (`None` for those that would have
/// passed), which is how the store tells a version conflict from a duplicate inbound message; a
/// strongly consistent read of a GSI is refused, so the store reads its indexes without one;
/// and a transaction holds at most 100 items (`MAX_TRANSACTION_ITEMS`). All as DynamoDB
/// documents.
#[tokio::test]
async fn dynamodb_local_answers_as_dynamodb_documents_where_the_store_relies_on_it() {
    use aws_sdk_dynamodb::error::ProvideErrorMetadata;
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem};
    let dynamodb = DynamoDbLocal::shared().await;
    let client = dynamodb.client();
    let table = "documented";
    ensure_table(&client, table).await.expect("table");
    let s = |v: &str| AttributeValue::S(v.to_string());
    let put = |pk: &str, sk: &str, must_be_new: bool| {
        let put = Put::builder()
            .table_name(table)
            .item("pk", s(pk))
            .item("sk", s(sk));
        let put = if must_be_new {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put
        };
        TransactWriteItem::builder()
            .put(put.build().expect("put"))
            .build()
    };
    client
        .transact_write_items()
        .transact_items(put("a", "x", true))
        .transact_items(put("c", "x", true))
        .send()
        .await
        .expect("seed");

    let refused = client
        .transact_write_items()
        .transact_items(put("a", "x", true))
        .transact_items(put("b", "x", false))
        .transact_items(
            TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name(table)
                        .key("pk", s("c"))
                        .key("sk", s("x"))
                        .condition_expression("attribute_not_exists(pk)")
                        .build()
                        .expect("check"),
                )
                .build(),
        )
        .send()
        .await
        .expect_err("two conditions fail");
    let reasons: Vec<Option<&str>> = match refused.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
            .cancellation_reasons()
            .iter()
            .map(|r| r.code())
            .collect(),
        _ => panic!("expected a cancelled transaction, got {refused:?}"),
    };
    assert_eq!(
        reasons,
        vec![
            Some("ConditionalCheckFailed"),
            Some("None"),
            Some("ConditionalCheckFailed")
        ]
    );

    let consistent_index_read = client
        .query()
        .table_name(table)
        .index_name(consent_aws::keys::GSI1)
        .key_condition_expression("#pk = :due")
        .expression_attribute_names("#pk", consent_aws::keys::GSI1PK)
        .expression_attribute_values(":due", s(consent_aws::keys::DUE_PARTITION))
        .consistent_read(true)
        .send()
        .await
        .expect_err("consistent reads of a GSI are refused");
    assert_eq!(
        consistent_index_read
            .as_service_error()
            .and_then(|e| e.code()),
        Some("ValidationException")
    );

    let items = |n: usize| {
        (0..n)
            .map(|i| put("many", &i.to_string(), false))
            .collect::<Vec<_>>()
    };
    client
        .transact_write_items()
        .set_transact_items(Some(items(100)))
        .send()
        .await
        .expect("100 items in one transaction");
    let too_many = client
        .transact_write_items()
        .set_transact_items(Some(items(101)))
        .send()
        .await
        .expect_err("101 items are refused");
    assert_eq!(
        too_many.as_service_error().and_then(|e| e.code()),
        Some("ValidationException")
    );
}

/// A difference: DynamoDB Local's indexes show a write as soon as it is answered, where
/// DynamoDB's GSIs are eventually consistent (a send deferred a moment ago may be missing from
/// `due_deferred`, a changed record from an export page, for a moment). So the tests cannot
/// show that lag; the store tolerates it (a release's conditional delete settles a send listed
/// twice).
#[tokio::test]
async fn dynamodb_local_indexes_show_a_write_at_once() {
    let dynamodb = DynamoDbLocal::shared().await;
    let store = dynamodb.store("index-lag").await;
    let now = t0();
    let p = phone(30);
    let mut version = None;
    for i in 0..50u64 {
        let send = deferred(&format!("LAG{i:02}"), now - Duration::minutes(1));
        store
            .commit(ConsentWrite {
                deferred: Some(send.clone()),
                ..ConsentWrite::new(
                    "f1",
                    &p,
                    version,
                    Some(record("f1", &p, i + 1, ConsentStatus::OptedIn)),
                    Vec::new(),
                )
            })
            .await
            .expect("defer");
        version = Some(i + 1);
        let due = store.due_deferred(now, 100).await.expect("due");
        assert!(
            due.contains(&send),
            "write {i}: the index does not show it yet"
        );
    }
}
