//! A firm's audit bundle: the signed proof of every number of the firm (or of those with one
//! status) and a manifest listing them, signed with the proof key: what a carrier's audit asks
//! for. The bundle is written as it is made, never held whole: the records are paged through
//! `list_consents` ([`BUNDLE_PAGE`] at a time) and each proof is handed out as soon as it is
//! signed, so memory holds one page of records, one proof, and the manifest's one short entry
//! per number. The manifest comes last, as it lists what was written; a bundle cut short has
//! none, and does not verify.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, Stream};

use super::{FlowError, Services};
use crate::evidence::proof::{
    BUNDLE_FORMAT, BundleManifest, FirmChain, ManifestEntry, ProofSigner,
};
use crate::evidence::shown::ShownTexts;
use crate::model::firm::Firm;
use crate::model::phone::PhoneNumber;
use crate::model::record::{ConsentRecord, ConsentStatus};
use crate::ports::ConsentListPosition;

/// Records read from the store at a time.
pub const BUNDLE_PAGE: usize = 100;

/// Where the writing of a bundle stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Opening,
    Proofs,
    Manifest,
    Done,
}

/// A firm's audit bundle being written: pieces of its JSON text, in order, from
/// [`AuditBundle::next_chunk`].
pub struct AuditBundle {
    services: Services,
    signer: Arc<ProofSigner>,
    firm: Firm,
    firm_chain: FirmChain,
    status: Option<ConsentStatus>,
    texts: ShownTexts,
    generated_at: DateTime<Utc>,
    /// The listing's position after the last page read.
    after: Option<ConsentListPosition>,
    /// The records of the page being proved.
    page: VecDeque<ConsentRecord>,
    last_page: bool,
    /// The manifest's entries so far, one per proof written.
    entries: Vec<ManifestEntry>,
    /// The numbers proved so far: a number whose status changed during the walk can be listed
    /// twice.
    proved: HashSet<PhoneNumber>,
    stage: Stage,
}

impl std::fmt::Debug for AuditBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditBundle")
            .field("firm_id", &self.firm.firm_id)
            .field("status", &self.status)
            .field("proofs", &self.entries.len())
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

impl Services {
    /// Begins a firm's audit bundle (`status`: `opted_in`, `opted_out` or `pending`; every
    /// status when `None`): checks the request, the firm and the proof key, and reads the
    /// firm's own chain, so that what can fail for the caller fails before anything is written.
    /// Its proofs show privileged texts as `texts` asks (commitments alone by default).
    pub async fn audit_bundle(
        &self,
        firm_id: &str,
        status: Option<&str>,
        texts: ShownTexts,
    ) -> Result<AuditBundle, FlowError> {
        let status = match status {
            None => None,
            Some(text) => Some(ConsentStatus::parse(text).ok_or_else(|| {
                FlowError::field("status", "must be opted_in, opted_out or pending")
            })?),
        };
        let (firm, firm_chain) = self.firm_chain(firm_id).await?;
        let signer = self.proof_signing.signer().await?;
        Ok(AuditBundle {
            services: self.clone(),
            signer,
            firm,
            firm_chain,
            status,
            texts,
            generated_at: self.clock.now(),
            after: None,
            page: VecDeque::new(),
            last_page: false,
            entries: Vec::new(),
            proved: HashSet::new(),
            stage: Stage::Opening,
        })
    }
}

impl AuditBundle {
    /// The next piece of the bundle's JSON text; `None` once the bundle is whole. After an
    /// error the bundle is unfinished (it has no manifest): do not call again.
    pub async fn next_chunk(&mut self) -> Result<Option<String>, FlowError> {
        match self.stage {
            Stage::Opening => {
                self.stage = Stage::Proofs;
                Ok(Some(format!(
                    "{{\"format\":\"{BUNDLE_FORMAT}\",\"proofs\":["
                )))
            }
            Stage::Proofs => match self.next_proof().await? {
                Some(proof) => Ok(Some(proof)),
                None => {
                    self.stage = Stage::Manifest;
                    Ok(Some(format!("],\"manifest\":{}}}", self.manifest())))
                }
            },
            Stage::Manifest | Stage::Done => {
                self.stage = Stage::Done;
                Ok(None)
            }
        }
    }

    /// The bundle as a stream of pieces of text (a response body); it ends after the first
    /// error, leaving the bundle without its manifest.
    pub fn into_stream(self) -> impl Stream<Item = Result<String, FlowError>> + Send {
        stream::unfold(Some(self), |bundle| async move {
            let mut bundle = bundle?;
            match bundle.next_chunk().await {
                Ok(Some(chunk)) => Some((Ok(chunk), Some(bundle))),
                Ok(None) => None,
                Err(error) => {
                    // The response is under way: its status cannot say it, the log does.
                    tracing::error!(error = ?error, "an audit bundle stopped before its manifest");
                    Some((Err(error), None))
                }
            }
        })
    }

    /// The next proof's text (with the comma before it), or `None` after the last.
    async fn next_proof(&mut self) -> Result<Option<String>, FlowError> {
        loop {
            let Some(record) = self.page.pop_front() else {
                if self.last_page {
                    return Ok(None);
                }
                self.read_page().await?;
                continue;
            };
            if !self.proved.insert(record.phone.clone()) {
                continue;
            }
            let proof = self
                .services
                .proof_with_firm_chain(
                    &self.firm,
                    &self.firm_chain,
                    &record.phone,
                    &self.signer,
                    self.texts,
                )
                .await;
            let proof = match proof {
                Ok(proof) => proof,
                // Removed since it was listed: no longer the firm's to prove.
                Err(FlowError::ConsentNotFound) => continue,
                Err(error) => return Err(error),
            };
            // Changed status since it was listed: no longer what the bundle was asked for.
            if self.status.is_some_and(|s| s != proof.consent.status) {
                continue;
            }
            let comma = if self.entries.is_empty() { "" } else { "," };
            self.entries.push(ManifestEntry::of(&proof));
            return Ok(Some(format!("{comma}{}", proof.to_json())));
        }
    }

    /// Reads the next page of the firm's records.
    async fn read_page(&mut self) -> Result<(), FlowError> {
        let records = self
            .services
            .store
            .list_consents(
                &self.firm.firm_id,
                self.status,
                self.after.as_ref(),
                BUNDLE_PAGE,
            )
            .await?;
        self.last_page = records.len() < BUNDLE_PAGE;
        if let Some(last) = records.last() {
            self.after = Some(ConsentListPosition::of(last));
        }
        self.page = records.into();
        Ok(())
    }

    /// The signed manifest's text, of every proof written.
    fn manifest(&mut self) -> String {
        let manifest = BundleManifest::new(
            &self.firm.firm_id,
            self.generated_at,
            self.status,
            std::mem::take(&mut self.entries),
            self.firm_chain.head.clone(),
        );
        self.signer.sign_manifest(manifest).to_json().to_string()
    }
}
