//! The database file itself: what a start-up refuses, what survives a reopen, listing and the
//! one-time import agreeing with the in-memory store, and a locked database failing a write.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration, Utc};
use consent::adapters::memory::MemoryStore;
use consent::model::phone::PhoneNumber;
use consent::model::record::{ConsentRecord, ConsentStatus};
use consent::model::transition::{ConsentEvent, apply};
use consent::ports::{
    ConsentListPosition, ConsentStore, ConsentWrite, IdempotencyStore, StoreError,
};
use consent_sqlite::{OpenError, SCHEMA_VERSION, SqliteStore};

fn temp_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "consent-sqlite-db-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

fn now() -> DateTime<Utc> {
    "2026-12-01T18:00:00Z".parse().expect("an instant")
}

fn phone(n: u32) -> PhoneNumber {
    PhoneNumber::parse(&format!("+1415555{n:04}")).expect("a number")
}

/// A new contact's record in `status`, with its `contact_created` event.
fn created(firm_id: &str, phone: &PhoneNumber, status: ConsentStatus) -> ConsentWrite {
    let event = ConsentEvent::ContactCreated {
        contact_id: "c-1".to_string(),
        source: None,
        email: None,
        double_opt_in: true,
        time_zone: None,
    };
    let transition = apply(None, firm_id, phone, event, now());
    let mut record = transition.record.expect("a new contact creates a record");
    record.status = status;
    ConsentWrite::new(firm_id, phone, None, Some(record), transition.events)
}

async fn create(
    store: &dyn ConsentStore,
    firm_id: &str,
    phone: &PhoneNumber,
    status: ConsentStatus,
) {
    store
        .commit(created(firm_id, phone, status))
        .await
        .expect("written");
}

