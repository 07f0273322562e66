//! Events to the CRM on the emulator (DESIGN §7): feed items written by the DynamoDB store
//! adapter reach the table's stream, the consent-events handler puts them on an EventBridge bus,
//! and a rule on the bus delivers them to a queue the test reads.
//!
//! moto serves every part but Lambda: the test reads the stream itself and hands the records to
//! the handler as Lambda would, all of them, since moto has no event source mapping to apply
//! the template's FilterCriteria (so the handler's own filter is what is tested here). moto's
//! stream records TransactWriteItems puts like any put (one INSERT per new item), as DynamoDB's
//! does. Differences from AWS found here: moto delivers a rule's events to a queue without the
//! queue policy AWS needs (the template's webhook queue has one), and its stream is one shard.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use consent::adapters::memory::SettableClock;
use consent_aws::{SesMailer, SnsSmsSender};
use consent_events::{EventBridgeBus, RetryPolicy, publish};
use consent_tests::emulator::{SCENARIO_FROM, scenario_service};
use consent_tests::event_stream::{BusToQueue, enable_stream, read_stream};
use consent_tests::scenarios::register_firm;
use consent_tests::{TestService, afternoon};
use serde_json::{Value, json};

/// The firm's feed as `GET /v1/firms/{firm_id}/events` returns it, from the start.
async fn feed_of(t: &TestService) -> Vec<Value> {
    let (status, page) = t
        .call(
            Method::GET,
            &format!("/v1/firms/{}/events?limit=1000", t.firm_id()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["events"].as_array().cloned().unwrap_or_default()
}

async fn create_contact(t: &TestService, contact_id: &str, phone: &str) {
    let (status, body) = t
        .call(
            Method::POST,
            &format!("/v1/firms/{}/contacts", t.firm_id()),
            Some(json!({ "contact_id": contact_id, "phone": phone })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// The detail of each delivered event of `firm_id`, in delivery order.
fn details_of(delivered: &[Value], firm_id: &str) -> Vec<Value> {
    delivered
        .iter()
        .filter(|e| e["detail"]["firm_id"] == firm_id)
        .map(|e| e["detail"].clone())
        .collect()
}

#[tokio::test]
async fn feed_items_reach_the_bus_and_a_rule_delivers_them_in_order_per_firm() {
    let (first, moto) = scenario_service(51).await;
    let sdk = moto.sdk();
    let table = "consent-scenario-51";
    let stream_arn = enable_stream(&sdk, table).await;
    // A second firm on the same table, as in AWS.
    let ses = aws_sdk_sesv2::Client::new(&sdk);
    let second = TestService::new(
        Arc::new(moto.store(table).await),
        Arc::new(SnsSmsSender::new(aws_sdk_sns::Client::new(&sdk))),
        Arc::new(SesMailer::new(ses, SCENARIO_FROM.to_string(), None)),
        moto.clone(),
        Arc::new(SettableClock::frozen(afternoon())),
        52,
    );

    register_firm(&first).await;
    register_firm(&second).await;
    let (a, b) = (first.phone(1), second.phone(1));
    create_contact(&first, "c-a", &a).await;
    create_contact(&second, "c-b", &b).await;
    first.reply(&a, &first.firm_number(), "YES", "in-a-1").await;
    second
        .reply(&b, &second.firm_number(), "STOP", "in-b-1")
        .await;
    first
        .reply(&a, &first.firm_number(), "HELP", "in-a-2")
        .await;
    first
        .reply(&a, &first.firm_number(), "Can I come in Tuesday?", "in-a-3")
        .await;
    first
        .reply(&a, &first.firm_number(), "STOP", "in-a-4")
        .await;

    let feeds = [feed_of(&first).await, feed_of(&second).await];
    let feed_total = feeds[0].len() + feeds[1].len();
    assert_eq!(feeds[0].len(), 5, "{:#?}", feeds[0]);
    assert_eq!(feeds[1].len(), 2, "{:#?}", feeds[1]);

    let batch = read_stream(&sdk, &stream_arn).await;
    let feed_records = batch
        .records
        .iter()
        .filter(|r| r.event_name == "INSERT")
        .filter(|r| {
            matches!(
                r.change.keys.get("pk"),
                Some(serde_dynamo::AttributeValue::S(pk)) if pk.starts_with("FEED#")
            )
        })
        .count();
    // Every feed item reached the stream, among many other items' records.
    assert_eq!(feed_records, feed_total);
    assert!(
        batch.records.len() > feed_total * 2,
        "{}",
        batch.records.len()
    );

    let bus = BusToQueue::create(&sdk, "consent-events-51").await;
    let event_bridge = EventBridgeBus::new(aws_sdk_eventbridge::Client::new(&sdk), &bus.bus);
    let publication = publish(&event_bridge, &batch, &RetryPolicy::DEPLOYED).await;
    assert!(publication.failed_records.is_empty(), "{publication:?}");
    assert_eq!(publication.put, feed_total);
    assert_eq!(publication.ignored, batch.records.len() - feed_total);

    let delivered = bus.drain().await;
    // Nothing but the feed: one delivery per feed event.
    assert_eq!(delivered.len(), feed_total, "{delivered:#?}");
    for event in &delivered {
        assert_eq!(event["source"], "consent-service", "{event}");
        let expected_type = match event["detail"]["type"].as_str() {
            Some("consent.changed") => "Consent Changed",
            Some("reply.received") => "Reply Received",
            other => panic!("a delivered event of type {other:?}"),
        };
        assert_eq!(event["detail-type"], expected_type, "{event}");
    }
    // Each firm's events arrive in the feed's order, each exactly as the feed route shows it.
    assert_eq!(details_of(&delivered, &first.firm_id()), feeds[0]);
    assert_eq!(details_of(&delivered, &second.firm_id()), feeds[1]);
    let types: Vec<&str> = feeds[0].iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        types,
        [
            "consent.changed",
            "consent.changed",
            "reply.received",
            "reply.received",
            "consent.changed"
        ]
    );
}

#[tokio::test]
async fn a_retried_batch_is_delivered_again_and_the_consumer_dedupes_by_detail_id() {
    let (firm, moto) = scenario_service(53).await;
    let sdk = moto.sdk();
    let stream_arn = enable_stream(&sdk, "consent-scenario-53").await;
    register_firm(&firm).await;
    create_contact(&firm, "c-1", &firm.phone(1)).await;
    firm.reply(&firm.phone(1), &firm.firm_number(), "YES", "in-1")
        .await;

    let batch = read_stream(&sdk, &stream_arn).await;
    let bus = BusToQueue::create(&sdk, "consent-events-53").await;
    let event_bridge = EventBridgeBus::new(aws_sdk_eventbridge::Client::new(&sdk), &bus.bus);
    // Lambda hands the same records over again after a failure later in the batch.
    for _ in 0..2 {
        let publication = publish(&event_bridge, &batch, &RetryPolicy::DEPLOYED).await;
        assert!(publication.failed_records.is_empty(), "{publication:?}");
    }
    let delivered = bus.drain().await;
    let feed = feed_of(&firm).await;
    assert_eq!(delivered.len(), 2 * feed.len());
    // EventBridge gives each put its own envelope id; the detail's id is the event's.
    let envelope_ids: BTreeSet<&str> = delivered.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(envelope_ids.len(), delivered.len());
    let mut seen = BTreeSet::new();
    let deduped: Vec<Value> = delivered
        .iter()
        .filter(|e| seen.insert(e["detail"]["id"].as_str().map(str::to_string)))
        .map(|e| e["detail"].clone())
        .collect();
    assert_eq!(deduped, feed);
}
