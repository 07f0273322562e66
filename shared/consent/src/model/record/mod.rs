//! The consent record of one phone number at one firm: its state and what has been sent.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::language::Language;
use crate::model::phone::PhoneNumber;

mod send_history;
mod stored;
mod stored_time;

pub use send_history::SendHistory;
pub use stored::{RecordColumns, StoredRecord};

/// Where a number stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    /// The opt-in request went out (or is due); no answer yet.
    Pending,
    /// The contact confirmed (or the firm attested, with double opt-in off).
    OptedIn,
    /// The contact revoked consent (or the carrier reports them opted out).
    OptedOut,
}

impl ConsentStatus {
    /// The wire name (`pending`, `opted_in`, `opted_out`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::OptedIn => "opted_in",
            Self::OptedOut => "opted_out",
        }
    }

    /// The status a wire name stands for.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Pending, Self::OptedIn, Self::OptedOut]
            .into_iter()
            .find(|status| status.as_str() == name)
    }
}

/// Why the record is in its state: the evidence behind the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsentBasis {
    /// Pending: the opt-in request was issued for a new contact.
    OptInRequested,
    /// The contact texted a keyword (YES, STOP, ...).
    SmsReply,
    /// The contact confirmed through the email link.
    EmailConfirmation,
    /// The firm attested consent while its double opt-in was off.
    FirmAttested,
    /// The carrier reports the number opted out.
    Carrier,
    /// The firm's staff recorded a revocation the contact made to them (by phone, email, in
    /// person): any reasonable means revokes (47 CFR 64.1200(a)(10)).
    StaffRecorded,
    /// The contact pressed "no thanks" on the page behind the email link.
    EmailDecline,
}

/// How a contact told the firm's staff to stop, for a revocation staff record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StaffChannel {
    /// A phone call.
    PhoneCall,
    /// An email.
    Email,
    /// In person.
    InPerson,
    /// A letter.
    Mail,
    /// Any other way.
    Other,
}

impl StaffChannel {
    /// Every channel, as the API names them.
    pub const ALL: [Self; 5] = [
        Self::PhoneCall,
        Self::Email,
        Self::InPerson,
        Self::Mail,
        Self::Other,
    ];

    /// The API name (`phone_call`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PhoneCall => "phone_call",
            Self::Email => "email",
            Self::InPerson => "in_person",
            Self::Mail => "mail",
            Self::Other => "other",
        }
    }

    /// The channel the API name stands for.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// The state of one delivery of the opt-in request on one channel. Stored only (the API shows
/// the record's view), so its stored form is compact: instants in nanoseconds, the provider's id
/// as `id` (both read in their earlier form too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Delivery {
    /// Not attempted yet (or a crash came between the claim and the send).
    #[default]
    NotSent,
    /// Held back until the recipient's window opens.
    Deferred {
        /// When it may go out.
        #[serde(with = "stored_time")]
        not_before: DateTime<Utc>,
    },
    /// Handed to the provider.
    Sent {
        /// The provider's id for it.
        #[serde(rename = "id", alias = "provider_message_id")]
        provider_message_id: String,
        /// When it was handed over.
        #[serde(with = "stored_time")]
        at: DateTime<Utc>,
    },
    /// Claimed for sending: the provider has it or is about to. Counts as done, so no second
    /// request can go out even if the process dies before the provider's id is stored.
    Claimed {
        /// When it was claimed.
        #[serde(with = "stored_time")]
        at: DateTime<Utc>,
    },
    /// Not sent and never will be (no address, or the gate refused it).
    Skipped,
}

impl Delivery {
    /// Whether nothing was attempted yet.
    pub fn is_not_sent(&self) -> bool {
        matches!(self, Self::NotSent)
    }

    /// Whether this delivery is finished (sent or skipped for good).
    pub fn is_done(&self) -> bool {
        matches!(
            self,
            Self::Sent { .. } | Self::Claimed { .. } | Self::Skipped
        )
    }
}

/// How many inbound message ids a record remembers for de-duplication within the record itself
/// (each store also keeps a marker per inbound id for 30 days).
pub const RECENT_INBOUND_IDS: usize = 4;

/// The consent of one phone number at one firm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// The firm.
    pub firm_id: String,
    /// The number, E.164.
    pub phone: PhoneNumber,
    /// Where it stands.
    pub status: ConsentStatus,
    /// What the current status rests on (a reply, the email link, a carrier, the firm).
    pub basis: ConsentBasis,
    /// Incremented on every write; every write is conditioned on the version read.
    pub version: u64,
    /// When the record was first created.
    pub created_at: DateTime<Utc>,
    /// The time of the event that set the current status (out-of-order events older than this
    /// are recorded but do not override it).
    pub status_changed_at: DateTime<Utc>,
    /// When the record was last written.
    pub updated_at: DateTime<Utc>,
    /// The one opt-in request by SMS.
    #[serde(default)]
    pub opt_in_sms: Delivery,
    /// The one opt-in request by email.
    #[serde(default)]
    pub opt_in_email: Delivery,
    /// Whether the one opt-out confirmation of the current opt-out has gone out.
    #[serde(default)]
    pub opt_out_confirmation_sent: bool,
    /// The digests of the most recent inbound message ids applied, newest last (records
    /// written before digests hold the ids themselves).
    #[serde(default)]
    pub recent_inbound_ids: Vec<String>,
    /// The firm messages of the last 24 hours, for frequency caps (replies and the one opt-in
    /// request are not counted).
    #[serde(default)]
    pub recent_sends: SendHistory,
    /// The recipient's own time zone (IANA), when the CRM gave one.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// The hash of the newest audit event of this number (the head of the chain).
    #[serde(default)]
    pub audit_head: Option<String>,
    /// The state the contact lives in (two letters), when the CRM gave it: its calling rules
    /// apply beside those of the number's area code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The language the contact is written to in: it picks every template sent to this number
    /// (English for records written before languages existed).
    #[serde(default)]
    pub language: Language,
    /// The CRM's contacts on this number, oldest first (the feed's `contact_ids`); at most
    /// [`MAX_CONTACT_IDS`](crate::limits::MAX_CONTACT_IDS) of them and
    /// [`CONTACT_IDS_BYTES`](crate::limits::CONTACT_IDS_BYTES) together.
    #[serde(default)]
    pub contact_ids: Vec<String>,
}

