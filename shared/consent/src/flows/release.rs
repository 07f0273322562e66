//! Deferred sends: released through the gate again once the recipient's window opens.

use std::collections::HashMap;

use super::send::{SendOutcome, SendRequest, Taking};
use super::{Attempt, FlowError, Services, retry_on_conflict};
use crate::model::deferred::DeferredSend;
use crate::model::firm::Firm;
use crate::ports::{ConsentWrite, StoreError};

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
        // Each firm is read once per run (`None`: gone).
        let mut firms: HashMap<String, Option<Firm>> = HashMap::new();
        let due = self
            .store
            .due_deferred(self.clock.now(), RELEASE_BATCH)
            .await?;
        for send in due {
            let mut taking = Taking {
                send: &send,
                taken: false,
            };
            let result = self.release_one(&send, &mut firms, &mut taking).await;
            // Another releaser took it first: it decides it.
            if let Err(FlowError::Store(StoreError::DeferredTaken)) = result {
                continue;
            }
            if taking.taken {
                report.taken += 1;
            }
            match result {
                Ok(Some(SendOutcome::Sent { .. })) => report.sent += 1,
                Ok(Some(SendOutcome::Deferred { .. })) => report.deferred += 1,
                // Blocked at release, or the firm is gone.
                Ok(Some(SendOutcome::Blocked { .. }) | None) => report.blocked += 1,
                Err(error) if error.is_retryable() => {
                    report.failed += 1;
                    tracing::warn!(error = %error, "deferred send failed; it will be retried");
                    // Taken but not decided: put it back, through the gate again a minute
                    // later. Not taken: it is still queued and due, for the next pass.
                    if taking.taken {
                        self.requeue(&send).await?;
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }

    /// Sends one deferred send through the gate again, its decision's write taking it off the
    /// queue; `None` when its firm is gone (then it is only taken).
    async fn release_one(
        &self,
        send: &DeferredSend,
        firms: &mut HashMap<String, Option<Firm>>,
        taking: &mut Taking<'_>,
    ) -> Result<Option<SendOutcome>, FlowError> {
        let firm = match firms.get(&send.firm_id) {
            Some(firm) => firm.clone(),
            None => {
                let firm = match self.firm(&send.firm_id).await {
                    Ok(firm) => Some(firm),
                    Err(FlowError::FirmNotFound) => None,
                    Err(e) => return Err(e),
                };
                firms.insert(send.firm_id.clone(), firm.clone());
                firm
            }
        };
        let Some(firm) = firm else {
            taking.take_apart(self.store.as_ref()).await?;
            return Ok(None);
        };
        let request = SendRequest {
            to: send.to.clone(),
            kind: send.kind,
            category: send.category,
            body: send.body.clone(),
            idempotency_key: send.idempotency_key.clone(),
        };
        self.gate
            .send_taking(&firm, &request, taking)
            .await
            .map(Some)
    }

    /// Puts a taken send back in the queue, due a minute from now.
    async fn requeue(&self, send: &DeferredSend) -> Result<(), FlowError> {
        let mut retry = send.clone();
        retry.not_before = self.clock.now() + chrono::Duration::minutes(1);
        retry_on_conflict!(async {
            let version = self
                .store
                .get_consent(&send.firm_id, &send.to)
                .await?
                .map(|r| r.version);
            let write = ConsentWrite {
                deferred: Some(retry.clone()),
                ..ConsentWrite::new(&send.firm_id, &send.to, version, None, Vec::new())
            };
            match self.store.commit(write).await {
                Ok(()) => Ok(Attempt::Done(())),
                Err(StoreError::VersionConflict { .. }) => Ok(Attempt::Conflict),
                Err(e) => Err(e.into()),
            }
        })
    }
}
