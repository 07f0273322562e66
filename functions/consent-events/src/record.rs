//! Reading one record of the table's stream: a feed item's insert is its feed event; every other
//! record (consent records, audit events, contacts, a feed item's removal) is not this
//! function's business.

use aws_lambda_events::event::dynamodb::EventRecord;
use consent::model::feed::FeedEvent;
use consent_aws::keys;
use serde_dynamo::{AttributeValue, Item};

/// The stream's `eventName` for a new item.
const INSERT: &str = "INSERT";

/// A feed item's insert that does not read as a feed event: never put on the bus, reported so it
/// reaches the dead-letter queue.
#[derive(Debug, thiserror::Error)]
pub enum UnreadableRecord {
    /// A string attribute the item must carry is not in the record.
    #[error(
        "the record has no string attribute `{0}` (the stream must carry new images: NEW_IMAGE)"
    )]
    MissingAttribute(&'static str),
    /// The `doc` attribute is not a feed event.
    #[error("the feed event in `doc` does not parse")]
    Document(#[source] serde_json::Error),
    /// The item's key is not where the event it holds belongs.
    #[error("item {pk}/{sk} holds event {event_id} of firm {firm_id}")]
    MisplacedEvent {
        /// The item's partition key.
        pk: String,
        /// The item's sort key.
        sk: String,
        /// The id in `doc`.
        event_id: String,
        /// The firm in `doc`.
        firm_id: String,
    },
}

/// The feed event a stream record carries; `Ok(None)` for a record that is no feed item's
/// insert.
pub fn feed_event(record: &EventRecord) -> Result<Option<FeedEvent>, UnreadableRecord> {
    if record.event_name != INSERT {
        return Ok(None);
    }
    let change = &record.change;
    // Keys are in every record whatever the view type; the image is the fallback.
    let pk = string(&change.keys, keys::PK)
        .or_else(|| string(&change.new_image, keys::PK))
        .ok_or(UnreadableRecord::MissingAttribute(keys::PK))?;
    if keys::feed_firm_id(pk).is_none() {
        return Ok(None);
    }
    let sk = string(&change.keys, keys::SK)
        .or_else(|| string(&change.new_image, keys::SK))
        .ok_or(UnreadableRecord::MissingAttribute(keys::SK))?;
    let doc = string(&change.new_image, keys::DOC)
        .ok_or(UnreadableRecord::MissingAttribute(keys::DOC))?;
    let event: FeedEvent = serde_json::from_str(doc).map_err(UnreadableRecord::Document)?;
    let home = keys::feed_event(&event.firm_id, &event.id);
    if home.pk != pk || home.sk != sk {
        return Err(UnreadableRecord::MisplacedEvent {
            pk: pk.to_string(),
            sk: sk.to_string(),
            event_id: event.id,
            firm_id: event.firm_id,
        });
    }
    Ok(Some(event))
}

/// A string attribute of an item, if it has one.
fn string<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Some(value),
        _ => None,
    }
}