impl ConsentRecord {
    /// The record as the next write will store it: a copy one version on, updated `now`. Every
    /// consent write bumps the version here; the store conditions on the version it replaces.
    pub fn next_version(&self, now: DateTime<Utc>) -> Self {
        let mut next = self.clone();
        next.version += 1;
        next.updated_at = now;
        next
    }

    /// Remembers a CRM contact on this number, forgetting the oldest past the limits (the
    /// newest is kept whatever its length).
    pub fn remember_contact(&mut self, contact_id: &str) {
        if self.contact_ids.iter().any(|id| id == contact_id) {
            return;
        }
        self.contact_ids.push(contact_id.to_string());
        let mut bytes = 0;
        let kept = self
            .contact_ids
            .iter()
            .rev()
            .take(crate::limits::MAX_CONTACT_IDS)
            .take_while(|id| {
                bytes += id.len();
                bytes == id.len() || bytes <= crate::limits::CONTACT_IDS_BYTES
            })
            .count();
        let excess = self.contact_ids.len() - kept;
        self.contact_ids.drain(..excess);
    }

    /// Whether an inbound message with this id was already applied.
    pub fn has_applied(&self, inbound_message_id: &str) -> bool {
        let digest = inbound_digest(inbound_message_id);
        self.recent_inbound_ids
            .iter()
            .any(|id| *id == digest || id == inbound_message_id)
    }

    /// Remembers an applied inbound message id, forgetting the oldest past the limit.
    pub fn remember_inbound(&mut self, inbound_message_id: &str) {
        self.recent_inbound_ids
            .push(inbound_digest(inbound_message_id));
        let excess = self
            .recent_inbound_ids
            .len()
            .saturating_sub(RECENT_INBOUND_IDS);
        self.recent_inbound_ids.drain(..excess);
    }

    /// Whether the gate treats this record as consent to text, given the firm's setting.
    pub fn allows_texting(&self, double_opt_in: bool) -> bool {
        match (self.status, self.basis) {
            (ConsentStatus::OptedIn, ConsentBasis::FirmAttested) => !double_opt_in,
            (ConsentStatus::OptedIn, _) => true,
            _ => false,
        }
    }
}

/// What a record keeps of an inbound message id: 48 bits of its SHA-256 in base64url, 8
/// characters whatever the provider's id. A new id matches one of a record's few by chance
/// about once in 10^13 messages, and the store's marker per id stands behind it anyway.
fn inbound_digest(inbound_message_id: &str) -> String {
    use base64::Engine as _;
    use sha2::{Digest as _, Sha256};
    let hash = Sha256::digest(inbound_message_id.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&hash[..6])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::transition::{self, ConsentEvent};

    fn record() -> ConsentRecord {
        let phone = PhoneNumber::parse("+13055550123").expect("a number");
        let at = "2026-12-01T15:00:00Z".parse().expect("an instant");
        transition::apply(
            None,
            "firm-1",
            &phone,
            ConsentEvent::ContactCreated {
                contact_id: "c-1".into(),
                source: None,
                email: None,
                double_opt_in: true,
                time_zone: None,
            },
            at,
        )
        .record
        .expect("a new record")
    }

    #[test]
    fn a_record_remembers_its_newest_contacts_within_the_byte_limit() {
        use crate::limits::{CONTACT_IDS_BYTES, MAX_CONTACT_IDS};
        let mut record = record();
        for i in 0..(MAX_CONTACT_IDS + 5) {
            record.remember_contact(&format!("c-{i}"));
        }
        assert_eq!(record.contact_ids.len(), MAX_CONTACT_IDS);
        assert_eq!(
            record.contact_ids.last().map(String::as_str),
            Some(format!("c-{}", MAX_CONTACT_IDS + 4).as_str())
        );
        let long = "x".repeat(CONTACT_IDS_BYTES / 2);
        record.remember_contact(&format!("a{long}"));
        record.remember_contact(&format!("b{long}"));
        assert_eq!(record.contact_ids, vec![format!("b{long}")]);
        let longest = "y".repeat(CONTACT_IDS_BYTES * 2);
        record.remember_contact(&longest);
        assert_eq!(
            record.contact_ids,
            vec![longest],
            "the newest is kept whatever its length"
        );
    }

    #[test]
    fn a_record_remembers_inbound_ids_by_digest_and_reads_ids_kept_before() {
        let mut record = record();
        let id = "4b1f6f4a-2c1e-4f55-9c9e-0d2b1e6f7a11";
        record.remember_inbound(id);
        assert!(record.has_applied(id));
        assert!(!record.has_applied("another"));
        assert_eq!(record.recent_inbound_ids[0].len(), 8);
        assert_ne!(record.recent_inbound_ids[0], id);
        record.recent_inbound_ids = vec![id.to_string()];
        assert!(record.has_applied(id), "an id kept whole before digests");
    }
}
