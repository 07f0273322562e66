//! The handler against a fake bus: batching, retries of partial failures, unreadable records,
//! duplicates, and records that are none of its business.

use std::sync::Mutex;

use async_trait::async_trait;
use aws_lambda_events::event::dynamodb::Event;
use consent::model::feed::{FeedChange, FeedChannel, FeedEvent, ReplyKind};
use consent::model::phone::PhoneNumber;
use consent::model::record::{ConsentBasis, ConsentStatus};
use consent_events::{
    BusEntry, CONSENT_CHANGED, EntryFailure, EntryOutcome, EventBus, PutError, REPLY_RECEIVED,
    RetryPolicy, publish,
};
use serde_json::{Value, json};

/// Retries without waiting.
const QUICK: RetryPolicy = RetryPolicy {
    attempts: 4,
    base: std::time::Duration::from_millis(1),
    cap: std::time::Duration::from_millis(1),
};

/// What the fake bus answers to one entry on its `call`th call (from 1).
type Script = Box<dyn Fn(usize, &BusEntry) -> EntryOutcome + Send + Sync>;

/// A bus that records every call and answers by script (or fails whole calls while
/// `failing_calls` lasts).
struct FakeBus {
    calls: Mutex<Vec<Vec<BusEntry>>>,
    script: Script,
    failing_calls: usize,
    failing_retryable: bool,
}

impl FakeBus {
    fn taking_everything() -> Self {
        Self::scripted(Box::new(|_, _| EntryOutcome::Put))
    }

    fn scripted(script: Script) -> Self {
        Self {
            calls: Mutex::new(Vec::new()),
            script,
            failing_calls: 0,
            failing_retryable: true,
        }
    }

    fn calls(&self) -> Vec<Vec<BusEntry>> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Every event id put, in call order.
    fn ids(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .flatten()
            .map(|e| e.event_id)
            .collect()
    }
}

/// The error a failing call carries.
#[derive(Debug, thiserror::Error)]
#[error("the fake bus is down")]
struct Down;

#[async_trait]
impl EventBus for FakeBus {
    async fn put(&self, entries: &[BusEntry]) -> Result<Vec<EntryOutcome>, PutError> {
        assert!(entries.len() <= 10, "PutEvents takes 10 entries at most");
        let call = {
            let mut calls = self.calls.lock().expect("calls lock");
            calls.push(entries.to_vec());
            calls.len()
        };
        if call <= self.failing_calls {
            return Err(PutError {
                retryable: self.failing_retryable,
                source: Box::new(Down),
            });
        }
        Ok(entries.iter().map(|e| (self.script)(call, e)).collect())
    }
}

fn failure(code: &str) -> EntryOutcome {
    EntryOutcome::Failed(EntryFailure {
        code: Some(code.to_string()),
        message: Some(format!("{code} from the fake bus")),
    })
}

/// The `n`th event id of the tests: ULIDs in order.
fn event_id(n: usize) -> String {
    format!("01JQ0000000000000000000{n:03}")
}

fn consent_changed(firm: &str, n: usize) -> FeedEvent {
    FeedEvent {
        id: event_id(n),
        firm_id: firm.to_string(),
        occurred_at: "2026-12-01T18:00:00Z".parse().expect("an instant"),
        phone: PhoneNumber::parse("+14155550123").expect("a number"),
        contact_ids: vec![format!("c-{n}")],
        change: FeedChange::ConsentChanged {
            status: ConsentStatus::OptedOut,
            previous_status: Some(ConsentStatus::OptedIn),
            basis: ConsentBasis::SmsReply,
            channel: FeedChannel::Sms,
        },
    }
}

fn reply_received(firm: &str, n: usize) -> FeedEvent {
    FeedEvent {
        change: FeedChange::ReplyReceived {
            text: "Can I come in Tuesday?".to_string(),
            kind: ReplyKind::Other,
        },
        ..consent_changed(firm, n)
    }
}

/// A stream record in the shape Lambda hands it over (DynamoDB JSON), sequence number `seq`.
fn record(seq: usize, event_name: &str, pk: &str, sk: &str, doc: &str) -> Value {
    json!({
        "awsRegion": "us-east-1",
        "eventID": format!("stream-{seq}"),
        "eventName": event_name,
        "eventSource": "aws:dynamodb",
        "eventVersion": "1.1",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/consent/stream/2026",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_796_000_000.0,
            "Keys": { "pk": { "S": pk }, "sk": { "S": sk } },
            "NewImage": {
                "pk": { "S": pk },
                "sk": { "S": sk },
                "doc": { "S": doc },
                "type": { "S": "consent.changed" }
            },
            "SequenceNumber": format!("{:021}", seq),
            "SizeBytes": 200,
            "StreamViewType": "NEW_IMAGE"
        }
    })
}

