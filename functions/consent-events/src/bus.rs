//! The port to the event bus: one PutEvents call, and which of its failures are worth trying
//! again. The handler sees only this, so it is tested with a fake bus.

use async_trait::async_trait;

use crate::entry::BusEntry;

/// The most entries one PutEvents call takes.
pub const MAX_ENTRIES_PER_PUT: usize = 10;

/// Where the feed events go.
#[async_trait]
pub trait EventBus: Send + Sync {
    /// Puts `entries` (at most [`MAX_ENTRIES_PER_PUT`]) in one call; on an answer, one outcome
    /// per entry, in the entries' order.
    async fn put(&self, entries: &[BusEntry]) -> Result<Vec<EntryOutcome>, PutError>;
}

/// What became of one entry of a call that was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryOutcome {
    /// The bus took it.
    Put,
    /// The bus refused it (a partial failure).
    Failed(EntryFailure),
}

/// Why the bus refused an entry, as PutEvents reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFailure {
    /// The entry's `ErrorCode` (`ThrottlingException`, `InternalFailure`, `MalformedDetail`...).
    pub code: Option<String>,
    /// The entry's `ErrorMessage`.
    pub message: Option<String>,
}

impl EntryFailure {
    /// Whether putting the entry again may succeed: the one classifier of the AWS adapters
    /// (`consent_aws::errors`), which names throttling and internal failures as transient.
    pub fn is_retryable(&self) -> bool {
        consent_aws::errors::is_retryable_code(self.code.as_deref())
    }
}

/// The whole call failed: no entry is known to be on the bus.
#[derive(Debug, thiserror::Error)]
#[error("PutEvents failed ({})", if *.retryable { "retryable" } else { "not retryable" })]
pub struct PutError {
    /// Whether calling again may succeed.
    pub retryable: bool,
    /// The SDK's error, kept whole.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}
