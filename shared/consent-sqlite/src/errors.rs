//! The one mapping from SQLite's errors to the store port's: what a caller may retry, and the
//! operator's remedy for a store that cannot be used.

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
