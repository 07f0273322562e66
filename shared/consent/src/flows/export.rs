//! Exports: a firm's consent records by status, paged, for audits.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{FlowError, Services};
use crate::model::phone::PhoneNumber;
use crate::model::record::{ConsentBasis, ConsentStatus};
use crate::ports::ConsentListPosition;

/// Records per page unless the caller asks for another number.
pub const DEFAULT_EXPORT_LIMIT: usize = 100;
/// The most records one page holds.
pub const MAX_EXPORT_LIMIT: usize = 1000;

/// One number in an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportRow {
    /// The number, E.164.
    pub phone: String,
    /// Its status.
    pub status: ConsentStatus,
    /// What the status rests on.
    pub basis: ConsentBasis,
    /// Since when it has this status.
    pub since: DateTime<Utc>,
}

/// One page of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportPage {
    /// The records, ordered by status name, then number.
    pub consents: Vec<ExportRow>,
    /// Pass as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// An export request as the caller wrote it (query parameters).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportQuery {
    /// `opted_in`, `opted_out` or `pending`; every status when absent.
    pub status: Option<String>,
    /// Records per page, 1 to [`MAX_EXPORT_LIMIT`].
    pub limit: Option<String>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

impl Services {
    /// A page of a firm's consent records.
    pub async fn export_consents(
        &self,
        firm_id: &str,
        query: &ExportQuery,
    ) -> Result<ExportPage, FlowError> {
        let status = match query.status.as_deref() {
            None => None,
            Some(text) => Some(ConsentStatus::parse(text).ok_or_else(|| {
                FlowError::field("status", "must be opted_in, opted_out or pending")
            })?),
        };
        let limit = match query.limit.as_deref() {
            None => DEFAULT_EXPORT_LIMIT,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_EXPORT_LIMIT).contains(n))
                .ok_or_else(|| {
                    FlowError::field("limit", "must be a whole number from 1 to 1000")
                })?,
        };
        let after = match query.cursor.as_deref() {
            None => None,
            Some(cursor) => Some(decode_cursor(cursor, status).ok_or_else(|| {
                FlowError::field(
                    "cursor",
                    "is not a next_cursor of this listing (same status filter)",
                )
            })?),
        };
        let firm = self.firm(firm_id).await?;
        let mut records = self
            .store
            .list_consents(&firm.firm_id, status, after.as_ref(), limit + 1)
            .await?;
        let next_cursor = if records.len() > limit {
            records.truncate(limit);
            records
                .last()
                .map(|last| encode_cursor(&ConsentListPosition::of(last), status))
        } else {
            None
        };
        Ok(ExportPage {
            consents: records
                .into_iter()
                .map(|r| ExportRow {
                    phone: r.phone.to_string(),
                    status: r.status,
                    basis: r.basis,
                    since: r.status_changed_at,
                })
                .collect(),
            next_cursor,
        })
    }
}

/// The filter's name in a cursor (`*`: every status).
fn filter_name(filter: Option<ConsentStatus>) -> &'static str {
    filter.map_or("*", ConsentStatus::as_str)
}

/// A cursor: base64url of `v1 <filter> <status> <phone>`. It is a position, not a secret: a
/// crafted one can only skip records of the caller's own firm.
fn encode_cursor(position: &ConsentListPosition, filter: Option<ConsentStatus>) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "v1 {} {} {}",
        filter_name(filter),
        position.status.as_str(),
        position.phone.as_str()
    ))
}

/// The position in a cursor, if it is one of a listing with this filter.
fn decode_cursor(cursor: &str, filter: Option<ConsentStatus>) -> Option<ConsentListPosition> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut parts = text.split(' ');
    let (Some("v1"), Some(name), Some(status), Some(phone), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    if name != filter_name(filter) {
        return None;
    }
    let status = ConsentStatus::parse(status)?;
    if filter.is_some_and(|f| f != status) {
        return None;
    }
    let phone = PhoneNumber::parse(phone).ok()?;
    // Only the exact E.164 text the listing wrote is a position in it.
    (phone.as_str() == text.rsplit(' ').next()?).then_some(ConsentListPosition { status, phone })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_keep_their_filter() {
        let position = ConsentListPosition {
            status: ConsentStatus::OptedIn,
            phone: PhoneNumber::parse("+14155550100").unwrap(),
        };
        let filtered = encode_cursor(&position, Some(ConsentStatus::OptedIn));
        assert_eq!(
            decode_cursor(&filtered, Some(ConsentStatus::OptedIn)),
            Some(position.clone())
        );
        assert_eq!(decode_cursor(&filtered, None), None);
        assert_eq!(decode_cursor(&filtered, Some(ConsentStatus::Pending)), None);
        let all = encode_cursor(&position, None);
        assert_eq!(decode_cursor(&all, None), Some(position));
        for bad in [
            "",
            "!!",
            "djE",
            &URL_SAFE_NO_PAD.encode("v1 * opted_in 123"),
        ] {
            assert_eq!(decode_cursor(bad, None), None, "{bad}");
        }
    }
}
