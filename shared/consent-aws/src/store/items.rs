//! Items to and from the model types: the model as a JSON `doc` beside native attributes, and
//! the errors of items that are not what this code writes.

use std::collections::HashMap;
use std::io::{Read, Write};

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use serde::Serialize;
use serde::de::DeserializeOwned;

use consent::evidence::audit::AuditEvent;
use consent::ports::StoreError;

use super::Item;
use super::limits::{BATCH_GET_ATTEMPTS, MAX_ITEM_BYTES, MAX_TRANSACTION_ITEMS, WRITE_UNIT_BYTES};
use crate::errors::is_retryable;
use crate::keys::{self, Key};

/// Something in the table is not what this code writes, or a request cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ItemError {
    /// An attribute the item must have is missing or has the wrong type (keys not echoed, as
    /// they carry phone numbers).
    #[error("a {kind} item has no {attribute} attribute of the expected type")]
    MissingAttribute {
        /// The kind of item.
        kind: &'static str,
        /// The attribute.
        attribute: &'static str,
    },
    /// The item's JSON document does not read as its model type.
    #[error("a {kind} item's document is not valid")]
    Document {
        /// The kind of item.
        kind: &'static str,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// An item's deflated document does not inflate to text an item may hold.
    #[error("a {kind} item's deflated document does not inflate")]
    Inflate {
        /// The kind of item.
        kind: &'static str,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// A document is larger than an item may be (a write's audit events, all in one item).
    #[error("a {0}-byte document is larger than an item may be ({MAX_ITEM_BYTES} bytes)")]
    TooLarge(usize),
    /// A write needs more items than one transaction takes.
    #[error("the write needs {0} items; one transaction takes at most {MAX_TRANSACTION_ITEMS}")]
    TooManyItems(usize),
    /// DynamoDB kept returning some keys of a batch read as unprocessed.
    #[error("{0} keys were still unprocessed after {BATCH_GET_ATTEMPTS} attempts")]
    Unprocessed(usize),
    /// A request could not be built (a bug in this crate, not a backend failure).
    #[error("the request could not be built")]
    Build(#[source] aws_smithy_types::error::operation::BuildError),
}

/// A backend failure, classified, with the SDK error kept whole.
pub(crate) fn backend<E>(operation: &'static str, error: SdkError<E, Response>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    StoreError::Backend {
        operation,
        retryable: is_retryable(&error),
        source: Box::new(error),
    }
}

