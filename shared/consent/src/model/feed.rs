//! The firm's event feed to its CRM (DESIGN §7): what changed, told in the CRM's terms.
//! Feed events are derived from the audit events of a write and stored with them in the same
//! transaction, so there is no change without its feed event and no feed event without its
//! change.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::evidence::audit::{AuditEvent, AuditKind};
use crate::model::keywords::Classification;
use crate::model::phone::PhoneNumber;
use crate::model::record::{ConsentBasis, ConsentStatus};

/// One event of a firm's feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedEvent {
    /// A ULID: the feed's order and its cursor.
    pub id: String,
    /// The firm whose feed it is.
    pub firm_id: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// The number whose consent or reply this is.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "+14155550134"))]
    pub phone: PhoneNumber,
    /// The firm's contacts on that number, as the CRM named them.
    pub contact_ids: Vec<String>,
    /// The change, as the event's `type` and `data`.
    #[serde(flatten)]
    pub change: FeedChange,
}

/// What a feed event reports, with its `type` and `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "data")]
pub enum FeedChange {
    /// The status or its basis changed (including a new number's first `pending`).
    #[serde(rename = "consent.changed")]
    ConsentChanged {
        /// The status now.
        status: ConsentStatus,
        /// The status before (`None`: the number was new).
        previous_status: Option<ConsentStatus>,
        /// What the status now rests on.
        basis: ConsentBasis,
        /// Who or what made the change.
        channel: FeedChannel,
    },
    /// A text that changed no consent (HELP, a question, an unclear reply), for a person.
    #[serde(rename = "reply.received")]
    ReplyReceived {
        /// The text as received.
        text: String,
        /// `help` or `other`.
        kind: ReplyKind,
    },
}

impl FeedChange {
    /// The event's `type`, as serialized.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::ConsentChanged { .. } => "consent.changed",
            Self::ReplyReceived { .. } => "reply.received",
        }
    }
}

/// Who or what made a consent change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FeedChannel {
    /// The contact, by text.
    Sms,
    /// The contact, by the email link.
    Email,
    /// The firm's staff, recording what the contact told them.
    Staff,
    /// The carrier.
    Carrier,
    /// The firm (a new contact, an attested opt-in).
    Firm,
}

impl FeedChannel {
    /// The channel a status resting on `basis` came through.
    pub fn of(basis: ConsentBasis) -> Self {
        match basis {
            ConsentBasis::SmsReply => Self::Sms,
            ConsentBasis::EmailConfirmation | ConsentBasis::EmailDecline => Self::Email,
            ConsentBasis::StaffRecorded => Self::Staff,
            ConsentBasis::Carrier => Self::Carrier,
            ConsentBasis::OptInRequested | ConsentBasis::FirmAttested => Self::Firm,
        }
    }
}

/// How a reply that changed nothing was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    /// A request for help.
    Help,
    /// Anything else.
    Other,
}

/// The changes a write's audit events report, in order: one `consent.changed` per status or
/// basis change, one `reply.received` per text that changed nothing.
pub fn changes_in(events: &[AuditEvent]) -> Vec<(&AuditEvent, FeedChange)> {
    events
        .iter()
        .filter_map(|event| change_of(&event.kind).map(|change| (event, change)))
        .collect()
}

/// The feed change one audit event reports, if any.
fn change_of(kind: &AuditKind) -> Option<FeedChange> {
    let changed = |status, previous_status, basis| FeedChange::ConsentChanged {
        status,
        previous_status,
        basis,
        channel: FeedChannel::of(basis),
    };
    match kind {
        // A new number under double opt-in starts pending; without it, the `opted_in` event
        // that follows is its first change.
        AuditKind::ContactCreated {
            existing_status: None,
            double_opt_in: true,
            ..
        } => Some(changed(
            ConsentStatus::Pending,
            None,
            ConsentBasis::OptInRequested,
        )),
        AuditKind::OptedIn { from, basis, .. } => {
            Some(changed(ConsentStatus::OptedIn, *from, *basis))
        }
        AuditKind::OptedOut { from, basis, .. } => {
            Some(changed(ConsentStatus::OptedOut, *from, *basis))
        }
        AuditKind::OptOutRecorded { from, .. } => Some(changed(
            ConsentStatus::OptedOut,
            *from,
            ConsentBasis::StaffRecorded,
        )),
        AuditKind::ReplyReceived {
            text,
            classification,
            ..
        } => Some(FeedChange::ReplyReceived {
            text: text.clone(),
            kind: match classification {
                Classification::Help { .. } => ReplyKind::Help,
                _ => ReplyKind::Other,
            },
        }),
        _ => None,
    }
}