fn feed_record(seq: usize, event: &FeedEvent) -> Value {
    let doc = serde_json::to_string(event).expect("a feed event serializes");
    record(
        seq,
        "INSERT",
        &format!("FEED#{}", event.firm_id),
        &event.id,
        &doc,
    )
}

fn batch(records: Vec<Value>) -> Event {
    serde_json::from_value(json!({ "Records": records })).expect("a DynamoDB stream event")
}

fn seq(n: usize) -> Option<String> {
    Some(format!("{n:021}"))
}

#[tokio::test]
async fn each_feed_event_goes_on_the_bus_as_the_feed_route_shows_it() {
    let bus = FakeBus::taking_everything();
    let changed = consent_changed("firm-1", 1);
    let reply = reply_received("firm-1", 2);
    let publication = publish(
        &bus,
        &batch(vec![feed_record(1, &changed), feed_record(2, &reply)]),
        &QUICK,
    )
    .await;
    assert_eq!(publication.put, 2);
    assert!(publication.failed_records.is_empty());
    assert!(publication.response().batch_item_failures.is_empty());
    let calls = bus.calls();
    assert_eq!(calls.len(), 1);
    let types: Vec<&str> = calls[0].iter().map(|e| e.detail_type).collect();
    assert_eq!(types, [CONSENT_CHANGED, REPLY_RECEIVED]);
    for (entry, event) in calls[0].iter().zip([&changed, &reply]) {
        let detail: Value = serde_json::from_str(&entry.detail).expect("detail is JSON");
        assert_eq!(detail, serde_json::to_value(event).expect("JSON"));
        assert_eq!(detail["id"], event.id.as_str());
        assert_eq!(detail["firm_id"], "firm-1");
    }
}

