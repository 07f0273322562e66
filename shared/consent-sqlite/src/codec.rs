//! How model values sit in columns: model types as JSON text (the DynamoDB store's `doc`), times
//! as microseconds since the epoch so they compare as integers.

use chrono::{DateTime, Utc};
use consent::ports::StoreError;
use rusqlite::types::Type;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A model value as the JSON text kept in a `doc` column.
pub(crate) fn to_doc<T: Serialize>(
    operation: &'static str,
    value: &T,
) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|source| StoreError::Backend {
        operation,
        retryable: false,
        source: Box::new(source),
    })
}

/// A `doc` column read back; a row that does not parse is a read error, never a default.
pub(crate) fn from_doc<T: DeserializeOwned>(column: usize, text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(column, Type::Text, Box::new(e)))
}

/// A time as kept: microseconds since the epoch.
pub(crate) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// A kept time read back.
pub(crate) fn from_micros(column: usize, value: i64) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(value)
        .ok_or(rusqlite::Error::IntegralValueOutOfRange(column, value))
}
