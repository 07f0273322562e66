//! Idempotent requests, in the Powertools manner: claim the key (with the payload's hash) before
//! the work, store the response with the work's last write (or after it), give the key back on
//! failure.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use super::{FlowError, Services};
use crate::ports::{Completion, IdempotencyClaim, StoreError, StoredResponse};

/// How long a completed response is replayed.
pub const RESPONSE_TTL_HOURS: i64 = 24;
/// How long a claim holds before a retry may take over (the holder is presumed dead).
pub const IN_PROGRESS_SECS: i64 = 30;
/// How many times keeping a response is tried before the response is answered unkept.
const COMPLETE_ATTEMPTS: usize = 3;

/// The hash identifying a request's payload (hex SHA-256 of its canonical JSON).
pub fn payload_hash(payload: &serde_json::Value) -> String {
    let bytes = serde_json::to_vec(payload).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A claimed idempotency key whose request is running: its response is kept by the consent
/// write that finishes the request where one can carry it, else on its own after the work.
#[derive(Debug)]
pub(crate) struct Keeping {
    key: String,
    payload_hash: String,
    /// Whether a write carrying the response committed.
    pub(crate) kept: bool,
}

impl Keeping {
    /// The response as a write carries it, kept for [`RESPONSE_TTL_HOURS`] from `now`.
    pub(crate) fn completion(&self, response: StoredResponse, now: DateTime<Utc>) -> Completion {
        Completion {
            key: self.key.clone(),
            payload_hash: self.payload_hash.clone(),
            response,
            expires_at: now + Duration::hours(RESPONSE_TTL_HOURS),
        }
    }
}

/// What claiming a request's key found.
pub(crate) enum KeyClaim {
    /// Done before: the stored response.
    Replay(StoredResponse),
    /// The key is this request's: run it.
    Run(Keeping),
}

impl Services {
    /// Runs `work` once per key: a repeat with the same payload gets the stored response (and
    /// `true`: replayed), a different payload `IdempotencyMismatch`, a repeat during the work
    /// `InProgress`.
    pub async fn idempotent<F, Fut>(
        &self,
        key: &str,
        payload: &serde_json::Value,
        work: F,
    ) -> Result<(StoredResponse, bool), FlowError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<StoredResponse, FlowError>>,
    {
        let keeping = match self.claim_key(key, payload).await? {
            KeyClaim::Replay(response) => return Ok((response, true)),
            KeyClaim::Run(keeping) => keeping,
        };
        let result = work().await;
        self.finish_keyed(keeping, result)
            .await
            .map(|response| (response, false))
    }

    /// Claims `key` for a request with `payload`: the stored response to replay, or the key
    /// to run under; `IdempotencyMismatch` for a different payload, `InProgress` while another
    /// call runs it.
    pub(crate) async fn claim_key(
        &self,
        key: &str,
        payload: &serde_json::Value,
    ) -> Result<KeyClaim, FlowError> {
        let hash = payload_hash(payload);
        let now = self.clock.now();
        match self
            .store
            .claim(key, &hash, now, now + Duration::seconds(IN_PROGRESS_SECS))
            .await?
        {
            IdempotencyClaim::Claimed => Ok(KeyClaim::Run(Keeping {
                key: key.to_string(),
                payload_hash: hash,
                kept: false,
            })),
            IdempotencyClaim::Completed(response) => Ok(KeyClaim::Replay(response)),
            IdempotencyClaim::PayloadMismatch => Err(FlowError::IdempotencyMismatch),
            IdempotencyClaim::InProgress { until } => {
                let wait = (until - now).num_seconds().max(1);
                Err(FlowError::InProgress {
                    retry_after_secs: u64::try_from(wait).unwrap_or(1),
                })
            }
        }
    }

    /// Finishes a keyed request with the work's result: keeps its response (unless the work's
    /// own write kept it), or gives the key back after a failure so the client's retry runs.
    pub(crate) async fn finish_keyed(
        &self,
        keeping: Keeping,
        result: Result<StoredResponse, FlowError>,
    ) -> Result<StoredResponse, FlowError> {
        let Keeping {
            key,
            payload_hash: hash,
            kept,
        } = keeping;
        match result {
            Ok(response) if kept => Ok(response),
            Ok(response) => {
                let expires = self.clock.now() + Duration::hours(RESPONSE_TTL_HOURS);
                // The work is done (messages may have gone out), so it is answered even when its
                // response cannot be kept: an error would make the client retry and do it again.
                // A transient failure to keep it is tried again first; if it still fails, a
                // repeat gets 409 until the claim lapses (IN_PROGRESS_SECS) and then runs again.
                for attempt in 1..=COMPLETE_ATTEMPTS {
                    match self.store.complete(&key, &hash, &response, expires).await {
                        Ok(()) => break,
                        Err(error) if error.is_retryable() && attempt < COMPLETE_ATTEMPTS => {
                            if matches!(error, StoreError::VersionConflict { .. }) {
                                // Kept already (an earlier try's answer was lost), or taken over.
                                break;
                            }
                        }
                        Err(error) => {
                            tracing::warn!(error = %error, "could not keep an idempotent response");
                            break;
                        }
                    }
                }
                Ok(response)
            }
            Err(error) => {
                // A failed release only delays the client's retry until the claim lapses.
                if let Err(release) = self.store.release(&key).await {
                    tracing::warn!(error = %release, "could not release an idempotency key");
                }
                Err(error)
            }
        }
    }
}
