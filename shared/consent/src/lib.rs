//! The consent model of the SMS double opt-in service, with no I/O and no AWS types.
//!
//! The folders are its roles (see `docs/architecture.md`, "The consent crate"):
//! - [`model`]: what consent is: numbers, firms, records, transitions, keywords, the gate
//!   policy, calling windows and caps;
//! - [`messages`]: what the service says: templates, their syntax allow-list, SMS segments;
//! - [`evidence`]: what the service can prove: audit events, canonical JSON, the hash chain,
//!   signed proofs, confirmation tokens;
//! - [`ports`]: the narrow traits through which flows store and send;
//! - [`adapters`]: the in-memory implementations of those ports;
//! - [`flows`]: each use case, written once over the ports.

pub mod adapters;
pub mod evidence;
pub mod flows;
pub mod limits;
pub mod messages;
pub mod model;
pub mod ports;
