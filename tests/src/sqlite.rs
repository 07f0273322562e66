//! The SQLite store on a database of its own for one test, removed when the test ends.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use consent_sqlite::{Durability, SqliteStore};

/// A fresh database in a temporary directory.
pub struct TempDatabase {
    /// The store on it.
    pub store: Arc<SqliteStore>,
    dir: PathBuf,
}

impl TempDatabase {
    /// A new, empty database; `name` only makes the directory recognisable.
    pub fn new(name: &str) -> Self {
        Self::with_durability(name, Durability::Full)
    }

    /// [`Self::new`] with the given durability.
    pub fn with_durability(name: &str, durability: Durability) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "consent-test-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("creating {}: {e}", dir.display());
        }
        match SqliteStore::open_with(&dir.join("consent.db"), durability) {
            Ok(store) => Self {
                store: Arc::new(store),
                dir,
            },
            Err(e) => panic!("opening a new database: {e}"),
        }
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
