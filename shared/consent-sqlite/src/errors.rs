//! The one mapping from SQLite's errors to the store port's: what a caller may retry, and the
//! operator's remedy for a store that cannot be used; and what opening the database can refuse.

use std::path::PathBuf;

use consent::ports::StoreError;
use rusqlite::ErrorCode;

/// A SQLite error as the store port reports it.
pub(crate) fn store_error(operation: &'static str, error: rusqlite::Error) -> StoreError {
    match unavailable_reason(&error) {
        Some(reason) => StoreError::Unavailable {
            operation,
            reason,
            source: Box::new(error),
        },
        None => StoreError::Backend {
            operation,
            retryable: false,
            source: Box::new(error),
        },
    }
}

/// The operator's remedy when `error` means the store cannot be used now (disk full, locked,
/// read-only, I/O); `None` for any other error.
pub(crate) fn unavailable_reason(error: &rusqlite::Error) -> Option<&'static str> {
    match error.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => {
            Some("the disk is full or the database reached its size limit")
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            Some("the database is locked by another connection")
        }
        Some(ErrorCode::ReadOnly) => Some("the database file is read-only"),
        Some(ErrorCode::SystemIoFailure) => Some("a disk read or write failed"),
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => {
            Some("the database file cannot be opened")
        }
        _ => None,
    }
}

/// The database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file could not be opened or created.
    #[error(
        "{path}: cannot open the database ({source}); check that the directory exists and is writable"
    )]
    Open {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The file is not a SQLite database.
    #[error("{path} is not a SQLite database; move it away or choose another data directory")]
    NotADatabase {
        /// The database file.
        path: PathBuf,
    },
    /// The file is another application's database.
    #[error("{path} is a SQLite database of another application; choose another data directory")]
    OtherApplication {
        /// The database file.
        path: PathBuf,
    },
    /// The database was written by a newer version of the service.
    #[error(
        "{path} has schema version {found}, newer than this build's {supported}; run the newer build, or restore a backup made for this one"
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// Preparing the database (settings, migrations) failed.
    #[error("{path}: preparing the database failed ({source})")]
    Prepare {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
}
