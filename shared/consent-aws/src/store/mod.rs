//! The DynamoDB store: the four store ports over one table (layout in [`crate::keys`]), with the
//! same conditions as the in-memory store, enforced by DynamoDB condition expressions.
//!
//! - `items`: items to and from the model types, and the store's errors.
//! - `reads`: consistent reads, queries and batch reads.
//! - `conditions`: conditional writes in one transaction, and what a failed condition means.
//! - `firms`, `consents`, `idempotency`, `deferred`: one port each.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

mod conditions;
mod consents;
mod deferred;
mod firms;
mod idempotency;
mod items;
mod limits;
mod reads;

pub use items::ItemError;
pub(crate) use items::backend;
pub use limits::{BATCH_GET_KEYS, MAX_TRANSACTION_ITEMS};

/// One DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// The store over one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// A store on `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }
}
