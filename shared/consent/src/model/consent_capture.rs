//! Prior consent (DESIGN §3): how a number was first collected, as the CRM reports it with a new
//! contact. It is what justifies the one opt-in request (carriers ask for it before a first
//! text), so it is kept in the `contact_created` event, under the hash chain, and shown in the
//! proof.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::limits::{MAX_FIELD_LEN, MAX_NOTE_LEN, MAX_USER_AGENT_LEN};
use crate::model::https_url::check_https_url;

/// How far ahead of the service's clock a `captured_at` may be: the CRM's clock may run a little
/// fast, but a capture from the future is a mistake.
pub const CAPTURE_CLOCK_SKEW: TimeDelta = TimeDelta::minutes(5);

/// How the number was collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CaptureMethod {
    /// A form on a website.
    WebForm,
    /// A form on paper, signed or filled in by the contact.
    PaperForm,
    /// Said aloud to the firm (a phone call, a meeting).
    Verbal,
    /// The contact texted the firm first.
    TextIn,
    /// Any other way.
    Other,
}

impl CaptureMethod {
    /// Every method, as the API names them.
    pub const ALL: [Self; 5] = [
        Self::WebForm,
        Self::PaperForm,
        Self::Verbal,
        Self::TextIn,
        Self::Other,
    ];

    /// The API name (`web_form`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WebForm => "web_form",
            Self::PaperForm => "paper_form",
            Self::Verbal => "verbal",
            Self::TextIn => "text_in",
            Self::Other => "other",
        }
    }

    /// The method the API name stands for.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// How the number was first collected, as kept in the trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentCapture {
    /// How the number was collected (a web form, a paper form, a call, ...).
    pub method: CaptureMethod,
    /// When the contact gave the number.
    pub captured_at: DateTime<Utc>,
    /// The consent wording the contact saw or heard, if the CRM kept it.
    pub disclosure_text: Option<String>,
    /// The web form's address (https), for `web_form`.
    pub form_url: Option<String>,
    /// The address the form was sent from.
    pub ip: Option<String>,
    /// The browser that sent the form.
    pub user_agent: Option<String>,
    /// Who at the firm took the number down (paper, verbal).
    pub captured_by: Option<String>,
}

/// The capture as a caller sends it (`consent_capture` on contact-created): every field as
/// text, checked by [`ConsentCapture::check`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct NewConsentCapture {
    /// `web_form`, `paper_form`, `verbal`, `text_in` or `other` (required).
    pub method: Option<String>,
    /// RFC 3339 (required).
    pub captured_at: Option<String>,
    /// The consent wording.
    pub disclosure_text: Option<String>,
    /// The form's https address.
    pub form_url: Option<String>,
    /// An IPv4 or IPv6 address.
    pub ip: Option<String>,
    /// A browser user agent.
    pub user_agent: Option<String>,
    /// A person's name or id at the firm.
    pub captured_by: Option<String>,
}

/// A field of a capture is refused; `field` is its path in the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidCapture {
    /// The field (`consent_capture.method`).
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

fn refuse(field: &'static str, message: impl Into<String>) -> InvalidCapture {
    InvalidCapture {
        field,
        message: message.into(),
    }
}

