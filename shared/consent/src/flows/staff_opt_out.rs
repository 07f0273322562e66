//! A revocation the contact made to the firm's staff (a call, an email, a visit): any
//! reasonable means revokes consent (47 CFR 64.1200(a)(10)), so the staff record it and the gate
//! stops texting the number at once, whether or not the service had a record of it.

use chrono::{DateTime, Duration, Utc};

use super::{Attempt, FlowError, Services, retry_on_conflict};
use crate::evidence::audit::AuditKind;
use crate::limits::{MAX_FIELD_LEN, MAX_NOTE_LEN};
use crate::model::phone::PhoneNumber;
use crate::model::record::{ConsentRecord, StaffChannel};
use crate::model::transition::{self, ConsentEvent};
use crate::ports::{ConsentWrite, StoreError};

/// How far ahead of the service's clock an `occurred_at` may be (clocks drift a little).
const CLOCK_SKEW_MINUTES: i64 = 5;

/// A revocation as the firm's staff report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffOptOut {
    /// How the contact told them.
    pub channel: StaffChannel,
    /// Who is recording it.
    pub recorded_by: String,
    /// What was said, if noted.
    pub note: Option<String>,
    /// When the contact said it, if not just now.
    pub occurred_at: Option<DateTime<Utc>>,
    /// Whether the contact asked for the one opt-out confirmation by text.
    pub send_confirmation: bool,
}

impl Services {
    /// Records a revocation made to the firm's staff: the number is opted out (a record is
    /// created if there was none), the trail keeps who recorded it, how and when; the opt-out
    /// confirmation goes out only if asked for. Returns the record as written.
    pub async fn record_staff_opt_out(
        &self,
        firm_id: &str,
        phone: &str,
        revocation: StaffOptOut,
    ) -> Result<ConsentRecord, FlowError> {
        let firm = self.firm(firm_id).await?;
        let phone = PhoneNumber::parse(phone)?;
        let recorded_by = revocation.recorded_by.trim().to_string();
        if recorded_by.is_empty() || recorded_by.len() > MAX_FIELD_LEN {
            return Err(FlowError::field(
                "recorded_by",
                format!("must be 1 to {MAX_FIELD_LEN} characters"),
            ));
        }
        let note = revocation
            .note
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        if note
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NOTE_LEN)
        {
            return Err(FlowError::field(
                "note",
                format!("is longer than {MAX_NOTE_LEN} characters"),
            ));
        }
        if revocation
            .occurred_at
            .is_some_and(|at| at > self.clock.now() + Duration::minutes(CLOCK_SKEW_MINUTES))
        {
            return Err(FlowError::field("occurred_at", "is in the future"));
        }
        let written = retry_on_conflict!(async {
            let current = self.store.get_consent(&firm.firm_id, &phone).await?;
            let step = transition::apply(
                current.as_ref(),
                &firm.firm_id,
                &phone,
                ConsentEvent::StaffOptOut {
                    channel: revocation.channel,
                    recorded_by: recorded_by.clone(),
                    note: note.clone(),
                    occurred_at: revocation.occurred_at,
                    send_confirmation: revocation.send_confirmation,
                },
                self.clock.now(),
            );
            let mut events = step.events;
            // Who made the call that recorded it, beside the name they typed.
            for event in &mut events {
                if let AuditKind::OptOutRecorded { actor, .. } = &mut event.kind {
                    *actor = self.actor();
                }
            }
            let write = ConsentWrite::new(
                &firm.firm_id,
                &phone,
                step.expected_version,
                step.record,
                events,
            );
            let record = write.record.clone().or(current);
            match self.store.commit(write).await {
                Ok(()) => Ok(Attempt::Done((record, step.replies))),
                Err(StoreError::VersionConflict { .. }) => Ok(Attempt::Conflict),
                Err(e) => Err(FlowError::from(e)),
            }
        })?;
        let (mut record, replies) = written;
        // Decided once: a failed bookkeeping write leaves no record to read it from.
        let language = record.as_ref().map(|r| r.language).unwrap_or_default();
        for reply in replies {
            record = self
                .send_reply(&firm, &phone, reply, language, record)
                .await?
                .1;
        }
        match record {
            Some(record) => Ok(record),
            // A failed bookkeeping write after the reply left the record unknown: read it.
            None => self
                .store
                .get_consent(&firm.firm_id, &phone)
                .await?
                .ok_or(FlowError::ConsentNotFound),
        }
    }
}
