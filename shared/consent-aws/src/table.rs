//! Creating the table when it is missing (tests, the local server's `--aws` mode); in AWS the
//! SAM template creates it.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    Projection, ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
    TimeToLiveStatus,
};
use consent::ports::StoreError;

use crate::keys;
use crate::store::{ItemError, backend};

/// How long to wait for a new table to become active.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(60);
/// The pause between two looks at the table's status.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// The table did not become active in time.
#[derive(Debug, thiserror::Error)]
#[error("the table did not become active within {0:?}")]
pub struct NotActive(pub Duration);

/// Creates `table` (keys `pk`/`sk`, on-demand, the due-sends and consents-by-status GSIs, TTL on
/// `ttl`) if it does not exist, and waits until it and its indexes are active.
pub async fn ensure_table(client: &Client, table: &str) -> Result<(), StoreError> {
    const OP: &str = "ensure_table";
    let exists = match client.describe_table().table_name(table).send().await {
        Ok(_) => true,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            false
        }
        Err(e) => return Err(backend(OP, e)),
    };
    if !exists {
        create_table(client, table).await?;
    }
    wait_until_active(client, table).await?;
    enable_ttl(client, table).await
}

async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    const OP: &str = "create_table";
    let build = |e| StoreError::Backend {
        operation: OP,
        retryable: false,
        source: Box::new(ItemError::Build(e)),
    };
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(build)
    };
    let key = |name: &str, key_type: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .map_err(build)
    };
    // Both indexes project everything under their own hash and range keys.
    let gsi = |name: &str, hash: &str, range: &str| {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(hash, KeyType::Hash)?)
            .key_schema(key(range, KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(build)
    };
    let index = gsi(keys::GSI1, keys::GSI1PK, keys::GSI1SK)?;
    // A firm's consent records by status (exports); only consent records have these keys.
    let consents = gsi(keys::GSI2, keys::GSI2PK, keys::GSI2SK)?;
    let result = client
        .create_table()
        .table_name(table)
        .attribute_definitions(attribute(keys::PK)?)
        .attribute_definitions(attribute(keys::SK)?)
        .attribute_definitions(attribute(keys::GSI1PK)?)
        .attribute_definitions(attribute(keys::GSI1SK)?)
        .attribute_definitions(attribute(keys::GSI2PK)?)
        .attribute_definitions(attribute(keys::GSI2SK)?)
        .key_schema(key(keys::PK, KeyType::Hash)?)
        .key_schema(key(keys::SK, KeyType::Range)?)
        .global_secondary_indexes(index)
        .global_secondary_indexes(consents)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        // Someone else created it meanwhile: just as good.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(backend(OP, e)),
    }
}

async fn wait_until_active(client: &Client, table: &str) -> Result<(), StoreError> {
    const OP: &str = "describe_table";
    let started = tokio::time::Instant::now();
    loop {
        let output = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| backend(OP, e))?;
        if let Some(description) = output.table() {
            let table_active = description.table_status() == Some(&TableStatus::Active);
            let indexes_active = description.global_secondary_indexes().iter().all(|index| {
                index
                    .index_status()
                    .is_none_or(|s| *s == IndexStatus::Active)
            });
            if table_active && indexes_active {
                return Ok(());
            }
        }
        if started.elapsed() > ACTIVE_TIMEOUT {
            return Err(StoreError::Backend {
                operation: OP,
                retryable: true,
                source: Box::new(NotActive(ACTIVE_TIMEOUT)),
            });
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

async fn enable_ttl(client: &Client, table: &str) -> Result<(), StoreError> {
    let status = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|e| backend("describe_time_to_live", e))?;
    let enabled = status
        .time_to_live_description()
        .and_then(|d| d.time_to_live_status())
        .is_some_and(|s| matches!(s, TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling));
    if enabled {
        // DynamoDB refuses to enable TTL twice.
        return Ok(());
    }
    let specification = TimeToLiveSpecification::builder()
        .attribute_name(keys::TTL)
        .enabled(true)
        .build()
        .map_err(|e| StoreError::Backend {
            operation: "update_time_to_live",
            retryable: false,
            source: Box::new(ItemError::Build(e)),
        })?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(specification)
        .send()
        .await
        .map_err(|e| backend("update_time_to_live", e))?;
    Ok(())
}
