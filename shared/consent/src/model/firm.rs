//! A firm: its settings, its sending number and its template overrides.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::messages::templates::{TemplateKey, TemplateName, TemplateOverride};
use crate::model::caps::SendLimits;
use crate::model::language::Language;
use crate::model::phone::PhoneNumber;

/// Longest firm id accepted.
pub const MAX_FIRM_ID_LEN: usize = 64;

/// A firm id is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a firm id is 1 to 64 letters, digits, '-' or '_'")]
pub struct InvalidFirmId;

/// Checks a firm id: it becomes part of storage keys, so it is kept to a safe alphabet.
pub fn validate_firm_id(firm_id: &str) -> Result<(), InvalidFirmId> {
    let ok = !firm_id.is_empty()
        && firm_id.len() <= MAX_FIRM_ID_LEN
        && firm_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(()) } else { Err(InvalidFirmId) }
}

/// Local hours between which a firm sends (it may only narrow the legal 8:00 to 21:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendHours {
    /// First hour allowed.
    pub opens_hour: u32,
    /// Hour at which sending stops.
    pub closes_hour: u32,
}

/// Who last switched double opt-in, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DoubleOptInChange {
    /// Who turned the switch (the free-text name the caller gave).
    pub changed_by: String,
    /// When it was turned.
    pub at: DateTime<Utc>,
    /// Whether they acknowledged the risk.
    pub acknowledge_risk: bool,
}

/// A firm as registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Firm {
    /// The firm's id (chosen by the CRM).
    pub firm_id: String,
    /// The business name the texts carry.
    pub name: String,
    /// The number the firm texts from (inbound replies route by it).
    pub sms_number: PhoneNumber,
    /// Where contacts can write for help.
    pub support_email: String,
    /// Where contacts can call for help.
    pub support_phone: String,
    /// The firm's website.
    pub website: String,
    /// Double opt-in: on by default; off only with an acknowledged risk.
    pub double_opt_in: bool,
    /// The last switch of `double_opt_in`.
    pub double_opt_in_changed: Option<DoubleOptInChange>,
    /// The firm's own time zone (IANA), used for numbers outside North America.
    pub time_zone: Option<String>,
    /// A narrower sending window than the law's (hours in the recipient's local time).
    #[serde(default)]
    pub send_window: Option<SendHours>,
    /// The firm's caps and exemptions.
    #[serde(default)]
    pub limits: SendLimits,
    /// The firm's template overrides, per template and language (stored keys in
    /// [`TemplateKey::stored`]: an English override under the bare name, as before languages).
    #[serde(default)]
    pub templates: BTreeMap<TemplateKey, TemplateOverride>,
    /// The firm's privacy policy (https), linked from the confirmation page.
    #[serde(default)]
    pub privacy_url: Option<String>,
    /// The firm's messaging terms (https), linked from the confirmation page.
    #[serde(default)]
    pub terms_url: Option<String>,
    /// Whether a new contact must say how its number was collected (`consent_capture`).
    #[serde(default)]
    pub require_consent_capture: bool,
    /// Registered at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Incremented on every write.
    pub version: u64,
    /// The hash of the newest event of the firm's own chain (settings, double opt-in,
    /// templates); `None` until its first hashed event (`evidence::firm_chain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_head: Option<String>,
}

impl Firm {
    /// The firm's override of `name` in `language`, if it has one (else the default applies).
    pub fn template(&self, name: TemplateName, language: Language) -> Option<&TemplateOverride> {
        self.templates.get(&TemplateKey::new(name, language))
    }

    /// The firm as the next write will store it: a copy one version on, updated `now`.
    pub fn next_version(&self, now: DateTime<Utc>) -> Self {
        let mut next = self.clone();
        next.version += 1;
        next.updated_at = now;
        next
    }
}
