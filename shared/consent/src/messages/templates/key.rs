//! Where a firm's override of one template in one language is kept: the key of the firm's
//! template map, in every store (the firm document holds the map).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::TemplateName;
use crate::model::language::Language;

/// Separates a template's name from its language in a stored key.
const LANGUAGE_SEPARATOR: char = '#';

/// One template in one language: what a firm overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TemplateKey {
    /// Which message the template is for.
    pub name: TemplateName,
    /// The language of this version of it.
    pub language: Language,
}

impl TemplateKey {
    /// The key of `name` in `language`.
    pub fn new(name: TemplateName, language: Language) -> Self {
        Self { name, language }
    }

    /// The stored key: the bare name for English, so the overrides stored before languages
    /// existed read as the English ones without a migration, and `<name>#<language>` for the
    /// others (`sms_help#es`).
    pub fn stored(self) -> String {
        if self.language.is_english() {
            self.name.as_str().to_string()
        } else {
            format!(
                "{}{LANGUAGE_SEPARATOR}{}",
                self.name.as_str(),
                self.language
            )
        }
    }

    /// The key a stored key stands for, if any.
    pub fn parse_stored(text: &str) -> Option<Self> {
        let (name, language) = match text.split_once(LANGUAGE_SEPARATOR) {
            Some((name, code)) => (name, Language::parse(code).ok()?),
            None => (text, Language::En),
        };
        // `sms_help#en` is not a stored form: English has one key only.
        if language.is_english() && text.contains(LANGUAGE_SEPARATOR) {
            return None;
        }
        Some(Self::new(TemplateName::parse(name)?, language))
    }
}

impl Serialize for TemplateKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.stored())
    }
}

impl<'de> Deserialize<'de> for TemplateKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse_stored(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown template key {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_keeps_the_bare_name_and_spanish_gets_a_suffix() {
        let help = |language| TemplateKey::new(TemplateName::SmsHelp, language);
        assert_eq!(help(Language::En).stored(), "sms_help");
        assert_eq!(help(Language::Es).stored(), "sms_help#es");
        for name in TemplateName::ALL {
            for language in Language::ALL {
                let key = TemplateKey::new(name, language);
                assert_eq!(TemplateKey::parse_stored(&key.stored()), Some(key));
            }
        }
        for bad in ["sms_help#en", "sms_help#fr", "nope", "nope#es", "", "#es"] {
            assert_eq!(TemplateKey::parse_stored(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_map_stored_before_languages_reads_as_english() {
        let stored = r#"{"sms_help":{"body":"old"},"sms_help#es":{"body":"nuevo"}}"#;
        let map: std::collections::BTreeMap<TemplateKey, super::super::TemplateOverride> =
            serde_json::from_str(stored).expect("reads");
        assert!(map.contains_key(&TemplateKey::new(TemplateName::SmsHelp, Language::En)));
        assert!(map.contains_key(&TemplateKey::new(TemplateName::SmsHelp, Language::Es)));
        assert_eq!(serde_json::to_string(&map).expect("writes"), stored);
    }
}