/// An item or request this code cannot use: retrying would not help.
pub(super) fn item_error(operation: &'static str, error: ItemError) -> StoreError {
    StoreError::Backend {
        operation,
        retryable: false,
        source: Box::new(error),
    }
}

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn n_u64(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The key attributes of an item.
pub(super) fn key_item(key: &Key) -> Item {
    HashMap::from([
        (keys::PK.to_string(), s(&key.pk)),
        (keys::SK.to_string(), s(&key.sk)),
    ])
}

/// `value` as the JSON of an item's `doc`, refused when larger than an item may be.
fn doc_json<T: Serialize>(operation: &'static str, value: &T) -> Result<String, StoreError> {
    let doc = serde_json::to_string(value).map_err(|e| {
        item_error(
            operation,
            ItemError::Document {
                kind: "model",
                source: e,
            },
        )
    })?;
    if doc.len() > MAX_ITEM_BYTES {
        return Err(item_error(operation, ItemError::TooLarge(doc.len())));
    }
    Ok(doc)
}

/// An item of `key` holding `value` as its JSON `doc`.
pub(super) fn doc_item<T: Serialize>(
    operation: &'static str,
    key: &Key,
    value: &T,
) -> Result<Item, StoreError> {
    let doc = doc_json(operation, value)?;
    let mut item = key_item(key);
    item.insert(keys::DOC.into(), s(doc));
    Ok(item)
}

/// The model type in an item's `doc`.
pub(super) fn parse_doc<T: DeserializeOwned>(
    operation: &'static str,
    kind: &'static str,
    item: &Item,
) -> Result<T, StoreError> {
    let doc = string_attr(operation, kind, item, keys::DOC)?;
    serde_json::from_str(&doc)
        .map_err(|e| item_error(operation, ItemError::Document { kind, source: e }))
}

/// The item of `key` holding the audit events of one write: one event as an object, or the
/// events in order as an array. When each event after the first follows the one before it in
/// the chain (a write's events do once the number has a chain), those events leave out their
/// `prev_hash` (about 80 bytes each) and [`keys::LINKED`] says so. A document larger than a
/// write unit is kept deflated in [`keys::DOC_DEFLATE`] (an opt-in email's event to about 40%).
pub(super) fn events_item(
    operation: &'static str,
    key: &Key,
    events: &[AuditEvent],
) -> Result<Item, StoreError> {
    let linked = events.len() > 1
        && events
            .windows(2)
            .all(|pair| pair[0].hash.is_some() && pair[1].prev_hash == pair[0].hash);
    let doc = match events {
        [one] => doc_json(operation, one)?,
        all if linked => {
            let mut trimmed = all.to_vec();
            for event in &mut trimmed[1..] {
                event.prev_hash = None;
            }
            doc_json(operation, &trimmed)?
        }
        all => doc_json(operation, &all)?,
    };
    let mut item = key_item(key);
    match deflated(&doc) {
        Some(packed) => item.insert(
            keys::DOC_DEFLATE.into(),
            AttributeValue::B(Blob::new(packed)),
        ),
        None => item.insert(keys::DOC.into(), s(doc)),
    };
    if linked {
        item.insert(keys::LINKED.into(), AttributeValue::Bool(true));
    }
    Ok(item)
}

/// `doc` deflated, when it is larger than a write unit and deflating makes it smaller.
fn deflated(doc: &str) -> Option<Vec<u8>> {
    if doc.len() <= WRITE_UNIT_BYTES {
        return None;
    }
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(doc.as_bytes()).ok()?;
    let packed = encoder.finish().ok()?;
    (packed.len() < doc.len()).then_some(packed)
}

/// A deflated document, refused when it inflates past what an item's `doc` may hold.
fn inflated(packed: &[u8]) -> std::io::Result<String> {
    let mut doc = String::new();
    DeflateDecoder::new(packed)
        .take(MAX_ITEM_BYTES as u64 + 1)
        .read_to_string(&mut doc)?;
    if doc.len() > MAX_ITEM_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the document inflates past an item's size",
        ));
    }
    Ok(doc)
}

/// The audit events of an item written by [`events_item`] (or before it, by one event per
/// item), in order and whole.
pub(super) fn parse_events(
    operation: &'static str,
    kind: &'static str,
    item: &Item,
) -> Result<Vec<AuditEvent>, StoreError> {
    let doc = match item.get(keys::DOC_DEFLATE) {
        Some(AttributeValue::B(packed)) => inflated(packed.as_ref())
            .map_err(|e| item_error(operation, ItemError::Inflate { kind, source: e }))?,
        Some(_) => {
            return Err(item_error(
                operation,
                ItemError::MissingAttribute {
                    kind,
                    attribute: keys::DOC_DEFLATE,
                },
            ));
        }
        None => string_attr(operation, kind, item, keys::DOC)?,
    };
    let parsed: Result<Vec<AuditEvent>, _> = if doc.trim_start().starts_with('[') {
        serde_json::from_str(&doc)
    } else {
        serde_json::from_str(&doc).map(|event| vec![event])
    };
    let mut events =
        parsed.map_err(|e| item_error(operation, ItemError::Document { kind, source: e }))?;
    if matches!(item.get(keys::LINKED), Some(AttributeValue::Bool(true))) {
        let mut previous = None;
        for event in &mut events {
            if event.prev_hash.is_none() {
                event.prev_hash = previous;
            }
            previous = event.hash.clone();
        }
    }
    Ok(events)
}

/// A string attribute the item must have.
pub(super) fn string_attr(
    operation: &'static str,
    kind: &'static str,
    item: &Item,
    attribute: &'static str,
) -> Result<String, StoreError> {
    match item.get(attribute) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        _ => Err(item_error(
            operation,
            ItemError::MissingAttribute { kind, attribute },
        )),
    }
}

