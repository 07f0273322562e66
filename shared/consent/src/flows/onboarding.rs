//! Contact created: record a pending consent and send the one opt-in request by SMS and email.

use serde::Serialize;

use super::send::{SendOutcome, SendRequest};
use super::{Attempt, FlowError, Services, firm_vars, retry_on_conflict};
use crate::evidence::audit::{AuditEvent, AuditKind};
use crate::evidence::token::ConfirmationClaims;
use crate::evidence::token::withhold_token;
use crate::limits::MAX_FIELD_LEN;
use crate::messages::templates::{self, TemplateName};
use crate::model::consent_capture::{ConsentCapture, NewConsentCapture};
use crate::model::contact::Contact;
use crate::model::firm::Firm;
use crate::model::gate::{MessageCategory, MessageKind};
use crate::model::language::Language;
use crate::model::phone::PhoneNumber;
use crate::model::record::{ConsentRecord, ConsentStatus, Delivery};
use crate::model::state_rules;
use crate::model::transition::{self, ConsentEvent, Effect};
use crate::ports::{ConsentWrite, OutgoingEmail, StoreError};

/// A contact as the CRM sends it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewContact {
    /// The CRM's id.
    pub contact_id: String,
    /// The phone as typed.
    pub phone: String,
    /// The contact's email address, where the opt-in email goes.
    pub email: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Where the contact came from.
    pub source: Option<String>,
    /// The contact's own time zone (IANA).
    pub time_zone: Option<String>,
    /// How the number was first collected (prior consent), if the CRM says.
    pub consent_capture: Option<NewConsentCapture>,
    /// The US state the contact lives in (two letters), if the CRM knows it.
    pub state: Option<String>,
    /// The language to write to the contact in (`en` or `es`), if the CRM says; English
    /// otherwise.
    pub language: Option<String>,
}

/// What became of one channel of the opt-in request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RequestDelivery {
    /// Went out now.
    Sent,
    /// Held until the recipient's window opens.
    Deferred,
    /// Not sent (already requested before, opted out, no email, ...).
    Skipped,
}

/// The result of creating a contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactCreated {
    /// The CRM's id.
    pub contact_id: String,
    /// E.164.
    pub phone: PhoneNumber,
    /// The consent status now.
    pub status: ConsentStatus,
    /// The SMS opt-in request.
    pub sms: RequestDelivery,
    /// The email opt-in request.
    pub email: RequestDelivery,
    /// Whether this contact was new (`false`: the same request again, nothing re-sent).
    pub created: bool,
}

impl Services {
    /// Handles a new contact: once per number ever, a pending record and the opt-in requests.
    pub async fn create_contact(
        &self,
        firm_id: &str,
        input: NewContact,
    ) -> Result<ContactCreated, FlowError> {
        let firm = self.firm(firm_id).await?;
        let (contact, details) = validate(&firm, input, self.clock.now())?;
        let phone = contact.phone.clone();

        if let Some(existing) = self
            .store
            .get_contact(&firm.firm_id, &contact.contact_id)
            .await?
            .filter(|c| c.phone == phone)
        {
            // The same request again: finish what a failed earlier attempt left undone (never
            // repeating what went out), and send nothing else.
            let record = self.store.get_consent(&firm.firm_id, &phone).await?;
            let (status, sms, email) = match record {
                Some(record) => self.finish_requests(&firm, &existing, record).await?,
                None => (
                    ConsentStatus::Pending,
                    RequestDelivery::Skipped,
                    RequestDelivery::Skipped,
                ),
            };
            return Ok(ContactCreated {
                contact_id: existing.contact_id,
                phone,
                status,
                sms,
                email,
                created: false,
            });
        }

        retry_on_conflict!(async {
            let current = self.store.get_consent(&firm.firm_id, &phone).await?;
            let now = self.clock.now();
            let step = transition::apply(
                current.as_ref(),
                &firm.firm_id,
                &phone,
                ConsentEvent::ContactCreated {
                    contact_id: contact.contact_id.clone(),
                    source: contact.source.clone(),
                    email: contact.email.clone(),
                    double_opt_in: firm.double_opt_in,
                    time_zone: contact.time_zone.clone(),
                },
                now,
            )
            .with_consent_capture(details.capture.clone())
            .with_resident_state(details.state)
            .with_language(details.language);
            let mut write = ConsentWrite::new(
                &firm.firm_id,
                &phone,
                step.expected_version,
                step.record.clone(),
                step.events,
            );
            write.contact = Some(contact.clone());
            // The record as written (chain head sealed): the requests go out on it, unread.
            let written = write.record.clone();
            match self.store.commit(write).await {
                Ok(()) => {}
                Err(StoreError::VersionConflict { .. }) => return Ok(Attempt::Conflict),
                Err(e) => return Err(e.into()),
            }
            let Some(record) = written else {
                return Err(FlowError::Contention);
            };
            // Only the call that created the pending record sends the request: "once, ever".
            let (status, sms, email) = match step.effect {
                Effect::Created(ConsentStatus::Pending) => {
                    self.finish_requests(&firm, &contact, record).await?
                }
                _ => (
                    record.status,
                    RequestDelivery::Skipped,
                    RequestDelivery::Skipped,
                ),
            };
            Ok(Attempt::Done(ContactCreated {
                contact_id: contact.contact_id.clone(),
                phone: phone.clone(),
                status,
                sms,
                email,
                created: true,
            }))
        })
    }

