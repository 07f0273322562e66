//! A batch of messages: one read of all the records, the numbers sent to concurrently, each
//! message's claim written on its own, and the provider's answers written together, a group
//! of numbers per write.

use std::collections::HashMap;

use futures_util::stream::{self, StreamExt};

use super::allow::log_unrecorded;
use super::{BATCH_CONCURRENCY, Delivered, KnownRecord, SendGate, SendOutcome, SendRequest};
use crate::flows::FlowError;
use crate::model::firm::Firm;
use crate::model::phone::PhoneNumber;
use crate::ports::{ConsentWrite, StoreError};

/// How many numbers' outcomes one write of a batch records: two items each (the record and
/// its `message_sent` event), within DynamoDB's 100 items per transaction, so that a batch of
/// n messages makes at most n + ceil(n / 25) writes.
pub const OUTCOMES_PER_WRITE: usize = 25;

/// A number's last outcome in a batch, not yet written: the record as the lane left it.
struct Unwritten {
    phone: PhoneNumber,
    known: KnownRecord,
    delivered: Delivered,
}

impl SendGate {
    /// Sends many messages, reading all their records in one batch; results in order. A
    /// failure of one message is reported in its place and does not stop the others. Messages
    /// to one number go in order, one after another; different numbers go concurrently, at
    /// most [`BATCH_CONCURRENCY`] at once (one after another, a batch of 1,000 would wait on
    /// 3,000 round trips: longer than a Lambda invocation or an HTTP API request may last).
    /// What the provider said of a number's message rides in the claim of its next one; the
    /// last ones are written together, [`OUTCOMES_PER_WRITE`] numbers per write, before the
    /// results are returned.
    pub async fn send_batch(
        &self,
        firm: &Firm,
        requests: &[SendRequest],
    ) -> Result<Vec<Result<SendOutcome, FlowError>>, FlowError> {
        // Each number's messages, by position, in the order given.
        let mut by_number: Vec<(PhoneNumber, Vec<usize>)> = Vec::new();
        let mut slot: HashMap<&PhoneNumber, usize> = HashMap::new();
        for (index, request) in requests.iter().enumerate() {
            let at = *slot.entry(&request.to).or_insert_with(|| {
                by_number.push((request.to.clone(), Vec::new()));
                by_number.len() - 1
            });
            by_number[at].1.push(index);
        }
        let phones: Vec<PhoneNumber> = by_number.iter().map(|(p, _)| p.clone()).collect();
        let mut found = self.store.get_consents(&firm.firm_id, &phones).await?;
        let lanes = by_number.into_iter().map(|(phone, indices)| {
            let mut known = KnownRecord::Seen(found.remove(&phone));
            async move {
                let mut results = Vec::with_capacity(indices.len());
                let mut unrecorded = None;
                for index in indices {
                    let request = &requests[index];
                    let result = self
                        .send_with(firm, request, &mut known, Some(&mut unrecorded))
                        .await;
                    results.push((index, result));
                }
                let unwritten = unrecorded.map(|delivered| Unwritten {
                    phone,
                    known,
                    delivered,
                });
                (results, unwritten)
            }
        });
        let mut results: Vec<Option<Result<SendOutcome, FlowError>>> =
            std::iter::repeat_with(|| None)
                .take(requests.len())
                .collect();
        let mut unwritten = Vec::new();
        let mut done = stream::iter(lanes).buffer_unordered(BATCH_CONCURRENCY);
        while let Some((lane, last)) = done.next().await {
            for (index, result) in lane {
                results[index] = Some(result);
            }
            unwritten.extend(last);
        }
        self.write_outcomes(firm, unwritten).await;
        // Every position was filled by its number's lane.
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or(Err(FlowError::Contention)))
            .collect())
    }

    /// Writes the numbers' last outcomes, [`OUTCOMES_PER_WRITE`] per write. A group that lost
    /// a race (a STOP came in meanwhile) is written number by number on fresh reads. A write
    /// that failed otherwise is logged: the messages went (or failed) as the results say, and
    /// the trail keeps their claims.
    async fn write_outcomes(&self, firm: &Firm, unwritten: Vec<Unwritten>) {
        let mut groups: Vec<Vec<Unwritten>> = Vec::new();
        let mut unwritten = unwritten.into_iter().peekable();
        while unwritten.peek().is_some() {
            groups.push(unwritten.by_ref().take(OUTCOMES_PER_WRITE).collect());
        }
        stream::iter(groups)
            .for_each_concurrent(BATCH_CONCURRENCY, |group| self.write_group(firm, group))
            .await;
    }

    async fn write_group(&self, firm: &Firm, group: Vec<Unwritten>) {
        let now = self.clock.now();
        let mut writes = Vec::with_capacity(group.len());
        let mut apart = Vec::new();
        for item in group {
            match &item.known {
                KnownRecord::Seen(Some(record)) => {
                    let mut next = record.next_version(now);
                    let event = item.delivered.apply(Some(&mut next));
                    writes.push((
                        ConsentWrite::new(
                            &firm.firm_id,
                            &item.phone,
                            Some(record.version),
                            Some(next),
                            vec![event],
                        ),
                        item,
                    ));
                }
                _ => apart.push(item),
            }
        }
        let (writes, items): (Vec<_>, Vec<_>) = writes.into_iter().unzip();
        match self.store.commit_all(writes).await {
            Ok(()) => {}
            Err(StoreError::VersionConflict { .. }) => apart.extend(items),
            Err(error) => {
                for item in &items {
                    log_unrecorded(&error, &item.delivered);
                }
            }
        }
        for item in apart {
            let written = self
                .update(firm, &item.phone, None, |record| {
                    vec![item.delivered.apply(record)]
                })
                .await;
            if let Err(error) = written {
                log_unrecorded(&error, &item.delivered);
            }
        }
    }
}
