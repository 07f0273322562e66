//! What the service can prove: audit events, their canonical JSON, the commitments that stand
//! for privileged texts and the forms events are shown in, the per-number hash chain and the
//! firm's own, the signed proof document and audit bundle, and the signed
//! confirmation-link tokens.

pub mod audit;
pub mod audit_canonical;
pub mod canonical;
pub mod chain;
pub mod commitment;
pub mod firm_chain;
pub mod keys_used;
pub mod proof;
pub mod shown;
pub mod token;
