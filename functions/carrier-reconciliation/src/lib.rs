//! carrier-reconciliation: once a day, the SNS list of opted-out numbers against our records;
//! every pending or opted-in record of a listed number gets the carrier opt-out recorded.

use consent::evidence::keys_used::KeysUsed;
use consent::flows::carrier_reconciliation::ReconciliationReport;
use consent::flows::{FlowError, Services};

/// The keys this function reads at cold start: none (it signs no link and no proof).
pub const KEYS_USED: KeysUsed = KeysUsed::NONE;

/// The message of the summary line; the template's metric filter counts its `drifted` field.
pub const SUMMARY: &str = "carrier opt-outs reconciled";

/// A run that did not finish its work.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// Reading the provider's list or a listing of the store failed.
    #[error(transparent)]
    Flow(#[from] FlowError),
    /// Some drifted records could not be recorded; the next run (or Lambda's retry) finds them
    /// again, since recorded ones are no longer pending or opted in.
    #[error("{failed} carrier opt-outs could not be recorded")]
    Incomplete {
        /// Drifted records whose carrier opt-out could not be written.
        failed: usize,
    },
}

/// One run: reconciles, logs the summary (the drift metric), and fails if anything was left
/// unrecorded, so the function's error alarm sees it.
pub async fn reconcile(services: &Services) -> Result<ReconciliationReport, ReconcileError> {
    let report = services
        .reconcile_carrier_opt_outs()
        .await
        .inspect_err(|error| tracing::error!(error = %error, "carrier reconciliation failed"))?;
    tracing::info!(
        listed = report.listed,
        unreadable = report.unreadable,
        firms = report.firms,
        drifted = report.drifted,
        recorded = report.recorded,
        already_opted_out = report.already_opted_out,
        failed = report.failed,
        "{SUMMARY}"
    );
    if report.failed > 0 {
        return Err(ReconcileError::Incomplete {
            failed: report.failed,
        });
    }
    Ok(report)
}
