//! The two forms an audit event is shown in outside the store. By default (what a firm hands
//! to a carrier) its text that is not a consent message stands as its commitment and the salt
//! is left out; with `?include=texts` (the firm's own copy) the text and its salt are added
//! beside it, under `disclosed`, which the event's hash leaves out: both forms hash the same.
//! Events written before commitments (no salt) are shown as they were hashed, text in full.
//! An `email_sent` event written before v2 links holds a live v1 link that its hash covers: it
//! is shown with the link withheld and marked [`WITHHELD`], its stored hash kept, so the chain
//! still links through it though its content can no longer be rehashed.

use serde::{Serialize, Serializer};
use serde_json::{Map, Value, json};

use crate::evidence::audit::{AuditEvent, AuditKind};
use crate::evidence::commitment::DISCLOSED;
use crate::evidence::token::withhold_legacy_links;

pub use consent_proof::verify::{LEGACY_CONFIRMATION_LINK, WITHHELD};

/// Whether privileged texts are shown, or only their commitments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ShownTexts {
    /// Commitments only: what a proof holds by default.
    #[default]
    Committed,
    /// Commitments with the texts and salts beside them (`?include=texts`): the firm's copy.
    Included,
}

/// An `include` query value other than `texts`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("include: must be texts")]
pub struct UnknownInclude;

impl ShownTexts {
    /// From a request's `include` parameter: absent → committed, `texts` → included.
    pub fn from_query(include: Option<&str>) -> Result<Self, UnknownInclude> {
        match include {
            None => Ok(Self::Committed),
            Some("texts") => Ok(Self::Included),
            Some(_) => Err(UnknownInclude),
        }
    }
}

/// `event` as JSON in the form `texts` asks for (never with its stored `salt` member alone, nor
/// with a live confirmation link).
pub fn event_json(event: &AuditEvent, texts: ShownTexts) -> Value {
    let mut json = shown_json(event, texts);
    if let (AuditKind::EmailSent { .. }, Value::Object(members)) = (&event.kind, &mut json) {
        let mut withheld = false;
        for member in ["subject", "text", "html"] {
            let redacted = members
                .get(member)
                .and_then(Value::as_str)
                .and_then(withhold_legacy_links);
            if let Some(redacted) = redacted {
                members.insert(member.to_string(), Value::String(redacted));
                withheld = true;
            }
        }
        if withheld {
            members.insert(WITHHELD.to_string(), json!(LEGACY_CONFIRMATION_LINK));
        }
    }
    json
}

/// `event` as JSON in the form the chain hashes: [`ShownTexts::Committed`], and its content
/// whole, whatever it holds.
pub(crate) fn hashed_json(event: &AuditEvent) -> Value {
    shown_json(event, ShownTexts::Committed)
}

/// `event` with its committed texts in the form `texts` asks for, and no salt.
fn shown_json(event: &AuditEvent, texts: ShownTexts) -> Value {
    // Serializing an event cannot fail: every map key is a string and no field has a custom
    // serializer that can fail (the tests serialize every kind).
    let mut json = serde_json::to_value(event).unwrap_or(Value::Null);
    let Value::Object(members) = &mut json else {
        return json;
    };
    members.remove("salt");
    let (Some((member, commitment)), Some(salt)) = (event.committed_text(), event.salt) else {
        return json;
    };
    let text = members.insert(member.to_string(), json!(commitment));
    if texts == ShownTexts::Included {
        let mut disclosed = Map::new();
        disclosed.insert(
            member.to_string(),
            json!({ "text": text, "salt": salt.to_hex() }),
        );
        members.insert(DISCLOSED.to_string(), Value::Object(disclosed));
    }
    json
}

/// An event to be serialized in one of the shown forms (for views and documents).
#[derive(Debug, Clone, Copy)]
pub struct ShownEvent<'a>(pub &'a AuditEvent, pub ShownTexts);

impl Serialize for ShownEvent<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        event_json(self.0, self.1).serialize(serializer)
    }
}

/// `events` in the form `texts` asks for.
pub fn shown_events(events: &[AuditEvent], texts: ShownTexts) -> Vec<ShownEvent<'_>> {
    events.iter().map(|e| ShownEvent(e, texts)).collect()
}
