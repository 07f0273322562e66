//! Idempotency records: claimed, completed or released under the same rule every store decides
//! with ([`decide_claim`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use consent::ports::{
    Completion, IdempotencyClaim, IdempotencyStore, KeptClaim, StoreError, StoredResponse,
    decide_claim,
};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::codec::{from_doc, from_micros, micros, to_doc};
use crate::database::SqliteStore;
use crate::errors::store_error;

#[async_trait]
impl IdempotencyStore for SqliteStore {
    async fn claim(
        &self,
        key: &str,
        payload_hash: &str,
        now: DateTime<Utc>,
        in_progress_until: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StoreError> {
        const OPERATION: &str = "claim_idempotency";
        let key = key.to_string();
        let payload_hash = payload_hash.to_string();
        self.db
            .write(OPERATION, move |tx| {
                let sql = |e| store_error(OPERATION, e);
                let kept = tx
                    .prepare_cached(
                        "SELECT payload_hash, response, in_progress_until, expires_at
                         FROM idempotency WHERE key = ?1",
                    )
                    .and_then(|mut s| {
                        s.query_row([&key], |row| {
                            Ok(KeptClaim {
                                payload_hash: row.get(0)?,
                                response: row
                                    .get::<_, Option<String>>(1)?
                                    .map(|doc| from_doc(1, &doc))
                                    .transpose()?,
                                in_progress_until: from_micros(2, row.get(2)?)?,
                                expires_at: row
                                    .get::<_, Option<i64>>(3)?
                                    .map(|at| from_micros(3, at))
                                    .transpose()?,
                            })
                        })
                        .optional()
                    })
                    .map_err(sql)?;
                if let Some(claim) = kept.and_then(|kept| decide_claim(kept, &payload_hash, now)) {
                    return Ok(claim);
                }
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO idempotency
                     (key, payload_hash, in_progress_until, response, expires_at)
                     VALUES (?1, ?2, ?3, NULL, NULL)",
                )
                .and_then(|mut s| s.execute(params![key, payload_hash, micros(in_progress_until)]))
                .map_err(sql)?;
                Ok(IdempotencyClaim::Claimed)
            })
            .await
    }

    async fn complete(
        &self,
        key: &str,
        payload_hash: &str,
        response: &StoredResponse,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const OPERATION: &str = "complete_idempotency";
        let doc = to_doc(OPERATION, response)?;
        let key = key.to_string();
        let payload_hash = payload_hash.to_string();
        self.db
            .write(OPERATION, move |tx| {
                let completed = tx
                    .prepare_cached(
                        "UPDATE idempotency SET response = ?3, expires_at = ?4
                         WHERE key = ?1 AND payload_hash = ?2 AND response IS NULL",
                    )
                    .and_then(|mut s| {
                        s.execute(params![key, payload_hash, doc, micros(expires_at)])
                    })
                    .map_err(|e| store_error(OPERATION, e))?;
                if completed == 0 {
                    return Err(StoreError::VersionConflict {
                        operation: OPERATION,
                    });
                }
                Ok(())
            })
            .await
    }

    async fn release(&self, key: &str) -> Result<(), StoreError> {
        const OPERATION: &str = "release_idempotency";
        let key = key.to_string();
        self.db
            .write(OPERATION, move |tx| {
                tx.prepare_cached("DELETE FROM idempotency WHERE key = ?1 AND response IS NULL")
                    .and_then(|mut s| s.execute([&key]))
                    .map_err(|e| store_error(OPERATION, e))?;
                Ok(())
            })
            .await
    }
}

/// Keeps a completion riding in a consent write (`response`: its response encoded), whatever
/// the key's row holds: see [`Completion`].
pub(crate) fn keep(
    tx: &Transaction<'_>,
    completion: &Completion,
    response: &str,
) -> rusqlite::Result<()> {
    let expires = micros(completion.expires_at);
    tx.prepare_cached(
        "INSERT INTO idempotency (key, payload_hash, in_progress_until, response, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?3)
         ON CONFLICT (key) DO UPDATE SET payload_hash = excluded.payload_hash,
             response = excluded.response, expires_at = excluded.expires_at",
    )?
    .execute(params![
        completion.key,
        completion.payload_hash,
        expires,
        response
    ])?;
    Ok(())
}
