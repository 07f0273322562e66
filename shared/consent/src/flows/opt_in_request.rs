//! The one opt-in request, by SMS and by email. On a new contact both are claimed in the write
//! that creates the pending record, go out together, and are recorded in one write after. For
//! the same request again, whichever part a failed attempt left undone goes out on its own.

use chrono::{DateTime, Utc};

use super::draft::Draft;
use super::onboarding::RequestDelivery;
use super::send::{Decided, HandedOver, SendOutcome, SendRequest};
use super::{Attempt, FlowError, Services, firm_vars, retry_on_conflict};
use crate::evidence::audit::{AuditEvent, AuditKind};
use crate::evidence::token::{ConfirmationClaims, withhold_token};
use crate::messages::templates::{self, TemplateName};
use crate::model::contact::Contact;
use crate::model::firm::Firm;
use crate::model::gate::{MessageCategory, MessageKind};
use crate::model::language::Language;
use crate::model::phone::PhoneNumber;
use crate::model::record::{ConsentRecord, ConsentStatus, Delivery};
use crate::ports::{ConsentWrite, OutgoingEmail, StoreError};

/// The opt-in requests decided into the write that creates a pending record.
pub(super) struct FoldedRequests {
    /// The SMS and the gate's decision on it (`None`: the carrier holds an opt-out for the
    /// number, so nothing was claimed and both requests wait for the record's own write).
    sms: Option<(SendRequest, Decided)>,
    /// The email, claimed in the write (`None`: no address).
    email: Option<OptInEmail>,
}

/// An opt-in email as it goes out, and the token its link carries (withheld from the trail).
struct OptInEmail {
    email: OutgoingEmail,
    token: String,
}

/// The request's outcome per channel, and the status after.
type Requested = (ConsentStatus, RequestDelivery, RequestDelivery);

impl Services {
    /// Decides both opt-in requests into `draft`, the write that creates the pending record:
    /// the gate's decision on the SMS, and the email's claim.
    pub(super) async fn fold_requests(
        &self,
        firm: &Firm,
        contact: &Contact,
        draft: &mut Draft,
        now: DateTime<Utc>,
    ) -> Result<FoldedRequests, FlowError> {
        let language = draft
            .record
            .as_ref()
            .map(|r| r.language)
            .unwrap_or_default();
        let sms = self.sms_request(firm, contact, language)?;
        let decided = self.gate.decide_into(firm, &sms, draft, now).await?;
        if let Decided::CarrierOptedOut = decided {
            return Ok(FoldedRequests {
                sms: None,
                email: None,
            });
        }
        let mut email = None;
        if let (Some(record), Some(address)) = (draft.record.as_mut(), contact.email.as_deref())
            && record.status == ConsentStatus::Pending
            && record.opt_in_email == Delivery::NotSent
        {
            email = Some(self.email_request(firm, contact, address, language, now)?);
            // Claimed before it goes, like the SMS: no failure after this sends it twice.
            record.opt_in_email = Delivery::Claimed { at: now };
        }
        Ok(FoldedRequests {
            sms: Some((sms, decided)),
            email,
        })
    }

    /// Sends the requests folded into the write that created `record`, both at once, and
    /// records both outcomes in one write.
    pub(super) async fn send_requests(
        &self,
        firm: &Firm,
        contact: &Contact,
        requests: FoldedRequests,
        record: ConsentRecord,
    ) -> Result<Requested, FlowError> {
        let Some((sms, decided)) = requests.sms else {
            return self.finish_requests(firm, contact, record).await;
        };
        let (mut sms_delivery, claimed) = match decided {
            Decided::Claimed(claimed) => (RequestDelivery::Sent, Some(claimed)),
            Decided::Done(SendOutcome::Deferred { .. }) => (RequestDelivery::Deferred, None),
            Decided::Done(_) | Decided::CarrierOptedOut => (RequestDelivery::Skipped, None),
        };
        let handing = async {
            match &claimed {
                Some(claimed) => Some(self.gate.deliver(firm, &sms, claimed).await),
                None => None,
            }
        };
        let mailing = async {
            match &requests.email {
                Some(request) => Some(self.mailer.send_email(&request.email).await),
                None => None,
            }
        };
        let (handed, mailed) = futures_util::future::join(handing, mailing).await;
        let at = self.clock.now();
        let (delivered, sms_failure, carrier_refused) = match handed {
            Some(HandedOver::Delivered(delivered, outcome)) => {
                (Some(delivered), outcome.err(), false)
            }
            Some(HandedOver::CarrierOptedOut) => (None, None, true),
            None => (None, None, false),
        };
        // What to record of the email: sent (with the provider's id), or its claim given back
        // because it did not go. After a failure that may have sent it, the claim stays, so it
        // is never sent twice.
        let email_change = match (&requests.email, &mailed) {
            (Some(request), Some(Ok(id))) => Some((request, Some(id.as_str()))),
            (Some(request), Some(Err(error))) if !error.may_have_been_sent() => {
                Some((request, None))
            }
            _ => None,
        };
        let mut latest = Some(record.clone());
        if delivered.is_some() || email_change.is_some() {
            let written = self
                .gate
                .update(firm, &contact.phone, Some(record), |mut next| {
                    let mut events = Vec::new();
                    if let Some(delivered) = &delivered {
                        events.push(delivered.apply(next.as_deref_mut()));
                    }
                    match (email_change, next) {
                        (Some((request, Some(id))), Some(next)) => {
                            let (sent, event) = email_sent(request, id, at);
                            next.opt_in_email = sent;
                            events.push(event);
                        }
                        (Some((_, None)), Some(next))
                            if matches!(next.opt_in_email, Delivery::Claimed { .. }) =>
                        {
                            next.opt_in_email = Delivery::NotSent;
                        }
                        _ => {}
                    }
                    events
                })
                .await;
            match written {
                Ok(record) => latest = record,
                Err(error) => {
                    if let Some(delivered) = &delivered {
                        super::send::log_unrecorded(&error, delivered);
                    }
                    // The claims stay: a retry of the same request reports both as sent and
                    // sends neither again.
                    return Err(error);
                }
            }
        }
        if carrier_refused {
            if let Some(claimed) = &claimed {
                latest = self.gate.carrier_refused(firm, &sms, claimed).await?.1;
            }
            sms_delivery = RequestDelivery::Skipped;
        }
        if let Some(error) = sms_failure {
            return Err(error.into());
        }
        if let Some(Err(error)) = mailed {
            return Err(error.into());
        }
        let email_delivery = match requests.email {
            Some(_) => RequestDelivery::Sent,
            None => RequestDelivery::Skipped,
        };
        let status = latest.map_or(ConsentStatus::Pending, |r| r.status);
        Ok((status, sms_delivery, email_delivery))
    }