/// A number attribute the item may have; present with another type is an error.
pub(super) fn optional_number(
    operation: &'static str,
    kind: &'static str,
    item: &Item,
    attribute: &'static str,
) -> Result<Option<i64>, StoreError> {
    match item.get(attribute) {
        None => Ok(None),
        Some(AttributeValue::N(value)) => value
            .parse()
            .map(Some)
            .map_err(|_| item_error(operation, ItemError::MissingAttribute { kind, attribute })),
        Some(_) => Err(item_error(
            operation,
            ItemError::MissingAttribute { kind, attribute },
        )),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use consent::evidence::audit::AuditKind;

    use super::*;

    fn event(reason: &str, prev_hash: Option<&str>, hash: &str) -> AuditEvent {
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
        AuditEvent {
            prev_hash: prev_hash.map(str::to_string),
            hash: Some(hash.to_string()),
            ..AuditEvent::new(
                at,
                AuditKind::EmailSkipped {
                    reason: reason.to_string(),
                },
            )
        }
    }

    fn doc_len(item: &Item) -> usize {
        match item.get(keys::DOC) {
            Some(AttributeValue::S(doc)) => doc.len(),
            _ => 0,
        }
    }

    fn key() -> Key {
        keys::firm_event("ruiz-park", "01M8SC6X80VRD3Q0Q3DWQDVSV9")
    }

    #[test]
    fn a_chained_writes_events_are_kept_without_their_inner_prev_hashes_and_read_back_whole() {
        let events = vec![
            event("one", Some(&"0".repeat(64)), &"a".repeat(64)),
            event("two", Some(&"a".repeat(64)), &"b".repeat(64)),
            event("three", Some(&"b".repeat(64)), &"c".repeat(64)),
        ];
        let item = events_item("test", &key(), &events).unwrap();
        let whole = doc_item("test", &key(), &events).unwrap();

        assert_eq!(item.get(keys::LINKED), Some(&AttributeValue::Bool(true)));
        let one_prev_hash = format!(r#","prev_hash":"{}""#, "a".repeat(64)).len();
        assert_eq!(doc_len(&whole) - doc_len(&item), 2 * one_prev_hash);
        assert_eq!(parse_events("test", "event", &item).unwrap(), events);
    }

    #[test]
    fn a_document_over_a_write_unit_is_kept_deflated_and_read_back_whole() {
        let long: String = (0..60)
            .map(|line| format!("line {line}: the provider refused the address. "))
            .collect();
        let events = vec![
            event("one", Some(&"0".repeat(64)), &"a".repeat(64)),
            event(&long, Some(&"a".repeat(64)), &"b".repeat(64)),
        ];
        let item = events_item("test", &key(), &events).unwrap();
        let whole = doc_json("test", &events).unwrap();

        let Some(AttributeValue::B(packed)) = item.get(keys::DOC_DEFLATE) else {
            panic!("no deflated document: {item:?}");
        };
        assert!(
            packed.as_ref().len() * 3 < whole.len(),
            "{} bytes",
            packed.as_ref().len()
        );
        assert_eq!(item.get(keys::DOC), None);
        assert_eq!(parse_events("test", "event", &item).unwrap(), events);

        let small = vec![event("one", Some(&"0".repeat(64)), &"a".repeat(64))];
        let item = events_item("test", &key(), &small).unwrap();
        assert_eq!(item.get(keys::DOC_DEFLATE), None);
        assert!(matches!(item.get(keys::DOC), Some(AttributeValue::S(_))));
    }

    #[test]
    fn a_deflated_document_that_does_not_inflate_is_an_error_not_a_panic() {
        let mut item = key_item(&key());
        item.insert(
            keys::DOC_DEFLATE.into(),
            AttributeValue::B(Blob::new(vec![0xff, 0x00, 0x13, 0x37])),
        );
        let error = parse_events("test", "consent event", &item).unwrap_err();
        assert!(!error.is_retryable());
        let source = std::error::Error::source(&error).map(ToString::to_string);
        assert_eq!(
            source.as_deref(),
            Some("a consent event item's deflated document does not inflate")
        );
    }

    #[test]
    fn events_that_do_not_chain_are_kept_whole() {
        let unchained = vec![
            event("one", None, &"a".repeat(64)),
            event("two", None, &"b".repeat(64)),
        ];
        let item = events_item("test", &key(), &unchained).unwrap();

        assert_eq!(item.get(keys::LINKED), None);
        assert_eq!(parse_events("test", "event", &item).unwrap(), unchained);
        let one = vec![event("one", Some(&"0".repeat(64)), &"a".repeat(64))];
        let item = events_item("test", &key(), &one).unwrap();
        assert_eq!(item.get(keys::LINKED), None);
        assert_eq!(parse_events("test", "event", &item).unwrap(), one);
    }
}
