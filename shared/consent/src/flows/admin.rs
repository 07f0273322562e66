//! Firm administration: registration, the double opt-in switch, templates, consent lookups.
//! Every change to a firm is an event of the firm's own hash chain
//! ([`crate::evidence::firm_chain`]), sealed in the same write.

use serde::Serialize;

use super::{Attempt, FlowError, Services, retry_on_conflict};
use crate::evidence::audit::{AuditEvent, AuditKind};
use crate::evidence::firm_chain::seal_onto_firm;
use crate::limits::MAX_FIELD_LEN;
use crate::messages::templates::{self, TemplateKey, TemplateName, TemplateOverride};
use crate::model::caps::SendLimits;
use crate::model::contact::Contact;
use crate::model::firm::{DoubleOptInChange, Firm, SendHours, validate_firm_id};
use crate::model::https_url::check_https_url;
use crate::model::language::Language;
use crate::model::phone::PhoneNumber;
use crate::model::record::ConsentRecord;
use crate::ports::StoreError;

/// A firm's settings as the CRM sends them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FirmSettings {
    /// Business name.
    pub name: String,
    /// Sending number.
    pub sms_number: String,
    /// Support email.
    pub support_email: String,
    /// Support phone.
    pub support_phone: String,
    /// The firm's website, named in the HELP reply.
    pub website: String,
    /// Time zone (IANA) for numbers outside North America.
    pub time_zone: Option<String>,
    /// A narrower sending window (local hours).
    pub send_window: Option<SendHours>,
    /// The firm's caps and exemptions.
    pub limits: SendLimits,
    /// The firm's privacy policy (https), linked from the confirmation page.
    pub privacy_url: Option<String>,
    /// The firm's messaging terms (https), linked from the confirmation page.
    pub terms_url: Option<String>,
    /// Whether a new contact must come with `consent_capture`.
    pub require_consent_capture: bool,
}

/// A template as a firm sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateView {
    /// The wire name.
    pub name: &'static str,
    /// The language of this version.
    pub language: Language,
    /// Whether it is the shipped default.
    pub default: bool,
    /// Its source text.
    #[serde(flatten)]
    pub template: TemplateOverride,
}

/// A contact as the CRM knows it, with where its number stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactView {
    /// The contact.
    pub contact: Contact,
    /// Its number's consent record (`None` only if it was never written).
    pub record: Option<ConsentRecord>,
}

/// A number's record with its trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentView {
    /// The record.
    pub record: ConsentRecord,
    /// Its audit events, oldest first.
    pub events: Vec<AuditEvent>,
}

