//! The embedded store: the consent model's store port on SQLite, for the local server and
//! small deployments on one machine (docs/architecture.md §6.3).
//!
//! One database file in WAL mode: every state change is applied atomically (a savepoint of the
//! writer's `BEGIN IMMEDIATE` transaction) under the same expected-version and chain-head
//! conditions as the DynamoDB store, and committed before the call returns, so a `kill -9` loses nothing acknowledged (and with the default
//! [`Durability::Full`], neither does a power cut). Writes go to one writer thread, which
//! commits the writes waiting together with one sync; reads use a small pool of read-only
//! connections, which WAL lets run beside a write.

mod codec;
mod consents;
mod database;
mod deferred;
mod errors;
mod firms;
mod idempotency;
mod import;
mod outbox;
mod schema;
mod settings;
mod writer;

pub use database::SqliteStore;
pub use errors::OpenError;
pub use import::ImportReport;
pub use outbox::SqliteOutbox;
pub use schema::SCHEMA_VERSION;
pub use writer::Durability;
