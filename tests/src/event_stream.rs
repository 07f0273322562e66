//! The consent-events path on the emulator, without a Lambda service: the table's DynamoDB
//! stream read with the streams API and handed to the function's handler in the shape Lambda
//! gives it, the handler putting on a bus of moto's, and a rule on that bus feeding an SQS queue
//! the test reads.

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_lambda_events::event::dynamodb::Event;
use aws_sdk_dynamodb::types::{StreamSpecification, StreamViewType};
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use base64::Engine;
use serde_json::{Map, Value, json};

/// The source the rule in front of the queue matches, as the webhook rule of the template does.
const RULE_PATTERN: &str = r#"{"source": ["consent-service"]}"#;

/// Turns on `table`'s stream with new images, as the template does; returns the stream's ARN.
pub async fn enable_stream(sdk: &SdkConfig, table: &str) -> String {
    let client = aws_sdk_dynamodb::Client::new(sdk);
    let specification = StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::NewImage)
        .build()
        .expect("a stream specification");
    client
        .update_table()
        .table_name(table)
        .stream_specification(specification)
        .send()
        .await
        .expect("the table's stream can be enabled");
    let described = client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .expect("the table can be described");
    described
        .table
        .and_then(|t| t.latest_stream_arn)
        .expect("the table has a stream")
}

/// Every record of the stream so far, oldest first per shard, in the shape Lambda hands a batch
/// to the function (DynamoDB JSON).
pub async fn read_stream(sdk: &SdkConfig, stream_arn: &str) -> Event {
    let client = aws_sdk_dynamodbstreams::Client::new(sdk);
    let description = client
        .describe_stream()
        .stream_arn(stream_arn)
        .send()
        .await
        .expect("the stream can be described")
        .stream_description
        .expect("a stream description");
    let mut records = Vec::new();
    for shard in description.shards.unwrap_or_default() {
        let shard_id = shard.shard_id.expect("a shard id");
        let mut iterator = client
            .get_shard_iterator()
            .stream_arn(stream_arn)
            .shard_id(&shard_id)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("a shard iterator")
            .shard_iterator;
        while let Some(current) = iterator.take() {
            let page = client
                .get_records()
                .shard_iterator(current)
                .send()
                .await
                .expect("the shard's records");
            let batch = page.records.unwrap_or_default();
            if batch.is_empty() {
                break;
            }
            records.extend(batch.iter().map(|r| lambda_record(r, stream_arn)));
            iterator = page.next_shard_iterator;
        }
    }
    serde_json::from_value(json!({ "Records": records })).expect("a DynamoDB stream event")
}

/// A stream record as Lambda's event carries it.
fn lambda_record(record: &Record, stream_arn: &str) -> Value {
    let change = record.dynamodb.as_ref().expect("a stream record's change");
    let image = |item: Option<&HashMap<String, AttributeValue>>| {
        Value::Object(
            item.into_iter()
                .flatten()
                .map(|(name, value)| (name.clone(), attribute_json(value)))
                .collect(),
        )
    };
    json!({
        "awsRegion": record.aws_region.as_deref().unwrap_or("us-east-1"),
        "eventID": record.event_id.as_deref().unwrap_or_default(),
        "eventName": record.event_name.as_ref().map(|n| n.as_str()).unwrap_or_default(),
        "eventSource": record.event_source.as_deref().unwrap_or("aws:dynamodb"),
        "eventVersion": record.event_version.as_deref().unwrap_or("1.1"),
        "eventSourceARN": stream_arn,
        "dynamodb": {
            "ApproximateCreationDateTime": change
                .approximate_creation_date_time
                .map(|t| t.as_secs_f64())
                .unwrap_or_default(),
            "Keys": image(change.keys.as_ref()),
            "NewImage": image(change.new_image.as_ref()),
            "SequenceNumber": change.sequence_number.as_deref().unwrap_or_default(),
            "SizeBytes": change.size_bytes.unwrap_or_default(),
            "StreamViewType": change.stream_view_type.as_ref().map(|v| v.as_str()).unwrap_or("NEW_IMAGE"),
        }
    })
}

