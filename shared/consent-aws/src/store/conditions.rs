//! Conditional writes: the items of one transaction, the condition each is written under, and
//! what a failed condition means for the caller.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem};
use aws_smithy_runtime_api::http::Response;

use consent::evidence::audit::AuditEvent;
use consent::ports::StoreError;

use super::items::{ItemError, backend, events_item, item_error, key_item, n_u64, s};
use super::limits::MAX_TRANSACTION_ITEMS;
use super::{DynamoStore, Item};
use crate::errors::is_retryable_reason;
use crate::keys::{self, Key};

/// What a failed condition of a transaction item means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Conflict {
    /// The item changed since it was read: re-read and re-decide.
    Version,
    /// The number route belongs to another firm.
    NumberInUse,
    /// The inbound message was applied before.
    DuplicateInbound,
    /// The deferred send was taken by another releaser.
    DeferredTaken,
    /// The item has no condition.
    None,
}

/// A condition expression with its placeholders.
#[derive(Debug, Clone, Default)]
pub(super) struct Condition {
    expression: String,
    names: HashMap<String, String>,
    values: Item,
}

type ConditionParts = (
    Option<String>,
    Option<HashMap<String, String>>,
    Option<Item>,
);

impl Condition {
    fn new(expression: &str) -> Self {
        Self {
            expression: expression.to_string(),
            ..Self::default()
        }
    }

    fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.names.insert(placeholder.into(), attribute.into());
        self
    }

    fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.into(), value);
        self
    }

    /// The item must not exist yet.
    pub(super) fn must_not_exist() -> Self {
        Self::new("attribute_not_exists(#pk)").name("#pk", keys::PK)
    }

    /// The item must exist.
    pub(super) fn must_exist() -> Self {
        Self::new("attribute_exists(#pk)").name("#pk", keys::PK)
    }

    /// The item's version must be `expected` (`None`: the item must not exist).
    pub(super) fn version(expected: Option<u64>) -> Self {
        match expected {
            None => Self::must_not_exist(),
            Some(version) => Self::new("#version = :expected")
                .name("#version", keys::VERSION)
                .value(":expected", n_u64(version)),
        }
    }

    /// Also: the item's chain head must be `head` (absent when `None`).
    pub(super) fn and_head(self, head: Option<&str>) -> Self {
        let mut condition = match head {
            Some(head) => {
                let mut c = self.value(":head", s(head));
                c.expression = format!("({}) AND #head = :head", c.expression);
                c
            }
            None => {
                let mut c = self;
                c.expression = format!("({}) AND attribute_not_exists(#head)", c.expression);
                c
            }
        };
        condition
            .names
            .insert("#head".into(), keys::AUDIT_HEAD.into());
        condition
    }

    /// The item must not exist or must belong to `firm_id`.
    pub(super) fn absent_or_owned_by(firm_id: &str) -> Self {
        Self::new("attribute_not_exists(#pk) OR #firm = :me")
            .name("#pk", keys::PK)
            .name("#firm", keys::FIRM_ID)
            .value(":me", s(firm_id))
    }

    /// The parts for a request builder; DynamoDB refuses empty maps, so they become `None`.
    pub(super) fn parts(condition: Option<Self>) -> ConditionParts {
        match condition {
            None => (None, None, None),
            Some(c) => (
                Some(c.expression),
                (!c.names.is_empty()).then_some(c.names),
                (!c.values.is_empty()).then_some(c.values),
            ),
        }
    }
}