/// A text field, trimmed; blank is absent.
fn text(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A free-text field of at most `max` characters.
fn bounded(
    field: &'static str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, InvalidCapture> {
    match text(value) {
        Some(v) if v.chars().count() > max => {
            Err(refuse(field, format!("is longer than {max} characters")))
        }
        v => Ok(v),
    }
}

impl ConsentCapture {
    /// Checks what a caller sent at `now`: a known method, a time that is not in the future,
    /// an https form address, an IP address, and every text within its limit.
    pub fn check(input: NewConsentCapture, now: DateTime<Utc>) -> Result<Self, InvalidCapture> {
        let method = match text(input.method) {
            None => return Err(refuse("consent_capture.method", "is required")),
            Some(name) => CaptureMethod::parse(&name).ok_or_else(|| {
                refuse(
                    "consent_capture.method",
                    "must be one of web_form, paper_form, verbal, text_in, other",
                )
            })?,
        };
        let captured_at = match text(input.captured_at) {
            None => return Err(refuse("consent_capture.captured_at", "is required")),
            Some(at) => DateTime::parse_from_rfc3339(&at)
                .map(|at| at.with_timezone(&Utc))
                .map_err(|_| {
                    refuse(
                        "consent_capture.captured_at",
                        "must be an RFC 3339 time such as 2026-11-30T15:04:00Z",
                    )
                })?,
        };
        if captured_at > now + CAPTURE_CLOCK_SKEW {
            return Err(refuse("consent_capture.captured_at", "is in the future"));
        }
        let form_url = text(input.form_url);
        if let Some(url) = &form_url {
            check_https_url(url).map_err(|e| refuse("consent_capture.form_url", e.to_string()))?;
        }
        let ip = match text(input.ip) {
            None => None,
            Some(ip) => Some(
                ip.parse::<std::net::IpAddr>()
                    .map_err(|_| refuse("consent_capture.ip", "is not an IPv4 or IPv6 address"))?
                    .to_string(),
            ),
        };
        // A short setting like every other name a caller gives: bounded in bytes.
        let captured_by = text(input.captured_by);
        if captured_by
            .as_ref()
            .is_some_and(|v| v.len() > MAX_FIELD_LEN)
        {
            return Err(refuse(
                "consent_capture.captured_by",
                format!("is longer than {MAX_FIELD_LEN} characters"),
            ));
        }
        Ok(Self {
            method,
            captured_at,
            disclosure_text: bounded(
                "consent_capture.disclosure_text",
                input.disclosure_text,
                MAX_NOTE_LEN,
            )?,
            form_url,
            ip,
            user_agent: bounded(
                "consent_capture.user_agent",
                input.user_agent,
                MAX_USER_AGENT_LEN,
            )?,
            captured_by,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-12-01T18:00:00Z".parse().expect("an instant")
    }

    fn web_form() -> NewConsentCapture {
        NewConsentCapture {
            method: Some("web_form".into()),
            captured_at: Some("2026-11-30T15:04:00-05:00".into()),
            disclosure_text: Some(
                "  By submitting, you agree to receive texts from Hartwell & Pine.  ".into(),
            ),
            form_url: Some("https://hartwell.example/intake".into()),
            ip: Some("2001:DB8::1".into()),
            user_agent: Some("Mozilla/5.0".into()),
            captured_by: Some(" ".into()),
        }
    }

    #[test]
    fn a_complete_web_form_capture_is_kept_in_utc_and_trimmed() {
        let capture = ConsentCapture::check(web_form(), now()).expect("valid");
        assert_eq!(capture.method, CaptureMethod::WebForm);
        assert_eq!(
            capture.captured_at,
            "2026-11-30T20:04:00Z"
                .parse::<DateTime<Utc>>()
                .expect("an instant")
        );
        assert_eq!(
            capture.disclosure_text.as_deref(),
            Some("By submitting, you agree to receive texts from Hartwell & Pine.")
        );
        assert_eq!(capture.ip.as_deref(), Some("2001:db8::1"), "canonical form");
        assert_eq!(capture.captured_by, None, "blank is absent");
    }

    #[test]
    fn every_method_round_trips_and_only_method_and_time_are_required() {
        for method in CaptureMethod::ALL {
            assert_eq!(CaptureMethod::parse(method.as_str()), Some(method));
            let json = serde_json::to_value(method).expect("serializes");
            assert_eq!(json, method.as_str());
        }
        let minimal = NewConsentCapture {
            method: Some("paper_form".into()),
            captured_at: Some("2026-12-01T18:04:00Z".into()),
            ..NewConsentCapture::default()
        };
        let capture = ConsentCapture::check(minimal, now()).expect("within the skew allowed");
        assert_eq!(capture.method, CaptureMethod::PaperForm);
        assert_eq!(capture.form_url, None);
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases: Vec<(NewConsentCapture, &str)> = vec![
            (
                NewConsentCapture {
                    method: None,
                    ..web_form()
                },
                "consent_capture.method",
            ),
            (
                NewConsentCapture {
                    method: Some("WEB_FORM".into()),
                    ..web_form()
                },
                "consent_capture.method",
            ),
            (
                NewConsentCapture {
                    captured_at: Some(" ".into()),
                    ..web_form()
                },
                "consent_capture.captured_at",
            ),
            (
                NewConsentCapture {
                    captured_at: Some("yesterday".into()),
                    ..web_form()
                },
                "consent_capture.captured_at",
            ),
            (
                NewConsentCapture {
                    captured_at: Some("2026-12-01T18:06:00Z".into()),
                    ..web_form()
                },
                "consent_capture.captured_at",
            ),
            (
                NewConsentCapture {
                    form_url: Some("http://hartwell.example/intake".into()),
                    ..web_form()
                },
                "consent_capture.form_url",
            ),
            (
                NewConsentCapture {
                    ip: Some("300.1.1.1".into()),
                    ..web_form()
                },
                "consent_capture.ip",
            ),
            (
                NewConsentCapture {
                    disclosure_text: Some("x".repeat(MAX_NOTE_LEN + 1)),
                    ..web_form()
                },
                "consent_capture.disclosure_text",
            ),
            (
                NewConsentCapture {
                    user_agent: Some("é".repeat(MAX_USER_AGENT_LEN + 1)),
                    ..web_form()
                },
                "consent_capture.user_agent",
            ),
            (
                NewConsentCapture {
                    captured_by: Some("x".repeat(MAX_FIELD_LEN + 1)),
                    ..web_form()
                },
                "consent_capture.captured_by",
            ),
        ];
        for (input, field) in cases {
            let error = ConsentCapture::check(input.clone(), now())
                .expect_err(&format!("{input:?} accepted"));
            assert_eq!(error.field, field, "{error}");
        }
        // At the limits, accepted.
        let at_limits = NewConsentCapture {
            disclosure_text: Some("é".repeat(MAX_NOTE_LEN)),
            captured_by: Some("x".repeat(MAX_FIELD_LEN)),
            ..web_form()
        };
        assert!(ConsentCapture::check(at_limits, now()).is_ok());
    }
}
