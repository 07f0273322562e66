//! [`IdempotencyStore`] over the table: a claim is one conditional put whose condition is the
//! negation of [`decide_claim`], which also reads what a failed claim found.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Duration, Utc};

use consent::ports::{
    Completion, IdempotencyClaim, IdempotencyStore, KeptClaim, StoreError, StoredResponse,
    decide_claim,
};

use super::items::{ItemError, backend, item_error, key_item, n, optional_number, s, string_attr};
use super::{DynamoStore, Item};
use crate::keys::{self, Key};

/// How many times a claim whose condition failed on an item that then looked claimable (it
/// changed in between) is tried again.
const CLAIM_ATTEMPTS: usize = 3;
/// How long an abandoned idempotency claim is kept after it lapsed, before the TTL sweeper
/// removes it (a lapsed claim can be taken over anyway, so this only bounds the table's size).
const ABANDONED_CLAIM_TTL_HOURS: i64 = 24;

#[async_trait]
impl IdempotencyStore for DynamoStore {
    async fn claim(
        &self,
        key: &str,
        payload_hash: &str,
        now: DateTime<Utc>,
        in_progress_until: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StoreError> {
        let key = keys::idempotency(key);
        for _ in 0..CLAIM_ATTEMPTS {
            if let Some(claim) = self
                .try_claim(&key, payload_hash, now, in_progress_until)
                .await?
            {
                return Ok(claim);
            }
        }
        Err(StoreError::VersionConflict {
            operation: "claim_idempotency",
        })
    }

    async fn complete(
        &self,
        key: &str,
        payload_hash: &str,
        response: &StoredResponse,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const OP: &str = "complete_idempotency";
        let response = response_doc(OP, response)?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::idempotency(key))))
            .update_expression("SET #response = :response, #expires = :expires, #ttl = :ttl")
            .condition_expression(
                "attribute_exists(#pk) AND #hash = :hash AND attribute_not_exists(#response)",
            )
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#hash", keys::PAYLOAD_HASH)
            .expression_attribute_names("#response", keys::RESPONSE)
            .expression_attribute_names("#expires", keys::EXPIRES_AT)
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":response", s(response))
            .expression_attribute_values(":expires", n(keys::micros(expires_at)))
            .expression_attribute_values(":ttl", n(keys::ttl_seconds(expires_at)))
            .expression_attribute_values(":hash", s(payload_hash))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::VersionConflict { operation: OP })
            }
            Err(e) => Err(backend(OP, e)),
        }
    }

    async fn release(&self, key: &str) -> Result<(), StoreError> {
        const OP: &str = "release_idempotency";
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::idempotency(key))))
            .condition_expression("attribute_not_exists(#response)")
            .expression_attribute_names("#response", keys::RESPONSE)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // A completed key is kept: its response is what a retry must get.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(backend(OP, e)),
        }
    }
}

impl DynamoStore {
    /// One attempt at a claim: `Ok(None)` when the condition failed on an item that no longer
    /// blocks a claim (it changed in between), so the caller tries again.
    async fn try_claim(
        &self,
        key: &Key,
        payload_hash: &str,
        now: DateTime<Utc>,
        in_progress_until: DateTime<Utc>,
    ) -> Result<Option<IdempotencyClaim>, StoreError> {
        const OP: &str = "claim_idempotency";
        let mut item = key_item(key);
        item.insert(keys::PAYLOAD_HASH.into(), s(payload_hash));
        item.insert(
            keys::IN_PROGRESS_UNTIL.into(),
            n(keys::micros(in_progress_until)),
        );
        item.insert(
            keys::TTL.into(),
            n(keys::ttl_seconds(
                in_progress_until + Duration::hours(ABANDONED_CLAIM_TTL_HOURS),
            )),
        );
        // The same test as the in-memory store, negated: absent, expired, or a lapsed claim
        // of the same payload that was never completed.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(#pk) OR #expires <= :now \
                 OR (#hash = :hash AND attribute_not_exists(#response) AND #until <= :now)",
            )
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#expires", keys::EXPIRES_AT)
            .expression_attribute_names("#hash", keys::PAYLOAD_HASH)
            .expression_attribute_names("#response", keys::RESPONSE)
            .expression_attribute_names("#until", keys::IN_PROGRESS_UNTIL)
            .expression_attribute_values(":now", n(keys::micros(now)))
            .expression_attribute_values(":hash", s(payload_hash))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(Some(IdempotencyClaim::Claimed)),
            Err(error) => error,
        };
        let Some(service) = error.as_service_error() else {
            return Err(backend(OP, error));
        };
        if !service.is_conditional_check_failed_exception() {
            return Err(backend(OP, error));
        }
        let returned = match service {
            PutItemError::ConditionalCheckFailedException(e) => e.item().cloned(),
            _ => None,
        };
        // Emulators may not return the old item; a consistent read gets it then.
        let existing = match returned {
            Some(item) => Some(item),
            None => self.get_item(OP, key).await?,
        };
        match existing {
            Some(item) => existing_claim(&item, payload_hash, now),
            None => Ok(None),
        }
    }
}

