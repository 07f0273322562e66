//! A contact opted out at the carrier texts YES or START again: their own text is their consent,
//! recorded before anything here, whatever the provider answers. The provider still holds the
//! carrier's opt-out and drops every text to the number until it is lifted, so it is asked to
//! lift it (SNS `OptInPhoneNumber`, at most once in 30 days per number) before any reply goes
//! out, and its answer is recorded as `carrier_opt_in_requested`.
//!
//! Refused or failed, the opt-out stands at the provider: the opt-in confirmation that follows
//! fails as opted out, and the gate records the carrier opt-out again (basis `carrier`) with
//! that failure, as for any send the carrier refuses. The contact can text YES again once the
//! provider allows it; until then nothing is sent to them.

use super::{Attempt, FlowError, Services, retry_on_conflict};
use crate::evidence::audit::{AuditEvent, AuditKind, CarrierOptInOutcome};
use crate::model::firm::Firm;
use crate::model::phone::PhoneNumber;
use crate::model::record::{ConsentBasis, ConsentRecord, ConsentStatus};
use crate::ports::{CarrierOptIn, ConsentWrite, StoreError};

/// Whether a write took the number from a carrier opt-out to opted in: the contact re-subscribed
/// while the carrier still holds them opted out.
pub(crate) fn resubscribed_after_carrier_opt_out(
    before: Option<&ConsentRecord>,
    after: Option<&ConsentRecord>,
) -> bool {
    before.is_some_and(|r| r.status == ConsentStatus::OptedOut && r.basis == ConsentBasis::Carrier)
        && after.is_some_and(|r| r.status == ConsentStatus::OptedIn)
}

impl Services {
    /// Asks the provider to lift its opt-out of `phone` and records the answer on the record
    /// (`written`, as just written; read again after a lost race). Returns the record as left.
    pub(crate) async fn lift_carrier_opt_out(
        &self,
        firm: &Firm,
        phone: &PhoneNumber,
        written: Option<ConsentRecord>,
    ) -> Result<Option<ConsentRecord>, FlowError> {
        let (outcome, error) = match self.gate.carrier_opt_in(phone).await {
            Ok(CarrierOptIn::OptedIn) => (CarrierOptInOutcome::OptedIn, None),
            Ok(CarrierOptIn::TooSoon) => (CarrierOptInOutcome::TooSoon, None),
            Err(error) => (CarrierOptInOutcome::Failed, Some(error.to_string())),
        };
        tracing::info!(
            firm_id = %firm.firm_id,
            phone = %phone.masked(),
            outcome = ?outcome,
            error = error.as_deref().unwrap_or_default(),
            "carrier opt-in requested"
        );
        let mut known = written;
        retry_on_conflict!(async {
            let current = match known.take() {
                Some(record) => Some(record),
                None => self.store.get_consent(&firm.firm_id, phone).await?,
            };
            let Some(current) = current else {
                return Ok(Attempt::Done(None));
            };
            let now = self.clock.now();
            let event = AuditEvent::new(
                now,
                AuditKind::CarrierOptInRequested {
                    outcome,
                    error: error.clone(),
                },
            );
            let write = ConsentWrite::new(
                &firm.firm_id,
                phone,
                Some(current.version),
                Some(current.next_version(now)),
                vec![event],
            );
            let record = write.record.clone();
            match self.store.commit(write).await {
                Ok(()) => Ok(Attempt::Done(record)),
                Err(StoreError::VersionConflict { .. }) => Ok(Attempt::Conflict),
                Err(e) => Err(FlowError::from(e)),
            }
        })
    }
}
