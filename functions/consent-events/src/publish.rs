//! The handler: a batch of stream records in, their feed events on the bus in record order, 10
//! per PutEvents call, and the records that did not get there reported back to Lambda as batch
//! item failures.
//!
//! Lambda resumes a shard from the lowest sequence number reported, so records after a failed
//! one are delivered again on the retry: the bus gets every event at least once, and a consumer
//! dedupes by `detail.id` (docs/architecture.md, "Events to the CRM").

use std::collections::HashMap;
use std::sync::Arc;

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

use crate::backoff::RetryPolicy;
use crate::bus::{EntryFailure, EntryOutcome, EventBus, MAX_ENTRIES_PER_PUT, PutError};
use crate::entry::BusEntry;
use crate::record::feed_event;

/// The log field the template's metric filter counts events not put on the bus by
/// (`{ $.fields.delivery = "failed" }`).
pub const DELIVERY_FAILED: &str = "failed";
/// The same field's value for a stream record that is no readable feed event.
pub const DELIVERY_UNREADABLE: &str = "unreadable";

/// What one invocation did with its batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Publication {
    /// Feed events the bus took.
    pub put: usize,
    /// Records that are no feed item's insert.
    pub ignored: usize,
    /// Records repeating an event id already in the batch (put once).
    pub duplicates: usize,
    /// Feed items whose record does not read as a feed event.
    pub unreadable: usize,
    /// Feed events the bus did not take, retries spent.
    pub undelivered: usize,
    /// The records to report, by sequence number (`None`: a record without one), in batch
    /// order.
    pub failed_records: Vec<Option<String>>,
}

impl Publication {
    /// The answer to Lambda. A record without a sequence number is reported with a null
    /// identifier, which Lambda takes as a failure of the whole batch (bisected from there).
    pub fn response(&self) -> DynamoDbEventResponse {
        let mut response = DynamoDbEventResponse::default();
        response.batch_item_failures = self
            .failed_records
            .iter()
            .map(|sequence| {
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = sequence.clone();
                failure
            })
            .collect();
        response
    }
}

/// One feed event to put, with the records (one, or more when repeated) that carried it.
struct Pending {
    entry: BusEntry,
    /// Each record's position in the batch and sequence number.
    records: Vec<(usize, Option<String>)>,
}

/// Why an entry was given up on.
enum Undelivered {
    /// The bus refused the entry.
    Refused(EntryFailure),
    /// The whole call failed.
    CallFailed(Arc<PutError>),
    /// The bus answered without an outcome for it.
    NoOutcome,
}

/// Puts the feed events of `event`'s records on `bus`, retrying refusals that `policy` allows;
/// reports unreadable feed records and undelivered events, never stopping at one.
pub async fn publish(bus: &dyn EventBus, event: &Event, policy: &RetryPolicy) -> Publication {
    let mut publication = Publication::default();
    let mut pending: Vec<Pending> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    // Failures by record position, so they are reported in batch order.
    let mut failed: Vec<(usize, Option<String>)> = Vec::new();
    for (position, record) in event.records.iter().enumerate() {
        let sequence = record.change.sequence_number.clone();
        let read = feed_event(record)
            .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
            .and_then(|feed| match feed {
                Some(feed) => BusEntry::of(&feed).map(Some).map_err(|e| Box::new(e) as _),
                None => Ok(None),
            });
        match read {
            Ok(None) => publication.ignored += 1,
            Ok(Some(entry)) => match by_id.get(&entry.event_id) {
                // The same event twice in one batch goes on the bus once; its records share
                // its fate.
                Some(&index) => {
                    publication.duplicates += 1;
                    if let Some(first) = pending.get_mut(index) {
                        first.records.push((position, sequence));
                    }
                }
                None => {
                    by_id.insert(entry.event_id.clone(), pending.len());
                    pending.push(Pending {
                        entry,
                        records: vec![(position, sequence)],
                    });
                }
            },
            Err(error) => {
                log_unreadable(record, error.as_ref());
                publication.unreadable += 1;
                failed.push((position, sequence));
            }
        }
    }
    for chunk in pending.chunks(MAX_ENTRIES_PER_PUT) {
        let given_up = put_chunk(bus, chunk, policy).await;
        publication.put += chunk.len() - given_up.len();
        publication.undelivered += given_up.len();
        for (index, reason) in given_up {
            let Some(pending) = chunk.get(index) else {
                continue;
            };
            log_undelivered(&pending.entry, &reason);
            failed.extend(pending.records.iter().cloned());
        }
    }
    failed.sort_by_key(|(position, _)| *position);
    publication.failed_records = failed.into_iter().map(|(_, sequence)| sequence).collect();
    tracing::info!(
        records = event.records.len(),
        put = publication.put,
        ignored = publication.ignored,
        duplicates = publication.duplicates,
        unreadable = publication.unreadable,
        undelivered = publication.undelivered,
        "feed events published"
    );
    publication
}