impl Services {
    /// Registers or updates a firm; `true` when it was created.
    pub async fn put_firm(
        &self,
        firm_id: &str,
        settings: FirmSettings,
    ) -> Result<(Firm, bool), FlowError> {
        validate_firm_id(firm_id).map_err(|e| FlowError::field("firm_id", e.to_string()))?;
        let sms_number = PhoneNumber::parse(&settings.sms_number)
            .map_err(|e| FlowError::field("sms_number", e.to_string()))?;
        let name = required("name", &settings.name)?;
        let support_email = required("support_email", &settings.support_email)?;
        if !super::onboarding::looks_like_email(&support_email) {
            return Err(FlowError::field("support_email", "is not an email address"));
        }
        let support_phone = required("support_phone", &settings.support_phone)?;
        let website = required("website", &settings.website)?;
        if let Some(zone) = &settings.time_zone {
            super::check_time_zone(zone)?;
        }
        if let Some(hours) = settings.send_window
            && (hours.opens_hour < crate::model::quiet_hours::LEGAL_OPENS_HOUR
                || hours.closes_hour > crate::model::quiet_hours::LEGAL_CLOSES_HOUR
                || hours.opens_hour >= hours.closes_hour)
        {
            return Err(FlowError::field(
                "send_window",
                "may only narrow 8:00 to 21:00: opens_hour >= 8, closes_hour <= 21, opens before it closes",
            ));
        }
        if let Some(cap) = settings.limits.daily_cap
            && !(1..=crate::model::caps::MAX_DAILY_CAP).contains(&cap)
        {
            return Err(FlowError::field(
                "frequency_cap",
                format!("must be 1 to {}", crate::model::caps::MAX_DAILY_CAP),
            ));
        }
        let privacy_url = https_url("privacy_url", settings.privacy_url.as_deref())?;
        let terms_url = https_url("terms_url", settings.terms_url.as_deref())?;
        retry_on_conflict!(async {
            let current = self.store.get_firm(firm_id).await?;
            let now = self.clock.now();
            let created = current.is_none();
            let previous_number = current.as_ref().map(|f| f.sms_number.clone());
            let mut firm = match current.clone() {
                Some(current) => {
                    let mut firm = current.next_version(now);
                    firm.name = name.clone();
                    firm.sms_number = sms_number.clone();
                    firm.support_email = support_email.clone();
                    firm.support_phone = support_phone.clone();
                    firm.website = website.clone();
                    firm.time_zone = settings.time_zone.clone();
                    firm.send_window = settings.send_window;
                    firm.limits = settings.limits;
                    firm.privacy_url = privacy_url.clone();
                    firm.terms_url = terms_url.clone();
                    firm.require_consent_capture = settings.require_consent_capture;
                    firm
                }
                None => Firm {
                    firm_id: firm_id.to_string(),
                    name: name.clone(),
                    sms_number: sms_number.clone(),
                    support_email: support_email.clone(),
                    support_phone: support_phone.clone(),
                    website: website.clone(),
                    double_opt_in: true,
                    double_opt_in_changed: None,
                    time_zone: settings.time_zone.clone(),
                    send_window: settings.send_window,
                    limits: settings.limits,
                    templates: Default::default(),
                    privacy_url: privacy_url.clone(),
                    terms_url: terms_url.clone(),
                    require_consent_capture: settings.require_consent_capture,
                    created_at: now,
                    updated_at: now,
                    version: 1,
                    audit_head: None,
                },
            };
            let mut events = [AuditEvent::new(
                now,
                AuditKind::FirmUpdated {
                    name: firm.name.clone(),
                    sms_number: firm.sms_number.to_string(),
                    actor: self.actor(),
                },
            )];
            seal_onto_firm(&mut firm, &mut events)?;
            match self
                .store
                .put_firm(
                    &firm,
                    current.map(|f| f.version),
                    previous_number.as_ref(),
                    &events,
                )
                .await
            {
                Ok(()) => Ok(Attempt::Done((firm, created))),
                Err(StoreError::VersionConflict { .. }) => Ok(Attempt::Conflict),
                Err(StoreError::NumberInUse) => Err(FlowError::NumberInUse),
                Err(e) => Err(e.into()),
            }
        })
    }

    /// Switches double opt-in; turning it off needs an acknowledged risk, and is recorded.
    pub async fn set_double_opt_in(
        &self,
        firm_id: &str,
        enabled: bool,
        changed_by: &str,
        acknowledge_risk: bool,
    ) -> Result<Firm, FlowError> {
        let changed_by = required("changed_by", changed_by)?;
        if !enabled && !acknowledge_risk {
            return Err(FlowError::RiskNotAcknowledged);
        }
        self.change_firm(firm_id, |firm, now| {
            firm.double_opt_in = enabled;
            firm.double_opt_in_changed = Some(DoubleOptInChange {
                changed_by: changed_by.clone(),
                at: now,
                acknowledge_risk,
            });
            Ok(AuditKind::DoubleOptInChanged {
                enabled,
                changed_by: changed_by.clone(),
                acknowledge_risk,
                actor: self.actor(),
            })
        })
        .await
    }

    /// Every template of a firm in `language`, marked default or not.
    pub async fn templates(
        &self,
        firm_id: &str,
        language: Language,
    ) -> Result<Vec<TemplateView>, FlowError> {
        let firm = self.firm(firm_id).await?;
        Ok(TemplateName::ALL
            .into_iter()
            .map(|name| match firm.template(name, language) {
                Some(template) => TemplateView {
                    name: name.as_str(),
                    language,
                    default: false,
                    template: template.clone(),
                },
                None => TemplateView {
                    name: name.as_str(),
                    language,
                    default: true,
                    template: templates::default_template(name, language),
                },
            })
            .collect())
    }

