//! Email-link confirmation: GET shows (and changes nothing), POST confirms or declines.

use super::draft::Draft;
use super::inbound::reply_owed;
use super::{Attempt, FlowError, Services, retry_on_conflict};
use crate::evidence::audit::{AuditKind, OptInEvidence};
use crate::evidence::token::{ConfirmationClaims, TokenError};
use crate::model::firm::Firm;
use crate::model::gate::MessageKind;
use crate::model::phone::PhoneNumber;
use crate::model::record::{ConsentBasis, ConsentStatus};
use crate::model::transition::{self, ConsentEvent, Effect, Reply};
use crate::ports::{ConsentWrite, StoreError};

/// What the confirmation page needs to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmationView {
    /// The firm's name.
    pub firm_name: String,
    /// The number, masked.
    pub phone_masked: String,
    /// The number's last four digits (what a screen reader says instead of the mask's stars).
    pub phone_last_four: String,
    /// The status now.
    pub status: ConsentStatus,
    /// Where the contact can write for help.
    pub support_email: String,
    /// Where the contact can call for help.
    pub support_phone: String,
    /// The number the firm texts from, as a person dials it: where a contact who declined
    /// texts START.
    pub sms_number: String,
    /// The firm's privacy policy (https), if it gave one.
    pub privacy_url: Option<String>,
    /// The firm's messaging terms (https), if it gave them.
    pub terms_url: Option<String>,
}

impl ConfirmationView {
    fn of(firm: &Firm, phone: &PhoneNumber, status: ConsentStatus) -> Self {
        Self {
            firm_name: firm.name.clone(),
            phone_masked: phone.masked(),
            phone_last_four: phone.last_four().to_string(),
            status,
            support_email: firm.support_email.clone(),
            support_phone: firm.support_phone.clone(),
            sms_number: firm.sms_number.dialled(),
            privacy_url: firm.privacy_url.clone(),
            terms_url: firm.terms_url.clone(),
        }
    }
}

/// The result of pressing the button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmResult {
    /// Now opted in.
    Confirmed,
    /// Was already opted in.
    AlreadyConfirmed,
    /// Opted out: only a text (START, YES) re-subscribes.
    OptedOut,
}

/// The result of pressing "this isn't me / no thanks".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclineResult {
    /// Now opted out (it was pending, or opted in).
    Declined,
    /// Was already opted out: nothing changed.
    AlreadyOptedOut,
}

/// Why a confirmation link does not work.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    /// The token is not valid (tampered, malformed, unknown key, or its record is gone).
    #[error("the link is not valid")]
    Invalid,
    /// The token expired.
    #[error("the link expired")]
    Expired,
    /// The service failed.
    #[error(transparent)]
    Flow(#[from] FlowError),
}

impl From<TokenError> for ConfirmError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Expired { .. } => Self::Expired,
            _ => Self::Invalid,
        }
    }
}

impl Services {
    /// Reads what the confirmation page shows; changes nothing (mail scanners fetch links).
    pub async fn view_confirmation(&self, token: &str) -> Result<ConfirmationView, ConfirmError> {
        let (firm, claims) = self.open_token(token).await?;
        let record = self
            .store
            .get_consent(&firm.firm_id, &claims.phone)
            .await
            .map_err(FlowError::from)?
            .ok_or(ConfirmError::Invalid)?;
        Ok(ConfirmationView::of(&firm, &claims.phone, record.status))
    }