#[tokio::test]
async fn events_go_ten_to_a_call_in_stream_order() {
    let bus = FakeBus::taking_everything();
    let records = (1..=25)
        .map(|n| feed_record(n, &consent_changed("firm-1", n)))
        .collect();
    let publication = publish(&bus, &batch(records), &QUICK).await;
    assert_eq!(publication.put, 25);
    let sizes: Vec<usize> = bus.calls().iter().map(Vec::len).collect();
    assert_eq!(sizes, [10, 10, 5]);
    assert_eq!(bus.ids(), (1..=25).map(event_id).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_partial_put_events_failure_is_put_again_until_the_bus_takes_it() {
    // The second entry is throttled on the first two calls.
    let bus = FakeBus::scripted(Box::new(|call, entry| {
        if entry.event_id == event_id(2) && call <= 2 {
            failure("ThrottlingException")
        } else {
            EntryOutcome::Put
        }
    }));
    let records = (1..=3)
        .map(|n| feed_record(n, &consent_changed("firm-1", n)))
        .collect();
    let publication = publish(&bus, &batch(records), &QUICK).await;
    assert_eq!(publication.put, 3);
    assert!(publication.failed_records.is_empty());
    let calls: Vec<Vec<String>> = bus
        .calls()
        .into_iter()
        .map(|c| c.into_iter().map(|e| e.event_id).collect())
        .collect();
    assert_eq!(
        calls,
        [
            vec![event_id(1), event_id(2), event_id(3)],
            vec![event_id(2)],
            vec![event_id(2)],
        ]
    );
}

#[tokio::test]
async fn an_entry_the_bus_keeps_refusing_is_reported_as_its_record() {
    let bus = FakeBus::scripted(Box::new(|_, entry| {
        if entry.event_id == event_id(2) {
            failure("InternalFailure")
        } else {
            EntryOutcome::Put
        }
    }));
    let records = (1..=3)
        .map(|n| feed_record(n, &consent_changed("firm-1", n)))
        .collect();
    let publication = publish(&bus, &batch(records), &QUICK).await;
    assert_eq!(publication.put, 2);
    assert_eq!(publication.undelivered, 1);
    assert_eq!(publication.failed_records, [seq(2)]);
    // Bounded: the policy's four calls, then Lambda's retry takes over.
    assert_eq!(bus.calls().len(), 4);
    let response = publication.response();
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(response.batch_item_failures[0].item_identifier, seq(2));
}

#[tokio::test]
async fn an_entry_refused_for_good_is_not_put_again() {
    let bus = FakeBus::scripted(Box::new(|_, entry| {
        if entry.event_id == event_id(1) {
            failure("MalformedDetail")
        } else {
            EntryOutcome::Put
        }
    }));
    let records = (1..=2)
        .map(|n| feed_record(n, &consent_changed("firm-1", n)))
        .collect();
    let publication = publish(&bus, &batch(records), &QUICK).await;
    assert_eq!(bus.calls().len(), 1);
    assert_eq!(publication.failed_records, [seq(1)]);
    assert_eq!(publication.put, 1);
}

#[tokio::test]
async fn a_failed_call_is_retried_when_it_may_succeed_and_reported_when_not() {
    let records = || {
        (1..=2)
            .map(|n| feed_record(n, &consent_changed("firm-1", n)))
            .collect()
    };
    let mut flaky = FakeBus::taking_everything();
    flaky.failing_calls = 2;
    let publication = publish(&flaky, &batch(records()), &QUICK).await;
    assert_eq!(flaky.calls().len(), 3);
    assert_eq!(publication.put, 2);
    assert!(publication.failed_records.is_empty());

    let mut refusing = FakeBus::taking_everything();
    refusing.failing_calls = usize::MAX;
    refusing.failing_retryable = false;
    let publication = publish(&refusing, &batch(records()), &QUICK).await;
    assert_eq!(refusing.calls().len(), 1);
    assert_eq!(publication.failed_records, [seq(1), seq(2)]);
}

#[tokio::test]
async fn an_unreadable_feed_record_is_reported_and_the_others_still_go_out() {
    let bus = FakeBus::taking_everything();
    let first = consent_changed("firm-1", 1);
    let third = consent_changed("firm-1", 3);
    // The doc of the second is not a feed event; the fourth sits under another firm's key.
    let misplaced = serde_json::to_string(&consent_changed("firm-2", 4)).expect("JSON");
    let publication = publish(
        &bus,
        &batch(vec![
            feed_record(1, &first),
            record(2, "INSERT", "FEED#firm-1", &event_id(2), "{not json"),
            feed_record(3, &third),
            record(4, "INSERT", "FEED#firm-1", &event_id(4), &misplaced),
        ]),
        &QUICK,
    )
    .await;
    assert_eq!(bus.ids(), [event_id(1), event_id(3)]);
    assert_eq!(publication.unreadable, 2);
    assert_eq!(publication.failed_records, [seq(2), seq(4)]);
}

#[tokio::test]
async fn the_same_event_twice_in_a_batch_is_put_once() {
    let bus = FakeBus::taking_everything();
    let event = consent_changed("firm-1", 1);
    let publication = publish(
        &bus,
        &batch(vec![
            feed_record(1, &event),
            feed_record(2, &consent_changed("firm-1", 2)),
            feed_record(3, &event),
        ]),
        &QUICK,
    )
    .await;
    assert_eq!(bus.ids(), [event_id(1), event_id(2)]);
    assert_eq!(publication.duplicates, 1);
    assert_eq!(publication.put, 2);
}

#[tokio::test]
async fn a_duplicate_shares_the_fate_of_the_event_it_repeats() {
    let bus = FakeBus::scripted(Box::new(|_, _| failure("AccessDeniedException")));
    let event = consent_changed("firm-1", 1);
    let publication = publish(
        &bus,
        &batch(vec![feed_record(1, &event), feed_record(2, &event)]),
        &QUICK,
    )
    .await;
    assert_eq!(publication.failed_records, [seq(1), seq(2)]);
}

#[tokio::test]
async fn records_that_are_no_feed_inserts_are_ignored() {
    let bus = FakeBus::taking_everything();
    let event = consent_changed("firm-1", 1);
    let doc = serde_json::to_string(&event).expect("JSON");
    let publication = publish(
        &bus,
        &batch(vec![
            record(1, "INSERT", "CONSENT#firm-1#+14155550123", "RECORD", "{}"),
            record(2, "MODIFY", "FEED#firm-1", &event.id, &doc),
            record(3, "REMOVE", "FEED#firm-1", &event.id, &doc),
            record(4, "INSERT", "FIRM#firm-1", "EVT#01JQ", "{}"),
        ]),
        &QUICK,
    )
    .await;
    assert!(bus.calls().is_empty());
    assert_eq!(publication.ignored, 4);
    assert!(publication.failed_records.is_empty());
}