/// Gives `events` ids after `latest` (the newest id in the firm's feed) where they are not
/// already: a store that commits one write at a time calls it under its write lock, so the feed
/// is in commit order and a poller's cursor never passes an event committed later.
pub fn order_after(latest: Option<&str>, events: &mut [FeedEvent]) {
    let mut last = latest.and_then(|id| ulid::Ulid::from_string(id).ok());
    for event in events {
        let id = ulid::Ulid::from_string(&event.id).ok();
        let next = match (id, last) {
            (Some(id), Some(last)) if id > last => id,
            (Some(id), None) => id,
            (_, Some(last)) => last.increment().unwrap_or(last),
            (None, None) => ulid::Ulid::new(),
        };
        event.id = next.to_string();
        last = Some(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::transition::{ConsentEvent, apply};

    fn at() -> DateTime<Utc> {
        "2026-12-01T18:00:00Z".parse().expect("an instant")
    }

    fn phone() -> PhoneNumber {
        PhoneNumber::parse("+14155550123").expect("a number")
    }

    fn created(double_opt_in: bool) -> ConsentEvent {
        ConsentEvent::ContactCreated {
            contact_id: "c-1".to_string(),
            source: None,
            email: None,
            double_opt_in,
            time_zone: None,
        }
    }

    fn changes(
        current: Option<&crate::model::record::ConsentRecord>,
        event: ConsentEvent,
    ) -> Vec<FeedChange> {
        let step = apply(current, "f1", &phone(), event, at());
        changes_in(&step.events)
            .into_iter()
            .map(|(_, c)| c)
            .collect()
    }

    #[test]
    fn a_new_contact_under_double_opt_in_is_one_change_to_pending() {
        assert_eq!(
            changes(None, created(true)),
            [FeedChange::ConsentChanged {
                status: ConsentStatus::Pending,
                previous_status: None,
                basis: ConsentBasis::OptInRequested,
                channel: FeedChannel::Firm,
            }]
        );
    }

    #[test]
    fn a_firm_attested_contact_is_one_change_to_opted_in() {
        assert_eq!(
            changes(None, created(false)),
            [FeedChange::ConsentChanged {
                status: ConsentStatus::OptedIn,
                previous_status: None,
                basis: ConsentBasis::FirmAttested,
                channel: FeedChannel::Firm,
            }]
        );
    }

    #[test]
    fn a_yes_then_help_are_a_change_then_a_reply() {
        let pending = apply(None, "f1", &phone(), created(true), at())
            .record
            .expect("a record");
        let sms = |text: &str, id: &str| ConsentEvent::SmsReceived {
            inbound_message_id: id.to_string(),
            text: text.to_string(),
            received_at: at(),
        };
        assert_eq!(
            changes(Some(&pending), sms("YES", "in-1")),
            [FeedChange::ConsentChanged {
                status: ConsentStatus::OptedIn,
                previous_status: Some(ConsentStatus::Pending),
                basis: ConsentBasis::SmsReply,
                channel: FeedChannel::Sms,
            }]
        );
        assert_eq!(
            changes(Some(&pending), sms("HELP", "in-2")),
            [FeedChange::ReplyReceived {
                text: "HELP".to_string(),
                kind: ReplyKind::Help,
            }]
        );
        let again = apply(None, "f1", &phone(), created(true), at()).record;
        assert!(
            changes(again.as_ref(), created(true)).is_empty(),
            "a second contact on a known number changes nothing"
        );
    }

    #[test]
    fn a_decline_on_the_email_page_is_a_change_by_email_and_a_repeat_is_none() {
        let pending = apply(None, "f1", &phone(), created(true), at())
            .record
            .expect("a record");
        let decline = || ConsentEvent::EmailDeclined {
            ip: None,
            user_agent: None,
        };
        assert_eq!(
            changes(Some(&pending), decline()),
            [FeedChange::ConsentChanged {
                status: ConsentStatus::OptedOut,
                previous_status: Some(ConsentStatus::Pending),
                basis: ConsentBasis::EmailDecline,
                channel: FeedChannel::Email,
            }]
        );
        let declined = apply(Some(&pending), "f1", &phone(), decline(), at()).record;
        assert!(changes(declined.as_ref(), decline()).is_empty());
    }

    #[test]
    fn a_feed_event_serializes_with_its_type_and_data() {
        let event = FeedEvent {
            id: "01JEXAMPLE0000000000000000".to_string(),
            firm_id: "f1".to_string(),
            occurred_at: at(),
            phone: phone(),
            contact_ids: vec!["c-1".to_string()],
            change: FeedChange::ReplyReceived {
                text: "Can I come Tuesday?".to_string(),
                kind: ReplyKind::Other,
            },
        };
        let json = serde_json::to_value(&event).expect("serializes");
        assert_eq!(json["type"], event.change.type_name());
        assert_eq!(json["data"]["kind"], "other");
        assert_eq!(json["phone"], "+14155550123");
        let back: FeedEvent = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, event);
    }

    #[test]
    fn ids_are_put_after_the_latest_in_commit_order() {
        let event = |id: &str| FeedEvent {
            id: id.to_string(),
            firm_id: "f1".to_string(),
            occurred_at: at(),
            phone: phone(),
            contact_ids: Vec::new(),
            change: FeedChange::ReplyReceived {
                text: "ok".to_string(),
                kind: ReplyKind::Other,
            },
        };
        let older = ulid::Ulid::from_parts(1_000, 5).to_string();
        let latest = ulid::Ulid::from_parts(2_000, 5).to_string();
        let newer = ulid::Ulid::from_parts(3_000, 5).to_string();
        let mut events = vec![event(&older), event(&newer)];
        order_after(Some(&latest), &mut events);
        assert!(
            events[0].id > latest,
            "an id built before the latest commit moves after it"
        );
        assert_eq!(events[1].id, newer, "a later id is kept");
        assert!(events[1].id > events[0].id);
    }
}
