//! In-memory adapters of the ports: the store, a recording sender and mailer, a settable clock.

pub mod memory;
