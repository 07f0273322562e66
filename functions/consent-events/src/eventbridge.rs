//! The event bus on Amazon EventBridge (`PutEvents`): the one place in the workspace that writes
//! to EventBridge.

use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use crate::bus::{EntryFailure, EntryOutcome, EventBus, PutError};
use crate::entry::{BusEntry, SOURCE};

/// One EventBridge bus, by name or ARN.
#[derive(Debug, Clone)]
pub struct EventBridgeBus {
    client: Client,
    bus: String,
}

impl EventBridgeBus {
    /// The bus `bus` (a name or an ARN) through `client`.
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        Self {
            client,
            bus: bus.into(),
        }
    }
}

/// PutEvents answered with a different number of results than it was given entries, so no
/// result can be matched to its entry.
#[derive(Debug, thiserror::Error)]
#[error("PutEvents answered {answered} results for {sent} entries")]
pub struct ResultCountMismatch {
    /// Entries sent.
    pub sent: usize,
    /// Results received.
    pub answered: usize,
}

#[async_trait]
impl EventBus for EventBridgeBus {
    async fn put(&self, entries: &[BusEntry]) -> Result<Vec<EntryOutcome>, PutError> {
        // No `Time`: EventBridge stamps when it took the event, which is what an archive replay's
        // window selects on; when the change happened is the detail's `occurred_at`.
        let request: Vec<PutEventsRequestEntry> = entries
            .iter()
            .map(|entry| {
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source(SOURCE)
                    .detail_type(entry.detail_type)
                    .detail(&entry.detail)
                    .build()
            })
            .collect();
        let output = self
            .client
            .put_events()
            .set_entries(Some(request))
            .send()
            .await
            .map_err(|error| PutError {
                retryable: consent_aws::errors::is_retryable(&error),
                source: Box::new(error),
            })?;
        let results = output.entries.unwrap_or_default();
        if results.len() != entries.len() {
            return Err(PutError {
                retryable: true,
                source: Box::new(ResultCountMismatch {
                    sent: entries.len(),
                    answered: results.len(),
                }),
            });
        }
        Ok(results
            .into_iter()
            .map(|result| match (result.error_code, result.event_id) {
                (None, Some(_)) => EntryOutcome::Put,
                (code, _) => EntryOutcome::Failed(EntryFailure {
                    code,
                    message: result.error_message,
                }),
            })
            .collect())
    }
}
