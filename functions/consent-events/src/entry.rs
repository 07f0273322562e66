//! A feed event as an EventBridge entry: source `consent-service`, a detail-type by the event's
//! type, and as detail the event exactly as `GET /v1/firms/{firm_id}/events` returns it.

use consent::model::feed::{FeedChange, FeedEvent};

/// The `source` of every event this service puts on the bus.
pub const SOURCE: &str = "consent-service";
/// The detail-type of a `consent.changed` event.
pub const CONSENT_CHANGED: &str = "Consent Changed";
/// The detail-type of a `reply.received` event.
pub const REPLY_RECEIVED: &str = "Reply Received";

/// One event as the bus is given it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusEntry {
    /// The feed event's id (a ULID), also the detail's `id`: what a consumer dedupes on.
    pub event_id: String,
    /// The firm whose feed it is (for the logs; the detail carries it too).
    pub firm_id: String,
    /// `Consent Changed` or `Reply Received`.
    pub detail_type: &'static str,
    /// The feed event as JSON.
    pub detail: String,
}

impl BusEntry {
    /// The entry of `event`.
    pub fn of(event: &FeedEvent) -> Result<Self, serde_json::Error> {
        Ok(Self {
            event_id: event.id.clone(),
            firm_id: event.firm_id.clone(),
            detail_type: detail_type(&event.change),
            detail: serde_json::to_string(event)?,
        })
    }
}

/// The detail-type of a change.
pub fn detail_type(change: &FeedChange) -> &'static str {
    match change {
        FeedChange::ConsentChanged { .. } => CONSENT_CHANGED,
        FeedChange::ReplyReceived { .. } => REPLY_RECEIVED,
    }
}
