//! Proof of consent: a number's whole trail at a firm, with its hash chain, signed by the
//! service's proof key (the document is built and signed in [`crate::proof`]).

use super::{FlowError, MAX_CONFLICT_RETRIES, Services};
use crate::phone::PhoneNumber;
use crate::proof::{ProofDocument, ProofPublicKey, build_proof};

impl Services {
    /// The signed proof of a number's consent at a firm.
    pub async fn proof(&self, firm_id: &str, phone: &str) -> Result<ProofDocument, FlowError> {
        let signer = self
            .proof_signer
            .clone()
            .ok_or(FlowError::ProofKeyNotConfigured)?;
        let firm = self.firm(firm_id).await?;
        let phone = PhoneNumber::parse(phone)?;
        for _ in 0..MAX_CONFLICT_RETRIES {
            let record = self
                .store
                .get_consent(&firm.firm_id, &phone)
                .await?
                .ok_or(FlowError::ConsentNotFound)?;
            let events = self.store.events(&firm.firm_id, &phone).await?;
            // A write between the two reads would add events past the head the record read
            // holds: read again until the record and its events are of one version.
            let again = self.store.get_consent(&firm.firm_id, &phone).await?;
            if again.is_some_and(|r| r.version == record.version) {
                let document = build_proof(&firm, &record, events, self.clock.now());
                return Ok(signer.sign(document));
            }
        }
        Err(FlowError::Contention)
    }

    /// The public key proof documents are signed with.
    pub fn proof_key(&self) -> Result<(ProofPublicKey, String), FlowError> {
        let signer = self
            .proof_signer
            .as_ref()
            .ok_or(FlowError::ProofKeyNotConfigured)?;
        Ok((signer.public_key(), signer.public_key_hex()))
    }
}
