//! consent-events: on the table's DynamoDB stream, puts every firm's feed events (DESIGN §7) on
//! an EventBridge bus, source `consent-service`, detail-types `Consent Changed` and
//! `Reply Received`, each event's JSON as the feed route returns it as detail. The handlers
//! write feed items in the transaction of the change they report and never touch EventBridge;
//! this function is the only writer to the bus.
//!
//! Delivery is at least once: a consumer dedupes by `detail.id`, the event's ULID.

#![warn(missing_docs)]

pub mod backoff;
pub mod bus;
pub mod config;
pub mod entry;
pub mod eventbridge;
pub mod publish;
pub mod record;

use consent::evidence::keys_used::KeysUsed;

/// The keys this function reads at cold start: none (it signs nothing and reads no secret).
pub const KEYS_USED: KeysUsed = KeysUsed::NONE;

pub use backoff::RetryPolicy;
pub use bus::{EntryFailure, EntryOutcome, EventBus, MAX_ENTRIES_PER_PUT, PutError};
pub use entry::{BusEntry, CONSENT_CHANGED, REPLY_RECEIVED, SOURCE};
pub use eventbridge::EventBridgeBus;
pub use publish::{Publication, publish};
