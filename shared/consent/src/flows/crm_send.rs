//! The CRM's sends: one message, or a batch in the order given. A message with an idempotency
//! key goes under its own idempotency record, so a retried request re-sends none of its keyed
//! messages; runs of unkeyed messages in a batch share one batch read.

use serde_json::json;

use super::idempotency::KeyClaim;
use super::send::{SendOutcome, SendRequest};
use super::{FlowError, Services};
use crate::model::firm::Firm;
use crate::ports::StoredResponse;

impl SendOutcome {
    /// The status and body the CRM gets for this decision (kept as is for a replay): 403 when
    /// blocked, else 202.
    pub fn response(&self) -> StoredResponse {
        let status = match self {
            SendOutcome::Blocked { .. } => 403,
            _ => 202,
        };
        StoredResponse {
            status,
            body: json!(self),
        }
    }
}

impl Services {
    /// Sends one message from the CRM through the gate, once per idempotency key if it has
    /// one: a repeat with the same key and payload gets the first answer and sends nothing.
    /// The answer is kept with the write that records the provider's id (or the deferral or
    /// block), so a crash between the two cannot let a retry send again.
    pub async fn send_from_crm(
        &self,
        firm: &Firm,
        request: &SendRequest,
    ) -> Result<StoredResponse, FlowError> {
        let Some(key) = &request.idempotency_key else {
            return self.gate.send(firm, request).await.map(|o| o.response());
        };
        let scoped = format!("gate#{}#{key}", firm.firm_id);
        let payload =
            json!({ "to": request.to, "body": request.body, "category": request.category });
        let mut keeping = match self.claim_key(&scoped, &payload).await? {
            KeyClaim::Replay(response) => return Ok(response),
            KeyClaim::Run(keeping) => keeping,
        };
        // The gate keeps the response in the write that finishes the message where it can.
        let result = self
            .gate
            .send_keeping(firm, request, &mut keeping)
            .await
            .map(|o| o.response());
        self.finish_keyed(keeping, result).await
    }

    /// Sends a batch from the CRM in the order given; results in order. Runs of unkeyed
    /// messages go through [`super::SendGate::send_batch`] with one batch read; a keyed message
    /// ends the run before it and goes alone, under its own idempotency record. A failure of
    /// one message is reported in its place; `Err` only when a whole run's read failed.
    pub async fn send_batch_from_crm(
        &self,
        firm: &Firm,
        requests: Vec<SendRequest>,
    ) -> Result<Vec<Result<StoredResponse, FlowError>>, FlowError> {
        let mut results: Vec<Option<Result<StoredResponse, FlowError>>> =
            std::iter::repeat_with(|| None)
                .take(requests.len())
                .collect();
        let mut run: Vec<(usize, SendRequest)> = Vec::new();
        for (index, request) in requests.into_iter().enumerate() {
            if request.idempotency_key.is_some() {
                self.send_run(firm, &mut run, &mut results).await?;
                results[index] = Some(self.send_from_crm(firm, &request).await);
            } else {
                run.push((index, request));
            }
        }
        self.send_run(firm, &mut run, &mut results).await?;
        // Every position was filled, by its run or alone.
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or(Err(FlowError::Contention)))
            .collect())
    }

    /// Sends a run of unkeyed messages with one batch read, filling their results in.
    async fn send_run(
        &self,
        firm: &Firm,
        run: &mut Vec<(usize, SendRequest)>,
        results: &mut [Option<Result<StoredResponse, FlowError>>],
    ) -> Result<(), FlowError> {
        if run.is_empty() {
            return Ok(());
        }
        let (indexes, requests): (Vec<usize>, Vec<SendRequest>) =
            std::mem::take(run).into_iter().unzip();
        let outcomes = self.gate.send_batch(firm, &requests).await?;
        for (index, outcome) in indexes.into_iter().zip(outcomes) {
            results[index] = Some(outcome.map(|o| o.response()));
        }
        Ok(())
    }
}
