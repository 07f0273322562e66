//! Deferred sends: released through the gate again once the recipient's window opens.

use super::send::{SendOutcome, SendRequest};
use super::{FlowError, Services};

/// How many due sends one release pass takes.
pub const RELEASE_BATCH: usize = 100;

/// What one release pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseReport {
    /// Sends taken from the queue.
    pub taken: usize,
    /// Sent now.
    pub sent: usize,
    /// Deferred again (the window closed meanwhile).
    pub deferred: usize,
    /// Blocked at release (e.g. an opt-out came in between).
    pub blocked: usize,
    /// Failed at the provider (kept for a retry).
    pub failed: usize,
}

impl Services {
    /// Releases every send due now, each through the gate again (an opt-out in between wins).
    pub async fn release_due(&self) -> Result<ReleaseReport, FlowError> {
        let mut report = ReleaseReport::default();
        let due = self
            .store
            .due_deferred(self.clock.now(), RELEASE_BATCH)
            .await?;
        for send in due {
            // Taking it first means two releasers never both send it.
            if !self.store.take_deferred(&send).await? {
                continue;
            }
            report.taken += 1;
            let firm = match self.firm(&send.firm_id).await {
                Ok(firm) => firm,
                Err(FlowError::FirmNotFound) => {
                    report.blocked += 1;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let request = SendRequest {
                to: send.to.clone(),
                kind: send.kind,
                category: send.category,
                body: send.body.clone(),
                idempotency_key: send.idempotency_key.clone(),
            };
            match self.gate.send(&firm, &request).await {
                Ok(SendOutcome::Sent { .. }) => report.sent += 1,
                Ok(SendOutcome::Deferred { .. }) => report.deferred += 1,
                Ok(SendOutcome::Blocked { .. }) => report.blocked += 1,
                Err(error) if error.is_retryable() => {
                    report.failed += 1;
                    tracing::warn!(error = %error, "deferred send failed; it will be retried");
                    // Put it back through the gate later: a new deferral records it.
                    let mut retry = send.clone();
                    retry.not_before = self.clock.now() + chrono::Duration::minutes(1);
                    self.store
                        .commit(crate::ports::ConsentWrite {
                            deferred: Some(retry),
                            ..crate::ports::ConsentWrite::new(
                                &firm.firm_id,
                                &send.to,
                                self.store
                                    .get_consent(&firm.firm_id, &send.to)
                                    .await?
                                    .map(|r| r.version),
                                None,
                                Vec::new(),
                            )
                        })
                        .await?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }
}