    /// Confirms the number behind the token.
    pub async fn confirm_email(
        &self,
        token: &str,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<(ConfirmationView, ConfirmResult), ConfirmError> {
        let (firm, claims) = self.open_token(token).await?;
        let phone: &PhoneNumber = &claims.phone;
        retry_on_conflict!(async {
            let current = self
                .store
                .get_consent(&firm.firm_id, phone)
                .await
                .map_err(FlowError::from)?;
            let step = transition::apply(
                current.as_ref(),
                &firm.firm_id,
                phone,
                ConsentEvent::EmailConfirmed {
                    ip: ip.clone(),
                    user_agent: user_agent.clone(),
                },
                self.clock.now(),
            );
            if step.effect == Effect::NoRecord {
                return Err(ConfirmError::Invalid);
            }
            let result = match (step.effect, current.as_ref().map(|r| r.status)) {
                (Effect::Changed { .. }, _) => ConfirmResult::Confirmed,
                (_, Some(ConsentStatus::OptedOut)) => ConfirmResult::OptedOut,
                _ => ConfirmResult::AlreadyConfirmed,
            };
            let status = step
                .record
                .as_ref()
                .map_or(ConsentStatus::Pending, |r| r.status);
            let mut draft = Draft::new(
                &firm.firm_id,
                phone,
                step.expected_version,
                step.record.clone(),
                step.events,
            );
            // Decided once: a failed bookkeeping write leaves no record to read it from.
            let language = draft
                .record
                .as_ref()
                .or(current.as_ref())
                .map(|r| r.language)
                .unwrap_or_default();
            // The confirmation's claim rides in the opt-in's own write.
            let folded = if step.replies.contains(&Reply::OptInConfirmation) {
                self.fold_reply(&firm, phone, Reply::OptInConfirmation, language, &mut draft)
                    .await?
            } else {
                None
            };
            let write = draft.seal();
            // The record as written (chain head sealed): the reply decides on it, unread.
            let written = write.record.clone();
            let mut latest = written.clone().or_else(|| current.clone());
            match self.store.commit(write).await {
                Ok(()) => {}
                Err(StoreError::VersionConflict { .. }) => return Ok(Attempt::Conflict),
                Err(e) => return Err(FlowError::from(e).into()),
            }
            if let Some(folded) = folded {
                latest = self.finish_reply(&firm, folded, written).await?.1;
            } else if step.replies.contains(&Reply::OptInConfirmation) {
                latest = self
                    .send_reply(&firm, phone, Reply::OptInConfirmation, language, latest)
                    .await?
                    .1;
            }
            // A repeat of a confirmation whose reply never went out (it failed after the
            // opt-in was written) sends it now.
            if result == ConfirmResult::AlreadyConfirmed
                && current
                    .as_ref()
                    .is_some_and(|r| r.basis == ConsentBasis::EmailConfirmation)
            {
                let events = self
                    .store
                    .events(&firm.firm_id, phone)
                    .await
                    .map_err(FlowError::from)?;
                let owed = reply_owed(
                    &events,
                    |kind| {
                        matches!(
                            kind,
                            AuditKind::OptedIn {
                                evidence: OptInEvidence::Email { .. },
                                ..
                            }
                        )
                    },
                    MessageKind::OptInConfirmation,
                    self.clock.now(),
                );
                if owed {
                    self.send_reply(&firm, phone, Reply::OptInConfirmation, language, latest)
                        .await?;
                }
            }
            let view = ConfirmationView::of(&firm, phone, status);
            Ok(Attempt::Done((view, result)))
        })
    }

    /// Declines for the number behind the token: it is opted out (basis `email_decline`) and
    /// nothing is sent, the page being the answer; already opted out, nothing changes.
    pub async fn decline_email(
        &self,
        token: &str,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<(ConfirmationView, DeclineResult), ConfirmError> {
        let (firm, claims) = self.open_token(token).await?;
        let phone: &PhoneNumber = &claims.phone;
        retry_on_conflict!(async {
            let current = self
                .store
                .get_consent(&firm.firm_id, phone)
                .await
                .map_err(FlowError::from)?;
            let step = transition::apply(
                current.as_ref(),
                &firm.firm_id,
                phone,
                ConsentEvent::EmailDeclined {
                    ip: ip.clone(),
                    user_agent: user_agent.clone(),
                },
                self.clock.now(),
            );
            let result = match step.effect {
                Effect::NoRecord => return Err(ConfirmError::Invalid),
                Effect::Changed { .. } => DeclineResult::Declined,
                _ => DeclineResult::AlreadyOptedOut,
            };
            let write = ConsentWrite::new(
                &firm.firm_id,
                phone,
                step.expected_version,
                step.record,
                step.events,
            );
            match self.store.commit(write).await {
                Ok(()) => {}
                Err(StoreError::VersionConflict { .. }) => return Ok(Attempt::Conflict),
                Err(e) => return Err(FlowError::from(e).into()),
            }
            let view = ConfirmationView::of(&firm, phone, ConsentStatus::OptedOut);
            Ok(Attempt::Done((view, result)))
        })
    }

    async fn open_token(&self, token: &str) -> Result<(Firm, ConfirmationClaims), ConfirmError> {
        let claims = self.token_keys()?.verify(token, self.clock.now())?;
        let firm = match self.firm(&claims.firm_id).await {
            Ok(firm) => firm,
            Err(FlowError::FirmNotFound) => return Err(ConfirmError::Invalid),
            Err(e) => return Err(e.into()),
        };
        Ok((firm, claims))
    }
}
