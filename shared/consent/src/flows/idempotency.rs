//! Idempotent requests, in the Powertools manner: claim the key (with the payload's hash) before
//! the work, store the response after it, give the key back on failure.

use chrono::Duration;
use sha2::{Digest, Sha256};

use super::{FlowError, Services};
use crate::ports::{IdempotencyClaim, StoreError, StoredResponse};

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
        let hash = payload_hash(payload);
        let now = self.clock.now();
        match self
            .store
            .claim(key, &hash, now, now + Duration::seconds(IN_PROGRESS_SECS))
            .await?
        {
            IdempotencyClaim::Claimed => {}
            IdempotencyClaim::Completed(response) => return Ok((response, true)),
            IdempotencyClaim::PayloadMismatch => return Err(FlowError::IdempotencyMismatch),
            IdempotencyClaim::InProgress { until } => {
                let wait = (until - now).num_seconds().max(1);
                return Err(FlowError::InProgress {
                    retry_after_secs: u64::try_from(wait).unwrap_or(1),
                });
            }
        }
        match work().await {
            Ok(response) => {
                let expires = self.clock.now() + Duration::hours(RESPONSE_TTL_HOURS);
                // The work is done (messages may have gone out), so it is answered even when its
                // response cannot be kept: an error would make the client retry and do it again.
                // A transient failure to keep it is tried again first; if it still fails, a
                // repeat gets 409 until the claim lapses (IN_PROGRESS_SECS) and then runs again.
                for attempt in 1..=COMPLETE_ATTEMPTS {
                    match self.store.complete(key, &hash, &response, expires).await {
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
                Ok((response, false))
            }
            Err(error) => {
                // Give the key back so the client's retry runs; a failed release only delays
                // that retry until the claim lapses.
                if let Err(release) = self.store.release(key).await {
                    tracing::warn!(error = %release, "could not release an idempotency key");
                }
                Err(error)
            }
        }
    }
}
