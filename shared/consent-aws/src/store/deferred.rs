//! [`DeferredStore`] over the table: sends held back (quiet hours), found through the due-sends
//! index and taken by a conditional delete.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use consent::model::deferred::DeferredSend;
use consent::ports::{DeferredStore, StoreError};

use super::conditions::Condition;
use super::items::{backend, doc_item, key_item, parse_doc, s};
use super::{DynamoStore, Item};
use crate::keys;

#[async_trait]
impl DeferredStore for DynamoStore {
    async fn due_deferred(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<DeferredSend>, StoreError> {
        const OP: &str = "due_deferred";
        let mut due: Vec<DeferredSend> = Vec::new();
        let mut start: Option<Item> = None;
        while due.len() < limit {
            let page = i32::try_from(limit - due.len()).unwrap_or(i32::MAX);
            // GSIs are eventually consistent: a send deferred a moment ago may show up on the
            // next pass, and one already taken may still show (the release's conditional
            // delete settles that).
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI1)
                .key_condition_expression("#gpk = :due AND #gsk < :upper")
                .expression_attribute_names("#gpk", keys::GSI1PK)
                .expression_attribute_names("#gsk", keys::GSI1SK)
                .expression_attribute_values(":due", s(keys::DUE_PARTITION))
                .expression_attribute_values(":upper", s(keys::due_upper_bound(now)))
                .scan_index_forward(true)
                .limit(page)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend(OP, e))?;
            for item in output.items.unwrap_or_default() {
                let send: DeferredSend = parse_doc(OP, "deferred send", &item)?;
                if send.not_before <= now {
                    due.push(send);
                }
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        due.truncate(limit);
        Ok(due)
    }

    async fn take_deferred(&self, send: &DeferredSend) -> Result<bool, StoreError> {
        const OP: &str = "take_deferred";
        let (expression, names, values) = Condition::parts(Some(Condition::must_exist()));
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::deferred(&send.id))))
            .set_condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            // Someone else took it first.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(backend(OP, e)),
        }
    }
}

/// A deferred send's item, with its place in the due-sends index; the consent transaction
/// writes it.
pub(super) fn deferred_item(
    operation: &'static str,
    send: &DeferredSend,
) -> Result<Item, StoreError> {
    let mut item = doc_item(operation, &keys::deferred(&send.id), send)?;
    item.insert(keys::GSI1PK.into(), s(keys::DUE_PARTITION));
    item.insert(
        keys::GSI1SK.into(),
        s(keys::due_sort_key(send.not_before, &send.id)),
    );
    Ok(item)
}