/// An attribute value in DynamoDB JSON.
fn attribute_json(value: &AttributeValue) -> Value {
    let b64 = |bytes: &[u8]| Value::String(base64::engine::general_purpose::STANDARD.encode(bytes));
    let (tag, inner) = match value {
        AttributeValue::S(s) => ("S", json!(s)),
        AttributeValue::N(n) => ("N", json!(n)),
        AttributeValue::Bool(b) => ("BOOL", json!(b)),
        AttributeValue::Null(n) => ("NULL", json!(n)),
        AttributeValue::B(b) => ("B", b64(b.as_ref())),
        AttributeValue::Ss(list) => ("SS", json!(list)),
        AttributeValue::Ns(list) => ("NS", json!(list)),
        AttributeValue::Bs(list) => (
            "BS",
            Value::Array(list.iter().map(|b| b64(b.as_ref())).collect()),
        ),
        AttributeValue::L(list) => ("L", Value::Array(list.iter().map(attribute_json).collect())),
        AttributeValue::M(map) => (
            "M",
            Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), attribute_json(v)))
                    .collect::<Map<String, Value>>(),
            ),
        ),
        other => panic!("an attribute type this reader does not know: {other:?}"),
    };
    json!({ tag: inner })
}

/// A bus of moto's with a rule sending every event of source `consent-service` to a queue.
pub struct BusToQueue {
    /// The bus's name.
    pub bus: String,
    queue_url: String,
    sqs: aws_sdk_sqs::Client,
}

impl BusToQueue {
    /// Creates the bus `name`, a queue, and the rule between them.
    pub async fn create(sdk: &SdkConfig, name: &str) -> Self {
        let events = aws_sdk_eventbridge::Client::new(sdk);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        events
            .create_event_bus()
            .name(name)
            .send()
            .await
            .expect("the bus can be created");
        let queue_url = sqs
            .create_queue()
            .queue_name(format!("{name}-crm"))
            .send()
            .await
            .expect("the queue can be created")
            .queue_url
            .expect("a queue URL");
        let queue_arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("the queue's attributes")
            .attributes
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                    .cloned()
            })
            .expect("the queue's ARN");
        events
            .put_rule()
            .name(format!("{name}-to-crm"))
            .event_bus_name(name)
            .event_pattern(RULE_PATTERN)
            .send()
            .await
            .expect("the rule can be created");
        let target = aws_sdk_eventbridge::types::Target::builder()
            .id("crm-queue")
            .arn(queue_arn)
            .build()
            .expect("a target");
        events
            .put_targets()
            .rule(format!("{name}-to-crm"))
            .event_bus_name(name)
            .targets(target)
            .send()
            .await
            .expect("the rule's target can be set");
        Self {
            bus: name.to_string(),
            queue_url,
            sqs,
        }
    }

    /// Every event the queue holds, as EventBridge delivered it (the whole event, its detail
    /// parsed), oldest first.
    pub async fn drain(&self) -> Vec<Value> {
        let mut events = Vec::new();
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("the queue can be read");
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                return events;
            }
            for message in messages {
                let body = message.body.as_deref().unwrap_or_default();
                let mut event: Value = serde_json::from_str(body).expect("an event is JSON");
                // EventBridge gives a queue the detail as an object; parse it if a string.
                if let Some(text) = event["detail"].as_str() {
                    event["detail"] = serde_json::from_str(text).expect("the detail is JSON");
                }
                events.push(event);
                if let Some(handle) = message.receipt_handle {
                    self.sqs
                        .delete_message()
                        .queue_url(&self.queue_url)
                        .receipt_handle(handle)
                        .send()
                        .await
                        .expect("a read message can be deleted");
                }
            }
        }
    }
}
