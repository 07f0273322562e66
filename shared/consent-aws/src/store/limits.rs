//! The DynamoDB limits the store works within, named once.

/// DynamoDB's limit on the items of one `TransactWriteItems`.
pub const MAX_TRANSACTION_ITEMS: usize = 100;

/// DynamoDB's limit on one item's size (names and values), 400 KB.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// The bytes of item one write unit pays for: an audit events document above it is stored
/// deflated.
pub const WRITE_UNIT_BYTES: usize = 1024;

/// DynamoDB's limit on the keys of one `BatchGetItem`.
pub const BATCH_GET_KEYS: usize = 100;

/// How many times unprocessed batch keys are asked for again before giving up.
pub const BATCH_GET_ATTEMPTS: u32 = 8;