    /// Validates and stores a template override in `language` (checked in that language's
    /// words); returns its preview.
    pub async fn put_template(
        &self,
        firm_id: &str,
        name: &str,
        language: Language,
        template: TemplateOverride,
    ) -> Result<templates::Preview, FlowError> {
        let name = TemplateName::parse(name).ok_or(FlowError::UnknownTemplate)?;
        self.firm(firm_id).await?;
        templates::validate_override(name, language, &template)?;
        let firm = self
            .change_firm(firm_id, |firm, _| {
                firm.templates
                    .insert(TemplateKey::new(name, language), template.clone());
                Ok(AuditKind::TemplateChanged {
                    name: name.as_str().to_string(),
                    language: Some(language),
                    reset: false,
                    actor: self.actor(),
                })
            })
            .await?;
        let vars = super::firm_vars(&firm, Some("Alex"), "https://example.com/confirm/preview");
        let template = firm.template(name, language);
        Ok(if name.is_email() {
            templates::Preview::Email(templates::render_email(language, template, &vars)?)
        } else {
            templates::Preview::Sms(templates::render_sms(name, language, template, &vars)?)
        })
    }

    /// Puts a template in `language` back to the default.
    pub async fn reset_template(
        &self,
        firm_id: &str,
        name: &str,
        language: Language,
    ) -> Result<TemplateView, FlowError> {
        let name = TemplateName::parse(name).ok_or(FlowError::UnknownTemplate)?;
        self.change_firm(firm_id, |firm, _| {
            firm.templates.remove(&TemplateKey::new(name, language));
            Ok(AuditKind::TemplateChanged {
                name: name.as_str().to_string(),
                language: Some(language),
                reset: true,
                actor: self.actor(),
            })
        })
        .await?;
        Ok(TemplateView {
            name: name.as_str(),
            language,
            default: true,
            template: templates::default_template(name, language),
        })
    }

    /// A number's consent record and trail.
    pub async fn consent(&self, firm_id: &str, phone: &str) -> Result<ConsentView, FlowError> {
        let firm = self.firm(firm_id).await?;
        let phone = PhoneNumber::parse(phone)?;
        let record = self
            .store
            .get_consent(&firm.firm_id, &phone)
            .await?
            .ok_or(FlowError::ConsentNotFound)?;
        let events = self.store.events(&firm.firm_id, &phone).await?;
        Ok(ConsentView { record, events })
    }

    /// The firm's contact with the CRM's `contact_id`, and its number's consent.
    pub async fn contact(&self, firm_id: &str, contact_id: &str) -> Result<ContactView, FlowError> {
        let firm = self.firm(firm_id).await?;
        if contact_id.is_empty() || contact_id.len() > MAX_FIELD_LEN {
            return Err(FlowError::field(
                "contact_id",
                format!("must be 1 to {MAX_FIELD_LEN} characters"),
            ));
        }
        let contact = self
            .store
            .get_contact(&firm.firm_id, contact_id)
            .await?
            .ok_or(FlowError::ContactNotFound)?;
        let record = self
            .store
            .get_consent(&firm.firm_id, &contact.phone)
            .await?;
        Ok(ContactView { contact, record })
    }

    /// Applies a change to a firm under its version, with its audit event.
    async fn change_firm(
        &self,
        firm_id: &str,
        change: impl Fn(&mut Firm, chrono::DateTime<chrono::Utc>) -> Result<AuditKind, FlowError>,
    ) -> Result<Firm, FlowError> {
        retry_on_conflict!(async {
            let current = self.firm(firm_id).await?;
            let now = self.clock.now();
            let mut firm = current.next_version(now);
            let kind = change(&mut firm, now)?;
            // Chained onto the head of the firm as read: the write is conditioned on its
            // version, so no other change can have extended that head meanwhile.
            let mut events = [AuditEvent::new(now, kind)];
            seal_onto_firm(&mut firm, &mut events)?;
            match self
                .store
                .put_firm(
                    &firm,
                    Some(current.version),
                    Some(&current.sms_number),
                    &events,
                )
                .await
            {
                Ok(()) => Ok(Attempt::Done(firm)),
                Err(StoreError::VersionConflict { .. }) => Ok(Attempt::Conflict),
                Err(e) => Err(e.into()),
            }
        })
    }
}

/// An optional https address a firm gives (blank is none), checked as every link the service
/// shows a contact.
fn https_url(field: &'static str, value: Option<&str>) -> Result<Option<String>, FlowError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(url) => match check_https_url(url) {
            Ok(()) => Ok(Some(url.to_string())),
            Err(e) => Err(FlowError::field(field, e.to_string())),
        },
    }
}

fn required(field: &'static str, value: &str) -> Result<String, FlowError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FlowError::field(field, "is required"));
    }
    if value.len() > MAX_FIELD_LEN {
        return Err(FlowError::field(
            field,
            format!("is longer than {MAX_FIELD_LEN} characters"),
        ));
    }
    Ok(value.to_string())
}
