//! Opening the database and running work on it: writes go to the writer thread, which commits
//! them in groups (`writer.rs`), so a sync never stalls the async workers; reads use a pool of
//! read-only connections.

use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use consent::ports::StoreError;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::errors::{OpenError, store_error};
use crate::schema;
use crate::writer::{self, Durability, GroupWrite, Write};

/// How long a statement waits for a lock another connection holds (a person's `sqlite3`
/// session, a checkpoint) before the call fails as unavailable; short, so a request answers 503
/// rather than hanging.
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// Read connections kept open between reads.
const POOLED_READERS: usize = 4;

/// The consent store on a SQLite database file.
#[derive(Clone)]
pub struct SqliteStore {
    pub(crate) db: Arc<Database>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.db.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the database at `path` with [`Durability::Full`], creating it (and migrating it
    /// to this build's schema) as needed. Reads nothing but the schema version: start-up costs
    /// the same at any size.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        Self::open_with(path, Durability::Full)
    }

    /// [`Self::open`] with the given durability.
    pub fn open_with(path: &Path, durability: Durability) -> Result<Self, OpenError> {
        let mut writer = Connection::open(path).map_err(|source| OpenError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        configure(&writer, path, durability)?;
        schema::migrate(&mut writer, path)?;
        let writes = writer::start(writer, durability).map_err(|e| OpenError::Prepare {
            path: path.to_path_buf(),
            source: rusqlite::Error::InvalidParameterName(format!(
                "cannot start the writer thread: {e}"
            )),
        })?;
        Ok(Self {
            db: Arc::new(Database {
                path: path.to_path_buf(),
                writes,
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.db.path
    }
}

/// The settings every connection runs with.
fn configure(
    connection: &Connection,
    path: &Path,
    durability: Durability,
) -> Result<(), OpenError> {
    let classify = |source: rusqlite::Error| match source.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => OpenError::NotADatabase {
            path: path.to_path_buf(),
        },
        _ => OpenError::Prepare {
            path: path.to_path_buf(),
            source,
        },
    };
    connection.busy_timeout(BUSY_TIMEOUT).map_err(classify)?;
    // WAL: readers never wait for the writer; the sync at commit is the durability's.
    let mode: String = connection
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(classify)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(OpenError::Prepare {
            path: path.to_path_buf(),
            source: rusqlite::Error::InvalidParameterName(format!(
                "journal_mode stayed {mode}, not wal"
            )),
        });
    }
    connection
        .execute_batch(durability.pragma())
        .map_err(classify)?;
    Ok(())
}

/// The connections of one database.
pub(crate) struct Database {
    path: PathBuf,
    /// Where writes go: the writer thread, which owns the write connection.
    writes: Sender<Box<dyn GroupWrite>>,
    readers: Mutex<Vec<Connection>>,
}

impl Database {
    /// Runs `work` in the writer's next transaction (in a savepoint of its own: a failure rolls
    /// back this write only); answers once the transaction committed as durably as the
    /// database's [`Durability`] says.
    pub(crate) async fn write<T, F>(
        &self,
        operation: &'static str,
        work: F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.submit(operation, true, work).await
    }

    /// [`Self::write`] without a sync of its own: the commit is on disk with the next synced
    /// one (or a checkpoint). For records that a synced write always follows, whose loss in a
    /// power cut between the two changes nothing (the local outbox: the `message_sent` record
    /// comes right after).
    pub(crate) async fn write_unsynced<T, F>(
        &self,
        operation: &'static str,
        work: F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.submit(operation, false, work).await
    }

    async fn submit<T, F>(
        &self,
        operation: &'static str,
        synced: bool,
        work: F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let (write, answer) = Write::boxed(operation, synced, work);
        self.writes
            .send(write)
            .map_err(|_| writer::stopped(operation))?;
        answer
            .await
            .unwrap_or_else(|_| Err(writer::stopped(operation)))
    }

    /// Runs `work` on a read-only connection, inside one read transaction so it sees a single
    /// committed state. Reads are short and never wait for a write (WAL), so they run inline.
    pub(crate) fn read<T>(
        &self,
        operation: &'static str,
        work: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let mut connection = self.reader().map_err(|e| store_error(operation, e))?;
        let result = connection
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .and_then(|transaction| {
                let value = work(&transaction)?;
                transaction.finish()?;
                Ok(value)
            });
        self.give_back(connection);
        result.map_err(|e| store_error(operation, e))
    }

    fn reader(&self) -> rusqlite::Result<Connection> {
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        if let Some(connection) = pooled {
            return Ok(connection);
        }
        let connection = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        connection.execute_batch("PRAGMA query_only = ON;")?;
        Ok(connection)
    }

    fn give_back(&self, connection: Connection) {
        let mut readers = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if readers.len() < POOLED_READERS {
            readers.push(connection);
        }
    }
}
