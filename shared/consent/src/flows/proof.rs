//! Proof of consent: a number's whole trail at a firm, with its hash chain, signed by the
//! service's proof key (the document is built and signed in [`crate::evidence::proof`]). When
//! the consent rests on the firm's word, the proof carries the firm's own chain too.

use std::sync::{Arc, OnceLock};

use super::{Attempt, FlowError, Services, retry_on_conflict};
use crate::evidence::audit::AuditEvent;
use crate::evidence::proof::{
    FirmChain, ProofDocument, ProofPublicKey, ProofSigner, build_firm_chain, build_proof,
    rests_on_firm_attestation,
};
use crate::evidence::shown::ShownTexts;
use crate::model::firm::Firm;
use crate::model::phone::PhoneNumber;
use crate::model::record::ConsentRecord;
use crate::ports::ProofKeyFetch;

/// The key that signs proof documents: none, given, or read on first use and kept.
#[derive(Clone, Default)]
pub struct ProofSigning {
    ready: Arc<OnceLock<Arc<ProofSigner>>>,
    fetch: Option<Arc<dyn ProofKeyFetch>>,
}

impl std::fmt::Debug for ProofSigning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProofSigning")
            .field("ready", &self.ready.get().map(|s| s.key_id().to_string()))
            .field("fetched", &self.fetch.is_some())
            .finish()
    }
}

impl ProofSigning {
    /// Signs with `signer`.
    pub fn given(signer: Arc<ProofSigner>) -> Self {
        let ready = OnceLock::new();
        let _ = ready.set(signer);
        Self {
            ready: Arc::new(ready),
            fetch: None,
        }
    }

    /// Reads the key with `fetch` when a proof is first asked for; a failed read is tried
    /// again by the next request.
    pub fn fetched(fetch: Arc<dyn ProofKeyFetch>) -> Self {
        Self {
            ready: Arc::default(),
            fetch: Some(fetch),
        }
    }

    /// The signer, read now if it has not been yet.
    pub async fn signer(&self) -> Result<Arc<ProofSigner>, FlowError> {
        if let Some(signer) = self.ready.get() {
            return Ok(signer.clone());
        }
        let fetch = self
            .fetch
            .as_ref()
            .ok_or(FlowError::ProofKeyNotConfigured)?;
        let signer = Arc::new(
            fetch
                .fetch()
                .await
                .map_err(FlowError::ProofKeyUnavailable)?,
        );
        // Two first requests at once may both read it: the first stored wins, both agree.
        Ok(self.ready.get_or_init(|| signer).clone())
    }
}

impl Services {
    /// The signed proof of a number's consent at a firm, its privileged texts as commitments
    /// or, for the firm's own copy, with the texts and salts beside them (`texts`).
    pub async fn proof(
        &self,
        firm_id: &str,
        phone: &str,
        texts: ShownTexts,
    ) -> Result<ProofDocument, FlowError> {
        let signer = self.proof_signing.signer().await?;
        let firm = self.firm(firm_id).await?;
        let phone = PhoneNumber::parse(phone)?;
        let (record, events) = self.trail(&firm.firm_id, &phone).await?;
        let document = if rests_on_firm_attestation(&record, &events) {
            let (firm, firm_chain) = self.firm_chain(&firm.firm_id).await?;
            build_proof(&firm, &record, events, self.clock.now()).with_firm_chain(firm_chain)
        } else {
            build_proof(&firm, &record, events, self.clock.now())
        };
        Ok(signer.sign(document.with_texts(texts)))
    }

    /// The signed proof of `phone` at `firm`, whose chain (read once for many proofs) it
    /// carries if the consent rests on the firm's word, showing privileged texts as `texts`.
    pub(crate) async fn proof_with_firm_chain(
        &self,
        firm: &Firm,
        firm_chain: &FirmChain,
        phone: &PhoneNumber,
        signer: &ProofSigner,
        texts: ShownTexts,
    ) -> Result<ProofDocument, FlowError> {
        let (record, events) = self.trail(&firm.firm_id, phone).await?;
        let attested = rests_on_firm_attestation(&record, &events);
        let mut document = build_proof(firm, &record, events, self.clock.now()).with_texts(texts);
        if attested {
            document = document.with_firm_chain(firm_chain.clone());
        }
        Ok(signer.sign(document))
    }

    /// A number's record and its events, of one version.
    async fn trail(
        &self,
        firm_id: &str,
        phone: &PhoneNumber,
    ) -> Result<(ConsentRecord, Vec<AuditEvent>), FlowError> {
        retry_on_conflict!(async {
            let record = self
                .store
                .get_consent(firm_id, phone)
                .await?
                .ok_or(FlowError::ConsentNotFound)?;
            let events = self.store.events(firm_id, phone).await?;
            // A write between the two reads would add events past the head the record read
            // holds: read again until the record and its events are of one version.
            let again = self.store.get_consent(firm_id, phone).await?;
            if again.is_some_and(|r| r.version == record.version) {
                return Ok(Attempt::Done((record, events)));
            }
            Ok(Attempt::Conflict)
        })
    }

    /// A firm and its own chain, of one version.
    pub(crate) async fn firm_chain(&self, firm_id: &str) -> Result<(Firm, FirmChain), FlowError> {
        retry_on_conflict!(async {
            let firm = self.firm(firm_id).await?;
            let events = self.store.firm_events(&firm.firm_id).await?;
            // As for a number: a change between the reads would move the head past the firm
            // read, so read again until the firm and its events agree.
            let again = self.store.get_firm(&firm.firm_id).await?;
            if again.is_some_and(|f| f.version == firm.version) {
                let chain = build_firm_chain(&firm, events);
                return Ok(Attempt::Done((firm, chain)));
            }
            Ok(Attempt::Conflict)
        })
    }

    /// The public key proof documents are signed with.
    pub async fn proof_key(&self) -> Result<(ProofPublicKey, String), FlowError> {
        let signer = self.proof_signing.signer().await?;
        Ok((signer.public_key(), signer.public_key_hex()))
    }
}