impl DynamoStore {
    /// Runs one transaction; a failed condition at index `i` becomes `conflicts[i]`'s error.
    pub(super) async fn transact(
        &self,
        operation: &'static str,
        items: Vec<(TransactWriteItem, Conflict)>,
    ) -> Result<(), StoreError> {
        if items.len() > MAX_TRANSACTION_ITEMS {
            return Err(item_error(operation, ItemError::TooManyItems(items.len())));
        }
        let (items, conflicts): (Vec<_>, Vec<_>) = items.into_iter().unzip();
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) => Err(transaction_error(operation, error, &conflicts)),
        }
    }

    pub(super) fn put(
        &self,
        operation: &'static str,
        item: Item,
        condition: Option<Condition>,
    ) -> Result<TransactWriteItem, StoreError> {
        let (expression, names, values) = Condition::parts(condition);
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .map_err(|e| item_error(operation, ItemError::Build(e)))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    pub(super) fn check(
        &self,
        operation: &'static str,
        key: &Key,
        condition: Condition,
    ) -> Result<TransactWriteItem, StoreError> {
        let (expression, names, values) = Condition::parts(Some(condition));
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .set_condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .map_err(|e| item_error(operation, ItemError::Build(e)))?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    pub(super) fn delete(
        &self,
        operation: &'static str,
        key: &Key,
        condition: Condition,
    ) -> Result<TransactWriteItem, StoreError> {
        let (expression, names, values) = Condition::parts(Some(condition));
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .set_condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .map_err(|e| item_error(operation, ItemError::Build(e)))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// The put of a write's audit events: one item for all of them, under the first one's key,
    /// which must be new (events are append-only). One item instead of one per event costs a
    /// transaction 2 write units per KB of events rather than 2 per event.
    pub(super) fn event_puts(
        &self,
        operation: &'static str,
        events: &[AuditEvent],
        key: impl Fn(&AuditEvent) -> Key,
    ) -> Result<Vec<(TransactWriteItem, Conflict)>, StoreError> {
        let Some(first) = events.first() else {
            return Ok(Vec::new());
        };
        let mut item = events_item(operation, &key(first), events)?;
        let types: Vec<&str> = events.iter().map(AuditEvent::type_name).collect();
        item.insert(keys::TYPE.into(), s(types.join(",")));
        let put = self.put(operation, item, Some(Condition::must_not_exist()))?;
        Ok(vec![(put, Conflict::Version)])
    }
}

/// The cancellation reason of an item another transaction was changing.
const TRANSACTION_CONFLICT: &str = "TransactionConflict";

/// Maps a failed transaction: the first failed condition, in index order, decides; a conflict
/// with another transaction is a lost race.
fn transaction_error(
    operation: &'static str,
    error: SdkError<TransactWriteItemsError, Response>,
    conflicts: &[Conflict],
) -> StoreError {
    let cancelled = match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => {
            let reasons = cancel.cancellation_reasons();
            let conflict = reasons
                .iter()
                .zip(conflicts)
                .find(|(reason, conflict)| {
                    reason.code() == Some("ConditionalCheckFailed") && **conflict != Conflict::None
                })
                .map(|(_, conflict)| *conflict)
                // Another transaction was changing one of the items at that moment: a lost
                // race like a failed version condition, so the flow re-reads and decides again
                // (DynamoDB Local never cancels this way; DynamoDB does).
                .or_else(|| {
                    reasons
                        .iter()
                        .any(|r| r.code() == Some(TRANSACTION_CONFLICT))
                        .then_some(Conflict::Version)
                });
            Some((
                conflict,
                reasons.iter().any(|r| is_retryable_reason(r.code())),
            ))
        }
        _ => None,
    };
    match cancelled {
        Some((Some(Conflict::Version), _)) => StoreError::VersionConflict { operation },
        Some((Some(Conflict::NumberInUse), _)) => StoreError::NumberInUse,
        Some((Some(Conflict::DuplicateInbound), _)) => StoreError::DuplicateInbound,
        Some((Some(Conflict::DeferredTaken), _)) => StoreError::DeferredTaken,
        Some((_, retryable)) => StoreError::Backend {
            operation,
            retryable,
            source: Box::new(error),
        },
        None => backend(operation, error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cancelled(codes: &[&str]) -> SdkError<TransactWriteItemsError, Response> {
        use aws_sdk_dynamodb::types::CancellationReason;
        use aws_sdk_dynamodb::types::error::TransactionCanceledException;
        let reasons = codes
            .iter()
            .map(|code| CancellationReason::builder().code(*code).build())
            .collect();
        let cancel = TransactionCanceledException::builder()
            .set_cancellation_reasons(Some(reasons))
            .build();
        let status = aws_smithy_runtime_api::http::StatusCode::try_from(400_u16)
            .unwrap_or_else(|e| panic!("a status: {e}"));
        SdkError::service_error(
            TransactWriteItemsError::TransactionCanceledException(cancel),
            Response::new(status, aws_smithy_types::body::SdkBody::empty()),
        )
    }

    #[test]
    fn a_transaction_conflict_is_a_lost_race_and_a_failed_condition_wins_over_it() {
        let conflicts = [Conflict::Version, Conflict::DuplicateInbound];
        let error = transaction_error(
            "commit",
            cancelled(&["None", "TransactionConflict"]),
            &conflicts,
        );
        assert!(
            matches!(error, StoreError::VersionConflict { .. }),
            "{error:?}"
        );
        let error = transaction_error(
            "commit",
            cancelled(&["TransactionConflict", "ConditionalCheckFailed"]),
            &conflicts,
        );
        assert!(matches!(error, StoreError::DuplicateInbound), "{error:?}");
        let error = transaction_error(
            "commit",
            cancelled(&["None", "ThrottlingError"]),
            &conflicts,
        );
        assert!(
            matches!(
                error,
                StoreError::Backend {
                    retryable: true,
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn empty_condition_maps_become_none() {
        let (expr, names, values) = Condition::parts(Some(Condition::must_not_exist()));
        assert_eq!(expr.as_deref(), Some("attribute_not_exists(#pk)"));
        assert!(names.is_some());
        assert!(values.is_none());
        assert_eq!(Condition::parts(None), (None, None, None));
    }
}
