//! Contact created: record a pending consent and send the one opt-in request by SMS and email.

use serde::Serialize;

use super::draft::Draft;
use super::{Attempt, FlowError, Services, retry_on_conflict};
use crate::limits::MAX_FIELD_LEN;
use crate::model::consent_capture::{ConsentCapture, NewConsentCapture};
use crate::model::contact::Contact;
use crate::model::firm::Firm;
use crate::model::language::Language;
use crate::model::phone::PhoneNumber;
use crate::model::record::ConsentStatus;
use crate::model::state_rules;
use crate::model::transition::{self, ConsentEvent, Effect};
use crate::ports::StoreError;

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
            let mut draft = Draft::new(
                &firm.firm_id,
                &phone,
                step.expected_version,
                step.record.clone(),
                step.events,
            );
            draft.contact = Some(contact.clone());
            // Only the call that creates the pending record sends the requests: "once, ever".
            // Their claims ride in the record's first write.
            let requests = match step.effect {
                Effect::Created(ConsentStatus::Pending) => {
                    Some(self.fold_requests(&firm, &contact, &mut draft, now).await?)
                }
                _ => None,
            };
            let write = draft.seal();
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
            let (status, sms, email) = match requests {
                Some(requests) => {
                    self.send_requests(&firm, &contact, requests, record)
                        .await?
                }
                None => (
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
