//! Reads, all strongly consistent: one item, the items of a partition under a sort-key prefix,
//! and batches of keys.

use std::time::Duration as StdDuration;

use aws_sdk_dynamodb::types::KeysAndAttributes;

use consent::ports::StoreError;

use super::items::{ItemError, backend, item_error, key_item, s};
use super::limits::BATCH_GET_ATTEMPTS;
use super::{DynamoStore, Item};
use crate::keys::{self, Key};

impl DynamoStore {
    /// Reads one item, strongly consistent.
    pub(super) async fn get_item(
        &self,
        operation: &'static str,
        key: &Key,
    ) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend(operation, e))?;
        Ok(output.item)
    }

    /// Every item of `pk` whose sort key starts with `prefix`, ascending, all pages.
    pub(super) async fn query_prefix(
        &self,
        operation: &'static str,
        pk: &str,
        prefix: &str,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_names("#sk", keys::SK)
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true)
                .scan_index_forward(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend(operation, e))?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// Reads up to 100 keys, strongly consistent, asking again for unprocessed keys with a
    /// short, growing pause.
    pub(super) async fn batch_get(
        &self,
        operation: &'static str,
        keys: Vec<Item>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut pending = keys;
        for attempt in 0..BATCH_GET_ATTEMPTS {
            if pending.is_empty() {
                return Ok(items);
            }
            if attempt > 0 {
                tracing::debug!(
                    unprocessed = pending.len(),
                    attempt,
                    "batch get: retrying unprocessed keys"
                );
                let millis = (25u64 << attempt).min(1_000);
                tokio::time::sleep(StdDuration::from_millis(millis)).await;
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(|e| item_error(operation, ItemError::Build(e)))?;
            let mut output = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| backend(operation, e))?;
            if let Some(mut responses) = output.responses.take() {
                items.extend(responses.remove(&self.table).unwrap_or_default());
            }
            pending = output
                .unprocessed_keys
                .take()
                .and_then(|mut unprocessed| unprocessed.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
        }
        if pending.is_empty() {
            Ok(items)
        } else {
            Err(StoreError::Backend {
                operation,
                retryable: true,
                source: Box::new(ItemError::Unprocessed(pending.len())),
            })
        }
    }
}
