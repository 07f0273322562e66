//! Deferred sends, found by due time through the index `deferred_sends_by_due` (DynamoDB's
//! `gsi1`), taken by exactly one releaser.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use consent::model::deferred::DeferredSend;
use consent::ports::{DeferredStore, StoreError};
use rusqlite::Transaction;

use crate::codec::{from_doc, micros};
use crate::database::SqliteStore;
use crate::errors::store_error;

#[async_trait]
impl DeferredStore for SqliteStore {
    async fn due_deferred(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<DeferredSend>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db.read("due_deferred", |tx| {
            tx.prepare_cached(
                "SELECT doc FROM deferred_sends WHERE not_before <= ?1
                 ORDER BY not_before, id LIMIT ?2",
            )?
            .query_map([micros(now), limit], |row| {
                from_doc(0, &row.get::<_, String>(0)?)
            })?
            .collect()
        })
    }

    async fn take_deferred(&self, send: &DeferredSend) -> Result<bool, StoreError> {
        const OPERATION: &str = "take_deferred";
        let id = send.id.clone();
        self.db
            .write(OPERATION, move |tx| {
                remove(tx, &id).map_err(|e| store_error(OPERATION, e))
            })
            .await
    }
}

/// Removes a deferred send in the caller's transaction; `true` if it was there (so exactly one
/// releaser takes it, alone or in its decision's write).
pub(crate) fn remove(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<bool> {
    let removed = tx
        .prepare_cached("DELETE FROM deferred_sends WHERE id = ?1")?
        .execute([id])?;
    Ok(removed == 1)
}
