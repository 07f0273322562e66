//! The language a contact is written to in: it picks the templates (and the firm's overrides)
//! of every message the service sends them.

use serde::{Deserialize, Serialize};

/// A language the service writes in: English (the default) or Spanish.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// English: the default, and what every record written before languages existed reads as.
    #[default]
    En,
    /// Spanish.
    Es,
}

/// A language code the service does not write in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("language must be en or es")]
pub struct UnknownLanguage;

impl Language {
    /// Every language, English first.
    pub const ALL: [Self; 2] = [Self::En, Self::Es];

    /// The wire code (`en`, `es`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Es => "es",
        }
    }

    /// The language a caller's code names: `en` or `es`, in any case, surrounding spaces
    /// ignored; anything else is the caller's mistake.
    pub fn parse(code: &str) -> Result<Self, UnknownLanguage> {
        let code = code.trim();
        Self::ALL
            .into_iter()
            .find(|language| language.as_str().eq_ignore_ascii_case(code))
            .ok_or(UnknownLanguage)
    }

    /// The language of an optional caller's code: English when none is given.
    pub fn parse_or_default(code: Option<&str>) -> Result<Self, UnknownLanguage> {
        code.map_or(Ok(Self::default()), Self::parse)
    }

    /// Whether this is English, the default.
    pub fn is_english(&self) -> bool {
        *self == Self::En
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_and_round_trip() {
        assert_eq!(Language::parse("es"), Ok(Language::Es));
        assert_eq!(Language::parse(" ES "), Ok(Language::Es));
        assert_eq!(Language::parse("en"), Ok(Language::En));
        for bad in ["", "fr", "spanish", "es-US", "e s"] {
            assert_eq!(Language::parse(bad), Err(UnknownLanguage), "{bad:?}");
        }
        assert_eq!(Language::parse_or_default(None), Ok(Language::En));
        for language in Language::ALL {
            let json = serde_json::to_value(language).expect("serializes");
            assert_eq!(json, serde_json::json!(language.as_str()));
            assert_eq!(Language::parse(&language.to_string()), Ok(language));
        }
    }
}