#[test]
fn a_file_that_is_not_a_database_is_refused_naming_it() {
    let path = temp_dir().join("consent.db");
    std::fs::write(&path, "{\"firms\": {}}\n".repeat(200)).expect("a file");
    let error = SqliteStore::open(&path).expect_err("refused");
    assert!(matches!(error, OpenError::NotADatabase { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("not a SQLite database"), "{message}");
}

#[test]
fn a_database_of_another_application_is_refused() {
    let path = temp_dir().join("consent.db");
    let other = rusqlite::Connection::open(&path).expect("a database");
    other
        .execute_batch("CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('x');")
        .expect("another schema");
    drop(other);
    let error = SqliteStore::open(&path).expect_err("refused");
    assert!(
        matches!(error, OpenError::OtherApplication { .. }),
        "{error:?}"
    );
    let again = rusqlite::Connection::open(&path).expect("reopened");
    let songs: i64 = again
        .query_row("SELECT count(*) FROM songs", [], |row| row.get(0))
        .expect("still there");
    assert_eq!(songs, 1, "the other application's data is untouched");
}

#[test]
fn a_database_from_a_newer_schema_is_refused_with_both_versions() {
    let path = temp_dir().join("consent.db");
    drop(SqliteStore::open(&path).expect("created"));
    let newer = rusqlite::Connection::open(&path).expect("opened");
    newer
        .execute_batch(&format!("PRAGMA user_version = {};", SCHEMA_VERSION + 1))
        .expect("a newer version");
    drop(newer);
    let error = SqliteStore::open(&path).expect_err("refused");
    match &error {
        OpenError::NewerSchema {
            found, supported, ..
        } => {
            assert_eq!((*found, *supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("not a schema error: {other:?}"),
    }
    assert!(error.to_string().contains("newer"), "{error}");
}

#[tokio::test]
async fn what_was_committed_is_read_back_after_reopening() {
    let path = temp_dir().join("consent.db");
    let store = SqliteStore::open(&path).expect("created");
    create(&store, "f1", &phone(1), ConsentStatus::OptedIn).await;
    store
        .set_clock_offset(Some(Duration::hours(3)))
        .await
        .expect("kept");
    drop(store);
    let store = SqliteStore::open(&path).expect("reopened");
    let kept = store.get_consent("f1", &phone(1)).await.expect("read");
    assert_eq!(kept.map(|r| r.status), Some(ConsentStatus::OptedIn));
    assert_eq!(
        store.clock_offset().expect("read"),
        Some(Duration::hours(3))
    );
}

async fn listing(store: &dyn ConsentStore) -> Vec<String> {
    let statuses = [
        ConsentStatus::Pending,
        ConsentStatus::OptedIn,
        ConsentStatus::OptedOut,
        ConsentStatus::OptedIn,
        ConsentStatus::Pending,
    ];
    for (n, status) in (10..).zip(statuses) {
        create(store, "f1", &phone(n), status).await;
    }
    create(store, "f2", &phone(10), ConsentStatus::OptedIn).await;
    let show = |records: Vec<ConsentRecord>| {
        records
            .iter()
            .map(|r| format!("{} {}", r.status.as_str(), r.phone))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = Vec::new();
    for status in [
        None,
        Some(ConsentStatus::OptedIn),
        Some(ConsentStatus::Pending),
    ] {
        let page = store
            .list_consents("f1", status, None, 100)
            .await
            .expect("a page");
        out.push(show(page));
    }
    let mut after: Option<ConsentListPosition> = None;
    loop {
        let page = store
            .list_consents("f1", None, after.as_ref(), 2)
            .await
            .expect("a page");
        out.push(format!("page {}", show(page.clone())));
        match page.last() {
            Some(last) if page.len() == 2 => after = Some(ConsentListPosition::of(last)),
            _ => break,
        }
    }
    let after = ConsentListPosition {
        status: ConsentStatus::Pending,
        phone: phone(10),
    };
    let page = store
        .list_consents("f1", Some(ConsentStatus::Pending), Some(&after), 10)
        .await
        .expect("a page");
    out.push(show(page));
    out
}

#[tokio::test]
async fn records_are_listed_by_status_like_the_memory_store() {
    let sqlite = SqliteStore::open(&temp_dir().join("consent.db")).expect("created");
    let on_sqlite = listing(&sqlite).await;
    assert_eq!(on_sqlite, listing(&MemoryStore::new()).await);
    assert_eq!(
        on_sqlite,
        [
            "opted_in +14155550011, opted_in +14155550013, opted_out +14155550012, pending +14155550010, pending +14155550014",
            "opted_in +14155550011, opted_in +14155550013",
            "pending +14155550010, pending +14155550014",
            "page opted_in +14155550011, opted_in +14155550013",
            "page opted_out +14155550012, pending +14155550010",
            "page pending +14155550014",
            "pending +14155550014",
        ]
    );
}

#[tokio::test]
async fn an_imported_state_reads_back_as_the_memory_store_held_it_and_only_once() {
    let memory = MemoryStore::new();
    for n in 1..=3 {
        create(&memory, "f1", &phone(n), ConsentStatus::OptedIn).await;
    }
    let claim = memory
        .claim("k1", "h1", now(), now() + Duration::seconds(30))
        .await
        .expect("claimed");
    assert_eq!(claim, consent::ports::IdempotencyClaim::Claimed);
    let sqlite = SqliteStore::open(&temp_dir().join("consent.db")).expect("created");
    assert!(!sqlite.is_imported("store.json").expect("read"));
    let report = sqlite
        .import_state(memory.snapshot(), "store.json")
        .await
        .expect("imported");
    assert_eq!((report.consents, report.events), (3, 3));
    assert!(sqlite.is_imported("store.json").expect("read"));
    for n in 1..=3 {
        assert_eq!(
            sqlite.get_consent("f1", &phone(n)).await.expect("read"),
            memory.get_consent("f1", &phone(n)).await.expect("read")
        );
        assert_eq!(
            sqlite.events("f1", &phone(n)).await.expect("read"),
            memory.events("f1", &phone(n)).await.expect("read")
        );
    }
    let again = sqlite
        .claim("k1", "h1", now(), now() + Duration::seconds(30))
        .await
        .expect("read");
    assert!(
        matches!(again, consent::ports::IdempotencyClaim::InProgress { .. }),
        "the imported claim holds: {again:?}"
    );
}

#[tokio::test]
async fn a_write_while_another_connection_holds_the_lock_fails_as_unavailable() {
    let path = temp_dir().join("consent.db");
    let store = SqliteStore::open(&path).expect("created");
    let holder = rusqlite::Connection::open(&path).expect("a second connection");
    holder
        .execute_batch("BEGIN IMMEDIATE")
        .expect("the write lock");
    let refused = store
        .commit(created("f1", &phone(1), ConsentStatus::Pending))
        .await;
    match &refused {
        Err(error @ StoreError::Unavailable { reason, .. }) => {
            assert!(reason.contains("locked"), "{reason}");
            assert!(error.is_retryable());
        }
        other => panic!("not unavailable: {other:?}"),
    }
    holder.execute_batch("ROLLBACK").expect("released");
    assert_eq!(
        store.get_consent("f1", &phone(1)).await.expect("read"),
        None
    );
    create(&store, "f1", &phone(1), ConsentStatus::Pending).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_committed_together_each_keep_their_own_conditions() {
    let store =
        std::sync::Arc::new(SqliteStore::open(&temp_dir().join("consent.db")).expect("created"));
    // Forty distinct numbers and ten creates of one number, all at once: the writer commits
    // them in groups, and in every group a refused write must leave the others whole.
    let mut tasks = Vec::new();
    for n in 0..50u32 {
        let store = store.clone();
        let number = if n < 40 { phone(100 + n) } else { phone(999) };
        tasks.push(tokio::spawn(async move {
            store
                .commit(created("f1", &number, ConsentStatus::Pending))
                .await
                .map(|()| number)
        }));
    }
    let mut created_numbers = Vec::new();
    let mut conflicts = 0;
    for task in tasks {
        match task.await.expect("a writer task") {
            Ok(number) => created_numbers.push(number),
            Err(StoreError::VersionConflict { .. }) => conflicts += 1,
            Err(other) => panic!("unexpected: {other:?}"),
        }
    }
    assert_eq!(
        created_numbers.len(),
        41,
        "every distinct number and one of the ten"
    );
    assert_eq!(conflicts, 9);
    for number in &created_numbers {
        let events = store.events("f1", number).await.expect("read");
        assert_eq!(events.len(), 1, "each winner wrote its event once");
    }
    let feed = store.feed("f1", None, 1_000).await.expect("read");
    assert_eq!(
        feed.len(),
        41,
        "one feed event per created record, none for the refused"
    );
    assert!(
        feed.windows(2).all(|w| w[0].id < w[1].id),
        "in commit order"
    );
}
