//! A batch of messages: one read of all the records, each number's first message claimed
//! together with those of up to [`CLAIMS_PER_WRITE`] - 1 other numbers, the numbers sent to
//! concurrently, and the provider's answers written together, a group of numbers per write.

use std::collections::HashMap;

use futures_util::stream::{self, StreamExt};

use super::allow::log_unrecorded;
use super::{
    BATCH_CONCURRENCY, Decided, Delivered, KnownRecord, Rider, SendGate, SendOutcome, SendRequest,
};
use crate::flows::FlowError;
use crate::flows::draft::Draft;
use crate::model::firm::Firm;
use crate::model::gate::MessageKind;
use crate::model::phone::PhoneNumber;
use crate::model::record::ConsentRecord;
use crate::ports::{ConsentWrite, StoreError};

/// How many numbers' outcomes one write of a batch records: two items each (the record and
/// its `message_sent` event), within DynamoDB's 100 items per transaction.
pub const OUTCOMES_PER_WRITE: usize = 25;

/// How many numbers' first messages one write of a batch claims: at most three items each
/// (the record, the decision's event, a deferred send), within DynamoDB's 100 items per
/// transaction. With [`OUTCOMES_PER_WRITE`], a batch of n messages to n numbers makes
/// 2 * ceil(n / 25) writes.
pub const CLAIMS_PER_WRITE: usize = 25;

/// How many groups of claims are written ahead of the lanes sending them: the next group is
/// committed while the lanes send the current one's messages.
const CLAIMS_AHEAD: usize = 2;

/// One number's messages in a batch, by position, in the order given.
struct Lane {
    phone: PhoneNumber,
    indices: Vec<usize>,
    known: KnownRecord,
    /// The first message's decision, committed with its group's (and the record as that write
    /// left it); `None`: the lane decides every message itself.
    first: Option<(Decided, Option<ConsentRecord>)>,
}

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
    /// Each number's first firm message is decided and claimed in one write with those of the
    /// next numbers, [`CLAIMS_PER_WRITE`] per write, a group or two ahead of the sending. What
    /// the provider said of a number's message rides in the claim of its next one; the last
    /// ones are written together, [`OUTCOMES_PER_WRITE`] numbers per write, before the
    /// results are returned.
    pub async fn send_batch(
        &self,
        firm: &Firm,
        requests: &[SendRequest],
    ) -> Result<Vec<Result<SendOutcome, FlowError>>, FlowError> {
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
        let lanes = by_number.into_iter().map(|(phone, indices)| Lane {
            known: KnownRecord::Seen(found.remove(&phone)),
            phone,
            indices,
            first: None,
        });
        let lanes = stream::iter(in_groups(lanes, CLAIMS_PER_WRITE))
            .map(|group| self.claim_first_messages(firm, requests, group))
            .buffered(CLAIMS_AHEAD)
            .flat_map(stream::iter)
            .map(|lane| self.send_lane(firm, requests, lane));
        let mut results: Vec<Option<Result<SendOutcome, FlowError>>> =
            std::iter::repeat_with(|| None)
                .take(requests.len())
                .collect();
        let mut unwritten = Vec::new();
        let mut done = lanes.buffer_unordered(BATCH_CONCURRENCY);
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

    /// Decides the first message of each lane in `group` on the record read and commits the
    /// decisions in one write. A lane whose first message is not a firm message (the opt-in
    /// request asks the carrier first), or whose group's write failed or lost a race, is left
    /// to decide that message itself (after a failed write, on a fresh read: the claims may
    /// have landed). One write for the group costs a conflict on one number a retry of all of
    /// them, one at a time; a conflict needs a reply within the milliseconds between the read
    /// and the claim, and the many writes it saves are paid on every batch.
    async fn claim_first_messages(
        &self,
        firm: &Firm,
        requests: &[SendRequest],
        mut group: Vec<Lane>,
    ) -> Vec<Lane> {
        let now = self.clock.now();
        let mut writes: Vec<ConsentWrite> = Vec::with_capacity(group.len());
        let mut decided: Vec<(usize, Decided, Option<ConsentRecord>)> = Vec::new();
        for (at, lane) in group.iter_mut().enumerate() {
            let Some(request) = lane.indices.first().map(|i| &requests[*i]) else {
                continue;
            };
            let KnownRecord::Seen(record) = &lane.known else {
                continue;
            };
            if request.kind != MessageKind::FirmMessage {
                continue;
            }
            let mut draft = Draft::over(&firm.firm_id, &request.to, record.as_ref(), now);
            match self.decide_into(firm, request, &mut draft, now).await {
                Ok(decision @ (Decided::Claimed(_) | Decided::Done(_))) => {
                    let write = draft.seal();
                    decided.push((at, decision, write.record.clone()));
                    writes.push(write);
                }
                // Not for a firm message; the lane decides again if it ever is.
                Ok(Decided::CarrierOptedOut) | Err(_) => {}
            }
        }
        match self.store.commit_all(writes).await {
            Ok(()) => {
                for (at, decision, written) in decided {
                    group[at].first = Some((decision, written));
                }
            }
            Err(error) => {
                if !matches!(error, StoreError::VersionConflict { .. }) {
                    tracing::warn!(error = %error, numbers = decided.len(),
                        "a group of claims failed; each number is claimed on its own");
                }
                for (at, _, _) in decided {
                    group[at].known = KnownRecord::Unread;
                }
            }
        }
        group
    }

    /// Sends one number's messages in order: the first as its group claimed it (if it did),
    /// the rest each deciding on the record as the previous one left it. Returns each
    /// message's result by position, and the last outcome, not yet written.
    async fn send_lane(
        &self,
        firm: &Firm,
        requests: &[SendRequest],
        lane: Lane,
    ) -> (
        Vec<(usize, Result<SendOutcome, FlowError>)>,
        Option<Unwritten>,
    ) {
        let Lane {
            phone,
            indices,
            mut known,
            first,
        } = lane;
        let mut results = Vec::with_capacity(indices.len());
        let mut unrecorded = None;
        let mut rest = indices.into_iter();
        // Only a claimed first message takes its position here.
        if let Some(claimed) = first
            && let Some(index) = rest.next()
        {
            let result = self
                .after_commit(
                    firm,
                    &requests[index],
                    claimed,
                    &mut known,
                    &mut Rider::BatchOutcome(&mut unrecorded),
                )
                .await;
            results.push((index, result));
        }
        for index in rest {
            let result = self
                .send_with(
                    firm,
                    &requests[index],
                    &mut known,
                    &mut Rider::BatchOutcome(&mut unrecorded),
                )
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

    /// Writes the numbers' last outcomes, [`OUTCOMES_PER_WRITE`] per write. A group that lost
    /// a race (a STOP came in meanwhile) is written number by number on fresh reads. A write
    /// that failed otherwise is logged: the messages went (or failed) as the results say, and
    /// the trail keeps their claims.
    async fn write_outcomes(&self, firm: &Firm, unwritten: Vec<Unwritten>) {
        stream::iter(in_groups(unwritten, OUTCOMES_PER_WRITE))
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

/// `items` in order, in groups of `size` (the last one smaller).
fn in_groups<T>(items: impl IntoIterator<Item = T>, size: usize) -> Vec<Vec<T>> {
    let mut items = items.into_iter().peekable();
    let mut groups = Vec::new();
    while items.peek().is_some() {
        groups.push(items.by_ref().take(size.max(1)).collect());
    }
    groups
}