    /// Sends whichever opt-in request of a pending record has not been attempted yet, deciding
    /// on `record` as just read or written; returns the status after.
    async fn finish_requests(
        &self,
        firm: &Firm,
        contact: &Contact,
        record: ConsentRecord,
    ) -> Result<(ConsentStatus, RequestDelivery, RequestDelivery), FlowError> {
        let pending = record.status == ConsentStatus::Pending;
        // Both requests speak the record's language, decided once: a failed bookkeeping write
        // between them leaves no record to read it from.
        let language = record.language;
        let mut latest = Some(record.clone());
        let sms = match &record.opt_in_sms {
            Delivery::NotSent if pending => {
                let (delivery, after) = self
                    .send_sms_request(firm, contact, language, latest)
                    .await?;
                latest = after;
                delivery
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

    async fn send_sms_request(
        &self,
        firm: &Firm,
        contact: &Contact,
        language: Language,
        record: Option<ConsentRecord>,
    ) -> Result<(RequestDelivery, Option<ConsentRecord>), FlowError> {
        let vars = firm_vars(firm, contact.first_name.as_deref(), "");
        let rendered = templates::render_sms(
            TemplateName::SmsOptInRequest,
            language,
            firm.template(TemplateName::SmsOptInRequest, language),
            &vars,
        )?;
        let (outcome, after) = self
            .gate
            .send_on(
                firm,
                &SendRequest {
                    to: contact.phone.clone(),
                    kind: MessageKind::OptInRequest,
                    category: MessageCategory::Transactional,
                    body: rendered.body,
                    idempotency_key: None,
                },
                record,
            )
            .await?;
        let delivery = match outcome {
            SendOutcome::Sent { .. } => RequestDelivery::Sent,
            SendOutcome::Deferred { .. } => RequestDelivery::Deferred,
            SendOutcome::Blocked { .. } => RequestDelivery::Skipped,
        };
        Ok((delivery, after))
    }

    async fn send_email_request(
        &self,
        firm: &Firm,
        contact: &Contact,
        address: &str,
        language: Language,
        record: Option<ConsentRecord>,
    ) -> Result<(RequestDelivery, Option<ConsentRecord>), FlowError> {
        let now = self.clock.now();
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
        let email = OutgoingEmail {
            to: address.to_string(),
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
        };
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
        match self.mailer.send_email(&email).await {
            Ok(message_id) => {
                let at = self.clock.now();
                let event = AuditEvent::new(
                    at,
                    AuditKind::EmailSent {
                        to: email.to.clone(),
                        subject: withhold_token(&email.subject, &token),
                        text: withhold_token(&email.text, &token),
                        html: withhold_token(&email.html, &token),
                        provider_message_id: message_id.clone(),
                    },
                );
                let sent = Delivery::Sent {
                    provider_message_id: message_id,
                    at,
                };
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

/// What a new contact says beyond the stored contact: the record and its first event keep it.
struct ContactDetails {
    /// How the number was first collected.
    capture: Option<ConsentCapture>,
    /// The state the contact lives in.
    state: Option<&'static str>,
    /// The language to write in, if the CRM said.
    language: Option<Language>,
}

/// Checks a new contact's fields and builds the stored contact, with how its number was
/// collected (a firm that requires it gets nothing stored or sent without it), the state the
/// contact lives in and their language.
fn validate(
    firm: &Firm,
    input: NewContact,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Contact, ContactDetails), FlowError> {
    let contact_id = input.contact_id.trim().to_string();
    if contact_id.is_empty() || contact_id.len() > MAX_FIELD_LEN {
        return Err(FlowError::field(
            "contact_id",
            format!("must be 1 to {MAX_FIELD_LEN} characters"),
        ));
    }
    let phone = PhoneNumber::parse(&input.phone)?;
    let email = clean(input.email);
    if let Some(address) = &email
        && !looks_like_email(address)
    {
        return Err(FlowError::field("email", "is not an email address"));
    }
    let time_zone = clean(input.time_zone);
    if let Some(zone) = &time_zone {
        super::check_time_zone(zone)?;
    }
    for (field, value) in [
        ("first_name", &input.first_name),
        ("last_name", &input.last_name),
        ("source", &input.source),
    ] {
        if value.as_ref().is_some_and(|v| v.len() > MAX_FIELD_LEN) {
            return Err(FlowError::field(
                field,
                format!("is longer than {MAX_FIELD_LEN} characters"),
            ));
        }
    }
    let state = match clean(input.state) {
        Some(text) => Some(state_rules::parse_us_state(&text).ok_or_else(|| {
            FlowError::field("state", "must be a two-letter US state code, such as TX")
        })?),
        None => None,
    };
    let language = clean(input.language)
        .map(|code| Language::parse(&code))
        .transpose()?;
    let capture = match input.consent_capture {
        Some(capture) => Some(
            ConsentCapture::check(capture, now)
                .map_err(|e| FlowError::field(e.field, e.message))?,
        ),
        None if firm.require_consent_capture => return Err(FlowError::ConsentCaptureRequired),
        None => None,
    };
    let contact = Contact {
        firm_id: firm.firm_id.clone(),
        contact_id,
        phone,
        email,
        first_name: clean(input.first_name),
        last_name: clean(input.last_name),
        source: clean(input.source),
        time_zone,
        created_at: now,
    };
    Ok((
        contact,
        ContactDetails {
            capture,
            state,
            language,
        },
    ))
}

fn clean(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A plausibility check only: the provider is the judge of deliverability.
pub fn looks_like_email(address: &str) -> bool {
    address.len() <= MAX_FIELD_LEN
        && !address.chars().any(|c| c.is_whitespace() || c.is_control())
        && address.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
}