/// Puts one chunk (at most [`MAX_ENTRIES_PER_PUT`]), putting again what the bus refused for a
/// transient reason; returns the entries given up on, by index in the chunk.
async fn put_chunk(
    bus: &dyn EventBus,
    chunk: &[Pending],
    policy: &RetryPolicy,
) -> Vec<(usize, Undelivered)> {
    let attempts = policy.attempts.max(1);
    let mut outstanding: Vec<usize> = (0..chunk.len()).collect();
    let mut given_up = Vec::new();
    for attempt in 1..=attempts {
        if attempt > 1 {
            tokio::time::sleep(policy.jittered_delay(attempt - 1)).await;
        }
        let last = attempt == attempts;
        let entries: Vec<BusEntry> = outstanding
            .iter()
            .filter_map(|&i| chunk.get(i).map(|p| p.entry.clone()))
            .collect();
        let mut again = Vec::new();
        match bus.put(&entries).await {
            Ok(outcomes) => {
                for (slot, &index) in outstanding.iter().enumerate() {
                    match outcomes.get(slot) {
                        Some(EntryOutcome::Put) => {}
                        Some(EntryOutcome::Failed(failure)) if failure.is_retryable() && !last => {
                            again.push(index)
                        }
                        Some(EntryOutcome::Failed(failure)) => {
                            given_up.push((index, Undelivered::Refused(failure.clone())))
                        }
                        None if !last => again.push(index),
                        None => given_up.push((index, Undelivered::NoOutcome)),
                    }
                }
            }
            Err(error) if error.retryable && !last => again = outstanding.clone(),
            Err(error) => {
                let error = Arc::new(error);
                given_up.extend(
                    outstanding
                        .iter()
                        .map(|&index| (index, Undelivered::CallFailed(error.clone()))),
                );
            }
        }
        outstanding = again;
        if outstanding.is_empty() {
            break;
        }
    }
    given_up
}

/// The error line of a record that will go to the dead-letter queue.
fn log_unreadable(record: &EventRecord, error: &(dyn std::error::Error + Send + Sync)) {
    tracing::error!(
        delivery = DELIVERY_UNREADABLE,
        stream_event_id = %record.event_id,
        sequence_number = record.change.sequence_number.as_deref().unwrap_or(""),
        error = ?error,
        "a feed item's stream record is not a feed event; reported as failed, so after Lambda's \
         retries it goes to the dead-letter queue"
    );
}

/// The error line of an event the bus did not take (the template's metric filter counts these).
fn log_undelivered(entry: &BusEntry, reason: &Undelivered) {
    let (code, detail) = match reason {
        Undelivered::Refused(failure) => (
            failure.code.as_deref().unwrap_or(""),
            failure.message.clone().unwrap_or_default(),
        ),
        Undelivered::CallFailed(error) => ("", format!("{error:?}")),
        Undelivered::NoOutcome => ("", "the bus answered without this entry".to_string()),
    };
    tracing::error!(
        delivery = DELIVERY_FAILED,
        event_id = %entry.event_id,
        firm_id = %entry.firm_id,
        error_code = code,
        error = %detail,
        "feed event not put on the bus; its stream record is reported for Lambda to retry"
    );
}