    /// Sends whichever opt-in request of a pending record has not been attempted yet, deciding
    /// on `record` as just read or written; returns the status after.
    pub(super) async fn finish_requests(
        &self,
        firm: &Firm,
        contact: &Contact,
        record: ConsentRecord,
    ) -> Result<Requested, FlowError> {
        let pending = record.status == ConsentStatus::Pending;
        // Both requests speak the record's language, decided once: a failed bookkeeping write
        // between them leaves no record to read it from.
        let language = record.language;
        let mut latest = Some(record.clone());
        let sms = match &record.opt_in_sms {
            Delivery::NotSent if pending => {
                let request = self.sms_request(firm, contact, language)?;
                let (outcome, after) = self.gate.send_on(firm, &request, latest).await?;
                latest = after;
                match outcome {
                    SendOutcome::Sent { .. } => RequestDelivery::Sent,
                    SendOutcome::Deferred { .. } => RequestDelivery::Deferred,
                    SendOutcome::Blocked { .. } => RequestDelivery::Skipped,
                }
            }
            Delivery::Sent { .. } | Delivery::Claimed { .. } => RequestDelivery::Sent,
            Delivery::Deferred { .. } => RequestDelivery::Deferred,
            Delivery::NotSent | Delivery::Skipped => RequestDelivery::Skipped,
        };
        let email = match (&record.opt_in_email, contact.email.as_deref()) {
            (Delivery::NotSent, Some(address)) if pending => {
                let (delivery, after) = self
                    .send_email_request(firm, contact, address, language, latest)
                    .await?;
                latest = after;
                delivery
            }
            (Delivery::Sent { .. } | Delivery::Claimed { .. }, _) => RequestDelivery::Sent,
            _ => RequestDelivery::Skipped,
        };
        // `None`: a bookkeeping write failed after a send; the status is the one read.
        let status = latest.map_or(record.status, |r| r.status);
        Ok((status, sms, email))
    }

    /// The opt-in SMS in `language`.
    fn sms_request(
        &self,
        firm: &Firm,
        contact: &Contact,
        language: Language,
    ) -> Result<SendRequest, FlowError> {
        let vars = firm_vars(firm, contact.first_name.as_deref(), "");
        let rendered = templates::render_sms(
            TemplateName::SmsOptInRequest,
            language,
            firm.template(TemplateName::SmsOptInRequest, language),
            &vars,
        )?;
        Ok(SendRequest {
            to: contact.phone.clone(),
            kind: MessageKind::OptInRequest,
            category: MessageCategory::Transactional,
            body: rendered.body,
            idempotency_key: None,
        })
    }

    /// The opt-in email in `language`, with a confirmation link signed now.
    fn email_request(
        &self,
        firm: &Firm,
        contact: &Contact,
        address: &str,
        language: Language,
        now: DateTime<Utc>,
    ) -> Result<OptInEmail, FlowError> {
        let token = self.token_keys()?.sign(&ConfirmationClaims {
            firm_id: firm.firm_id.clone(),
            phone: contact.phone.clone(),
            contact_id: contact.contact_id.clone(),
            expires_at: now + self.config.token_ttl,
        });
        let confirm_url = format!(
            "{}/confirm/{token}",
            self.config.confirm_base_url.trim_end_matches('/')
        );
        let vars = firm_vars(firm, contact.first_name.as_deref(), &confirm_url);
        let rendered = templates::render_email(
            language,
            firm.template(TemplateName::EmailOptInRequest, language),
            &vars,
        )?;
        Ok(OptInEmail {
            email: OutgoingEmail {
                to: address.to_string(),
                subject: rendered.subject,
                text: rendered.text,
                html: rendered.html,
            },
            token,
        })
    }

