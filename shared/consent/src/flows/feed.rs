//! Reading a firm's feed (DESIGN §7): the CRM polls it with the last id it saw.

use serde::Serialize;

use crate::flows::{FlowError, Services};
use crate::limits::{DEFAULT_FEED_PAGE, MAX_FEED_PAGE};
use crate::model::feed::FeedEvent;

/// A page of the feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedPage {
    /// The events after the cursor, oldest first.
    pub events: Vec<FeedEvent>,
    /// Where the next poll resumes: the last event's id, or the cursor given when none came
    /// (`None` only for an empty feed read from its start).
    pub next_cursor: Option<String>,
}

impl Services {
    /// The firm's events after `after` (from the start when `None`), at most `limit` as the
    /// poller wrote it (default [`DEFAULT_FEED_PAGE`], 1 to [`MAX_FEED_PAGE`]).
    pub async fn feed(
        &self,
        firm_id: &str,
        after: Option<&str>,
        limit: Option<&str>,
    ) -> Result<FeedPage, FlowError> {
        let limit = match limit {
            None => DEFAULT_FEED_PAGE,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_FEED_PAGE).contains(n))
                .ok_or_else(|| {
                    FlowError::field("limit", format!("must be 1 to {MAX_FEED_PAGE}"))
                })?,
        };
        // A cursor is an event id the feed handed out: a ULID, nothing else.
        let after = match after {
            Some(cursor) => Some(
                ulid::Ulid::from_string(cursor)
                    .map_err(|_| FlowError::InvalidCursor)?
                    .to_string(),
            ),
            None => None,
        };
        let firm = self.firm(firm_id).await?;
        let events = self
            .store
            .feed(&firm.firm_id, after.as_deref(), limit)
            .await?;
        let next_cursor = events.last().map(|e| e.id.clone()).or(after);
        Ok(FeedPage {
            events,
            next_cursor,
        })
    }
}