/// A kept response as its item stores it (JSON text).
fn response_doc(operation: &'static str, response: &StoredResponse) -> Result<String, StoreError> {
    serde_json::to_string(response).map_err(|e| {
        item_error(
            operation,
            ItemError::Document {
                kind: "idempotency",
                source: e,
            },
        )
    })
}

/// The whole item of a completed key, for a completion riding in a consent write: put without
/// a condition, whatever the item held (see [`Completion`]).
pub(super) fn completed_item(
    operation: &'static str,
    completion: &Completion,
) -> Result<Item, StoreError> {
    let expires = keys::micros(completion.expires_at);
    let mut item = key_item(&keys::idempotency(&completion.key));
    item.insert(keys::PAYLOAD_HASH.into(), s(&completion.payload_hash));
    item.insert(keys::IN_PROGRESS_UNTIL.into(), n(expires));
    item.insert(
        keys::RESPONSE.into(),
        s(response_doc(operation, &completion.response)?),
    );
    item.insert(keys::EXPIRES_AT.into(), n(expires));
    item.insert(
        keys::TTL.into(),
        n(keys::ttl_seconds(completion.expires_at)),
    );
    Ok(item)
}

/// What an existing idempotency item means for a claim, exactly as the in-memory store decides;
/// `None` when it does not block a claim.
fn existing_claim(
    item: &Item,
    payload_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<IdempotencyClaim>, StoreError> {
    const OP: &str = "claim_idempotency";
    const KIND: &str = "idempotency";
    let time = |attribute: &'static str, micros: i64| {
        DateTime::from_timestamp_micros(micros).ok_or_else(|| {
            item_error(
                OP,
                ItemError::MissingAttribute {
                    kind: KIND,
                    attribute,
                },
            )
        })
    };
    let response = match item.get(keys::RESPONSE) {
        Some(AttributeValue::S(response)) => Some(
            serde_json::from_str::<StoredResponse>(response).map_err(|e| {
                item_error(
                    OP,
                    ItemError::Document {
                        kind: KIND,
                        source: e,
                    },
                )
            })?,
        ),
        _ => None,
    };
    let until = optional_number(OP, KIND, item, keys::IN_PROGRESS_UNTIL)?.ok_or_else(|| {
        item_error(
            OP,
            ItemError::MissingAttribute {
                kind: KIND,
                attribute: keys::IN_PROGRESS_UNTIL,
            },
        )
    })?;
    let expires_at = optional_number(OP, KIND, item, keys::EXPIRES_AT)?
        .map(|at| time(keys::EXPIRES_AT, at))
        .transpose()?;
    let kept = KeptClaim {
        payload_hash: string_attr(OP, KIND, item, keys::PAYLOAD_HASH)?,
        response,
        in_progress_until: time(keys::IN_PROGRESS_UNTIL, until)?,
        expires_at,
    };
    Ok(decide_claim(kept, payload_hash, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idem_item(hash: &str, until: i64, response: Option<&str>, expires: Option<i64>) -> Item {
        let mut item = key_item(&keys::idempotency("k"));
        item.insert(keys::PAYLOAD_HASH.into(), s(hash));
        item.insert(keys::IN_PROGRESS_UNTIL.into(), n(until));
        if let Some(response) = response {
            item.insert(keys::RESPONSE.into(), s(response));
        }
        if let Some(expires) = expires {
            item.insert(keys::EXPIRES_AT.into(), n(expires));
        }
        item
    }

    #[test]
    fn existing_claims_decide_like_the_memory_store() {
        let now = Utc::now();
        let t = keys::micros(now);
        let response = r#"{"status":202,"body":{"ok":true}}"#;
        let decide = |item: &Item, hash: &str| existing_claim(item, hash, now).ok().flatten();

        assert_eq!(
            decide(&idem_item("a", t + 1_000, None, None), "b"),
            Some(IdempotencyClaim::PayloadMismatch)
        );
        assert!(matches!(
            decide(&idem_item("a", t + 1_000, None, None), "a"),
            Some(IdempotencyClaim::InProgress { .. })
        ));
        assert_eq!(decide(&idem_item("a", t, None, None), "a"), None);
        assert!(matches!(
            decide(&idem_item("a", t - 5, Some(response), Some(t + 10)), "a"),
            Some(IdempotencyClaim::Completed(r)) if r.status == 202
        ));
        // Expired: as good as absent, whatever the payload.
        assert_eq!(
            decide(&idem_item("a", t - 5, Some(response), Some(t)), "b"),
            None
        );
        // A lapsed claim of another payload still refuses, as in memory.
        assert_eq!(
            decide(&idem_item("a", t - 5, None, None), "b"),
            Some(IdempotencyClaim::PayloadMismatch)
        );
    }
}
