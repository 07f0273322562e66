//! A message the gate held for a closed calling window, to be asked about again when it opens.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::gate::{MessageCategory, MessageKind};
use crate::model::phone::PhoneNumber;

/// A message the gate held until the recipient's window opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeferredSend {
    /// ULID.
    pub id: String,
    /// The firm.
    pub firm_id: String,
    /// The recipient.
    pub to: PhoneNumber,
    /// What kind of message.
    pub kind: MessageKind,
    /// Marketing or transactional.
    pub category: MessageCategory,
    /// The text.
    pub body: String,
    /// When it may go.
    pub not_before: DateTime<Utc>,
    /// The caller's idempotency key, if any.
    pub idempotency_key: Option<String>,
}
