//! In-memory adapters: a store that enforces the same conditions as DynamoDB, an outbox that
//! records what was "sent", and a settable clock, for unit, property and scenario tests.

mod clock;
mod outbox;
mod store;

pub use clock::SettableClock;
pub use outbox::{
    CARRIER_OPT_IN_INTERVAL_DAYS, MemoryOutbox, OPTED_OUT_PAGE, OutboxContents, SentEmail, SentSms,
};
pub use store::{IdempotencyItem, MemoryStore, StoreState};
