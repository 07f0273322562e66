//! The consent record of one phone number at one firm: its state and what has been sent.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::caps::{CAP_WINDOW, MAX_DAILY_CAP, STATUTORY_DAILY_CAP};
use crate::model::language::Language;
use crate::model::phone::PhoneNumber;

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

/// The state of one delivery of the opt-in request on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Delivery {
    /// Not attempted yet (or a crash came between the claim and the send).
    #[default]
    NotSent,
    /// Held back until the recipient's window opens.
    Deferred {
        /// When it may go out.
        not_before: DateTime<Utc>,
    },
    /// Handed to the provider.
    Sent {
        /// The provider's id for it.
        provider_message_id: String,
        /// When it was handed over.
        at: DateTime<Utc>,
    },
    /// Claimed for sending: the provider has it or is about to. Counts as done, so no second
    /// request can go out even if the process dies before the provider's id is stored.
    Claimed {
        /// When it was claimed.
        at: DateTime<Utc>,
    },
    /// Not sent and never will be (no address, or the gate refused it).
    Skipped,
}

impl Delivery {
    /// Whether this delivery is finished (sent or skipped for good).
    pub fn is_done(&self) -> bool {
        matches!(
            self,
            Self::Sent { .. } | Self::Claimed { .. } | Self::Skipped
        )
    }
}

/// A firm message counted toward frequency caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentSend {
    /// When it was allowed.
    pub at: DateTime<Utc>,
    /// Whether it was marketing (the statutory caps count only those).
    pub marketing: bool,
}

/// How many inbound message ids a record remembers for de-duplication within the record itself.
pub const RECENT_INBOUND_IDS: usize = 32;

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
    /// The most recent inbound message ids applied, newest last.
    #[serde(default)]
    pub recent_inbound_ids: Vec<String>,
    /// The firm messages of the last 24 hours, for frequency caps (replies and the one opt-in
    /// request are not counted).
    #[serde(default)]
    pub recent_sends: Vec<RecentSend>,
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
    /// [`MAX_CONTACT_IDS`](crate::limits::MAX_CONTACT_IDS).
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

    /// Remembers a CRM contact on this number, forgetting the oldest past the limit.
    pub fn remember_contact(&mut self, contact_id: &str) {
        if self.contact_ids.iter().any(|id| id == contact_id) {
            return;
        }
        self.contact_ids.push(contact_id.to_string());
        let excess = self
            .contact_ids
            .len()
            .saturating_sub(crate::limits::MAX_CONTACT_IDS);
        self.contact_ids.drain(..excess);
    }

    /// Whether an inbound message with this id was already applied.
    pub fn has_applied(&self, inbound_message_id: &str) -> bool {
        self.recent_inbound_ids
            .iter()
            .any(|id| id == inbound_message_id)
    }

    /// Remembers an applied inbound message id, forgetting the oldest past the limit.
    pub fn remember_inbound(&mut self, inbound_message_id: &str) {
        self.recent_inbound_ids.push(inbound_message_id.to_string());
        let excess = self
            .recent_inbound_ids
            .len()
            .saturating_sub(RECENT_INBOUND_IDS);
        self.recent_inbound_ids.drain(..excess);
    }

    /// Firm messages sent in the 24 hours before `now` (marketing ones only, if asked).
    pub fn sends_within_day(&self, now: DateTime<Utc>, marketing_only: bool) -> usize {
        self.counted_sends(now, marketing_only).count()
    }

    /// When a cap of `cap` firm messages a day (marketing ones only, if asked) has room again
    /// for one more, if it has none at `now`: the moment the `cap`-th newest counted send
    /// leaves the day. `None` when there is room at `now`. A cap of 0 never has room.
    pub fn cap_frees_at(
        &self,
        now: DateTime<Utc>,
        cap: usize,
        marketing_only: bool,
    ) -> Option<DateTime<Utc>> {
        let mut times: Vec<DateTime<Utc>> = self
            .counted_sends(now, marketing_only)
            .map(|s| s.at)
            .collect();
        if times.len() < cap {
            return None;
        }
        times.sort_unstable_by(|a, b| b.cmp(a));
        // Older sends leave the day first, so once the `cap`-th newest has gone, fewer than
        // `cap` are left; the record keeps at least that many of the newest (`count_send`).
        match cap.checked_sub(1).and_then(|i| times.get(i)) {
            Some(at) => Some(*at + CAP_WINDOW),
            None => Some(DateTime::<Utc>::MAX_UTC),
        }
    }

    /// The firm messages counted toward caps at `now` (marketing ones only, if asked).
    fn counted_sends(
        &self,
        now: DateTime<Utc>,
        marketing_only: bool,
    ) -> impl Iterator<Item = &RecentSend> {
        let since = now - CAP_WINDOW;
        self.recent_sends
            .iter()
            .filter(move |s| s.at > since && (s.marketing || !marketing_only))
    }

    /// Gives back the count of a firm message allowed at `at` that the provider refused: only a
    /// message the provider accepted counts toward a cap.
    pub fn uncount_send(&mut self, at: DateTime<Utc>) {
        if let Some(index) = self.recent_sends.iter().rposition(|s| s.at == at) {
            self.recent_sends.remove(index);
        }
    }

    /// Counts a firm message sent at `at`, forgetting those older than a day, and beyond what
    /// any cap asks about: the newest [`MAX_DAILY_CAP`] sends and the newest
    /// [`STATUTORY_DAILY_CAP`] marketing sends are kept, so the record stays small however
    /// much is sent.
    pub fn count_send(&mut self, at: DateTime<Utc>, marketing: bool) {
        let since = at - CAP_WINDOW;
        self.recent_sends.retain(|s| s.at > since);
        self.recent_sends.push(RecentSend { at, marketing });
        if self.recent_sends.len() <= MAX_DAILY_CAP as usize {
            return;
        }
        let (mut kept, mut marketing_kept) = (0usize, 0usize);
        let mut keep: Vec<bool> = vec![false; self.recent_sends.len()];
        for (index, send) in self.recent_sends.iter().enumerate().rev() {
            let wanted = kept < MAX_DAILY_CAP as usize
                || (send.marketing && marketing_kept < STATUTORY_DAILY_CAP as usize);
            if wanted {
                keep[index] = true;
                kept += 1;
                marketing_kept += usize::from(send.marketing);
            }
        }
        let mut flags = keep.into_iter();
        self.recent_sends.retain(|_| flags.next().unwrap_or(false));
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
    fn a_record_remembers_only_the_sends_a_cap_can_ask_about() {
        let mut record = record();
        let start: DateTime<Utc> = "2026-12-01T15:00:00Z".parse().expect("an instant");
        // Three marketing sends, then a runaway of transactional ones within the same day.
        for i in 0..3 {
            record.count_send(start + chrono::Duration::seconds(i), true);
        }
        for i in 3..5_000 {
            record.count_send(start + chrono::Duration::seconds(i), false);
        }
        let now = start + chrono::Duration::seconds(5_000);
        assert_eq!(
            record.recent_sends.len(),
            MAX_DAILY_CAP as usize + STATUTORY_DAILY_CAP as usize
        );
        // Every cap still answers as if all were kept: the firm's highest cap is reached and
        // the marketing sends are all counted.
        assert!(record.sends_within_day(now, false) >= MAX_DAILY_CAP as usize);
        assert_eq!(record.sends_within_day(now, true), 3);
        // Oldest first, still.
        assert!(record.recent_sends.windows(2).all(|w| w[0].at <= w[1].at));
    }
}