    /// Claims, sends and records the opt-in email on its own (a retry of a request whose email
    /// did not go).
    async fn send_email_request(
        &self,
        firm: &Firm,
        contact: &Contact,
        address: &str,
        language: Language,
        record: Option<ConsentRecord>,
    ) -> Result<(RequestDelivery, Option<ConsentRecord>), FlowError> {
        let now = self.clock.now();
        let request = self.email_request(firm, contact, address, language, now)?;
        // The one opt-in email is claimed in the store before it goes, like the opt-in SMS, so
        // no failure after this point sends it twice (at most once): a retry finds it claimed.
        let (claimed, current) = self
            .write_email_delivery(firm, &contact.phone, record, |record| {
                (record.status == ConsentStatus::Pending
                    && record.opt_in_email == Delivery::NotSent)
                    .then(|| (Delivery::Claimed { at: now }, Vec::new()))
            })
            .await?;
        if !claimed {
            // Another attempt claimed it meanwhile, or the number is no longer pending.
            let delivery = match current.opt_in_email {
                Delivery::Sent { .. } | Delivery::Claimed { .. } => RequestDelivery::Sent,
                _ => RequestDelivery::Skipped,
            };
            return Ok((delivery, Some(current)));
        }
        match self.mailer.send_email(&request.email).await {
            Ok(message_id) => {
                let (sent, event) = email_sent(&request, &message_id, self.clock.now());
                let (_, after) = self
                    .write_email_delivery(firm, &contact.phone, Some(current), |_| {
                        Some((sent.clone(), vec![event.clone()]))
                    })
                    .await?;
                Ok((RequestDelivery::Sent, Some(after)))
            }
            // The provider may have taken it: the claim stays, so it is never sent twice.
            Err(error) if error.may_have_been_sent() => Err(error.into()),
            Err(error) => {
                // It did not go: give the claim back so that a retry sends it.
                self.write_email_delivery(firm, &contact.phone, Some(current), |record| {
                    matches!(record.opt_in_email, Delivery::Claimed { .. })
                        .then(|| (Delivery::NotSent, Vec::new()))
                })
                .await?;
                Err(error.into())
            }
        }
    }

    /// Writes the opt-in email's delivery state (with `events`) under the record's version,
    /// starting from `known` (the record as just read or written; `None`: read it) and
    /// re-reading after a lost race. `change` sees the record and returns `None` to write
    /// nothing. Returns whether it wrote, and the record as read or written last.
    async fn write_email_delivery(
        &self,
        firm: &Firm,
        phone: &PhoneNumber,
        mut known: Option<ConsentRecord>,
        change: impl Fn(&ConsentRecord) -> Option<(Delivery, Vec<AuditEvent>)>,
    ) -> Result<(bool, ConsentRecord), FlowError> {
        retry_on_conflict!(async {
            let current = match known.take() {
                Some(record) => record,
                None => self
                    .store
                    .get_consent(&firm.firm_id, phone)
                    .await?
                    .ok_or(FlowError::ConsentNotFound)?,
            };
            let Some((delivery, events)) = change(&current) else {
                return Ok(Attempt::Done((false, current)));
            };
            let mut next = current.next_version(self.clock.now());
            next.opt_in_email = delivery;
            let write = ConsentWrite::new(
                &firm.firm_id,
                phone,
                Some(current.version),
                Some(next.clone()),
                events,
            );
            // The record as written, its chain head sealed.
            let written = write.record.clone().unwrap_or(next);
            match self.store.commit(write).await {
                Ok(()) => Ok(Attempt::Done((true, written))),
                Err(StoreError::VersionConflict { .. }) => Ok(Attempt::Conflict),
                Err(e) => Err(e.into()),
            }
        })
    }
}

/// The email's delivery and its event once the provider took it: the email as sent, its link's
/// token withheld (the trail proves which link went without holding a usable one).
fn email_sent(
    request: &OptInEmail,
    provider_message_id: &str,
    at: DateTime<Utc>,
) -> (Delivery, AuditEvent) {
    let (email, token) = (&request.email, &request.token);
    let event = AuditEvent::new(
        at,
        AuditKind::EmailSent {
            to: email.to.clone(),
            subject: withhold_token(&email.subject, token),
            text: withhold_token(&email.text, token),
            html: withhold_token(&email.html, token),
            provider_message_id: provider_message_id.to_string(),
        },
    );
    let sent = Delivery::Sent {
        provider_message_id: provider_message_id.to_string(),
        at,
    };
    (sent, event)
}
