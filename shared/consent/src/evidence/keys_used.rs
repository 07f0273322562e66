//! Which signing keys a function uses, declared by each function and read by its bootstrap.

/// The keys a function uses. Each is read at cold start (and granted in the SAM template) only
/// by the functions that use it, so the others start without a Secrets Manager call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeysUsed {
    /// Signs or verifies confirmation links (contact-created, email-confirm).
    pub confirmation_tokens: bool,
    /// Signs proof documents (firm-admin).
    pub proof_signing: bool,
}

impl KeysUsed {
    /// No key: the function neither signs links nor proofs.
    pub const NONE: Self = Self {
        confirmation_tokens: false,
        proof_signing: false,
    };
    /// The confirmation-token keys only.
    pub const TOKENS: Self = Self {
        confirmation_tokens: true,
        proof_signing: false,
    };
    /// The proof-signing key only.
    pub const PROOFS: Self = Self {
        confirmation_tokens: false,
        proof_signing: true,
    };
}
