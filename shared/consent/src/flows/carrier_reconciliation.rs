//! Carrier reconciliation: the provider's list of opted-out numbers (a STOP the carrier took
//! itself, never seen by us) against our records. Every record of a listed number that we hold
//! as pending or opted in, at every firm, gets the carrier opt-out recorded (basis `carrier`),
//! so our record never says "may text" where the carrier says no. A listed number no firm holds
//! is ignored; one already opted out is left as it is, so a second run records nothing.
//!
//! How numbers are matched to firms: the whole list is read first (one set in memory, about
//! 100 bytes a number), then each firm's pending and opted-in records are paged through
//! ([`ConsentStore::list_consents`], one index query per page) and checked against the set.
//! The cost is one read of every pending or opted-in record per run, whatever the list's
//! length; the consent partition is keyed firm first, so no query finds a number's firms
//! without a second index, and nothing scans the table.
//!
//! [`ConsentStore::list_consents`]: crate::ports::ConsentStore::list_consents

use std::collections::HashSet;

use serde::Serialize;

use super::{Attempt, FlowError, Services, retry_on_conflict};
use crate::model::phone::PhoneNumber;
use crate::model::record::ConsentStatus;
use crate::model::transition::{self, ConsentEvent, Effect};
use crate::ports::{ConsentListPosition, ConsentWrite, StoreError};

/// Firms read per page of the firm listing.
pub const FIRM_PAGE: usize = 100;

/// Records read per page of a firm's listing.
pub const RECORD_PAGE: usize = 500;

/// The statuses in which a number may still be texted: the ones a carrier opt-out changes.
const TEXTABLE: [ConsentStatus; 2] = [ConsentStatus::Pending, ConsentStatus::OptedIn];

/// What one reconciliation run found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReconciliationReport {
    /// Numbers the provider lists as opted out.
    pub listed: usize,
    /// Listed entries that are not phone numbers (skipped; no record can hold them).
    pub unreadable: usize,
    /// Firms visited.
    pub firms: usize,
    /// Records held as pending or opted in for a listed number: the drift.
    pub drifted: usize,
    /// Carrier opt-outs recorded.
    pub recorded: usize,
    /// Drifted records that another write had opted out before this run could.
    pub already_opted_out: usize,
    /// Drifted records whose recording failed; the next run finds them again.
    pub failed: usize,
}

impl Services {
    /// Records a carrier opt-out for every pending or opted-in record of a number the provider
    /// lists as opted out, at every firm. A record that fails to be written is counted in
    /// `failed` and the run goes on; a failure to read the list or a listing fails the run.
    pub async fn reconcile_carrier_opt_outs(&self) -> Result<ReconciliationReport, FlowError> {
        let mut report = ReconciliationReport::default();
        let opted_out = self.carrier_opted_out_numbers(&mut report).await?;
        if opted_out.is_empty() {
            return Ok(report);
        }
        let mut after: Option<String> = None;
        loop {
            let firms = self
                .store
                .list_firm_ids(after.as_deref(), FIRM_PAGE)
                .await?;
            for firm_id in &firms {
                self.reconcile_firm(firm_id, &opted_out, &mut report)
                    .await?;
                report.firms += 1;
            }
            tracing::info!(
                firms = report.firms,
                drifted = report.drifted,
                recorded = report.recorded,
                failed = report.failed,
                "carrier reconciliation in progress"
            );
            match firms.last() {
                Some(last) if firms.len() == FIRM_PAGE => after = Some(last.clone()),
                _ => break,
            }
        }
        Ok(report)
    }

    /// The provider's whole list, page by page.
    async fn carrier_opted_out_numbers(
        &self,
        report: &mut ReconciliationReport,
    ) -> Result<HashSet<PhoneNumber>, FlowError> {
        let mut numbers = HashSet::new();
        let mut token: Option<String> = None;
        loop {
            let page = self.gate.carrier_opted_out_page(token.as_deref()).await?;
            report.listed += page.numbers.len();
            for listed in &page.numbers {
                match PhoneNumber::from_e164(listed) {
                    Ok(phone) => {
                        numbers.insert(phone);
                    }
                    Err(_) => report.unreadable += 1,
                }
            }
            // A token handed back unchanged would page forever.
            match page.next_token {
                Some(next) if token.as_deref() != Some(next.as_str()) => token = Some(next),
                _ => break,
            }
        }
        Ok(numbers)
    }

    /// One firm's pending and opted-in records against the list.
    async fn reconcile_firm(
        &self,
        firm_id: &str,
        opted_out: &HashSet<PhoneNumber>,
        report: &mut ReconciliationReport,
    ) -> Result<(), FlowError> {
        for status in TEXTABLE {
            let mut after: Option<ConsentListPosition> = None;
            loop {
                let page = self
                    .store
                    .list_consents(firm_id, Some(status), after.as_ref(), RECORD_PAGE)
                    .await?;
                for record in page.iter().filter(|r| opted_out.contains(&r.phone)) {
                    report.drifted += 1;
                    match self.record_carrier_opt_out(firm_id, &record.phone).await {
                        Ok(true) => {
                            report.recorded += 1;
                            tracing::info!(
                                firm_id = %firm_id,
                                phone = %record.phone.masked(),
                                from = record.status.as_str(),
                                "carrier opt-out recorded"
                            );
                        }
                        Ok(false) => report.already_opted_out += 1,
                        Err(error) => {
                            report.failed += 1;
                            tracing::warn!(
                                firm_id = %firm_id,
                                phone = %record.phone.masked(),
                                error = %error,
                                "recording a carrier opt-out failed; the next run tries again"
                            );
                        }
                    }
                }
                // Later pages resume after the last (status, number) seen, so records this
                // page has just opted out do not shift them.
                match page.last() {
                    Some(last) if page.len() == RECORD_PAGE => {
                        after = Some(ConsentListPosition::of(last));
                    }
                    _ => break,
                }
            }
        }
        Ok(())
    }

    /// Records the carrier opt-out on the record as it is now (the listing may lag): `false`
    /// when it is gone or already opted out.
    async fn record_carrier_opt_out(
        &self,
        firm_id: &str,
        phone: &PhoneNumber,
    ) -> Result<bool, FlowError> {
        retry_on_conflict!(async {
            let Some(current) = self.store.get_consent(firm_id, phone).await? else {
                return Ok(Attempt::Done(false));
            };
            let step = transition::apply(
                Some(&current),
                firm_id,
                phone,
                ConsentEvent::CarrierOptOut,
                self.clock.now(),
            );
            if step.effect == Effect::Duplicate {
                return Ok(Attempt::Done(false));
            }
            let write = ConsentWrite::new(
                firm_id,
                phone,
                step.expected_version,
                step.record,
                step.events,
            );
            match self.store.commit(write).await {
                Ok(()) => Ok(Attempt::Done(true)),
                Err(StoreError::VersionConflict { .. }) => Ok(Attempt::Conflict),
                Err(e) => Err(FlowError::from(e)),
            }
        })
    }
}
