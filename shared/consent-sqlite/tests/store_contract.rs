//! The store contract (shared/consent/tests/store_contract/suite.rs, the same tests the
//! in-memory store passes) on the SQLite store, each test on a fresh database file.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use consent_sqlite::SqliteStore;

/// A store on a database in a directory of its own, removed when the test ends.
struct Subject {
    store: SqliteStore,
    dir: PathBuf,
}

impl std::ops::Deref for Subject {
    type Target = SqliteStore;
    fn deref(&self) -> &SqliteStore {
        &self.store
    }
}

impl Drop for Subject {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn new_store() -> Subject {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "consent-sqlite-contract-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let store = SqliteStore::open(&dir.join("consent.db")).expect("a new database opens");
    Subject { store, dir }
}

include!("../../consent/tests/store_contract/suite.rs");
