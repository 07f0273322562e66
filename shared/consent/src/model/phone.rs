//! Phone numbers: parsing any reasonable input to E.164, and masking for logs.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest input we try to parse; anything longer is not a phone number.
const MAX_INPUT_LEN: usize = 64;

/// Longest E.164 text: a plus and at most 15 digits.
const MAX_E164_LEN: usize = 16;

/// Why an input is not a phone number we can text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Nothing was given.
    #[error("the phone number is empty")]
    Empty,
    /// The input is longer than any phone number.
    #[error("the phone number is too long")]
    TooLong,
    /// The input could not be read as a phone number.
    #[error("'{0}' is not a phone number")]
    Unparseable(String),
    /// The input reads as a number that no carrier assigns.
    #[error("'{0}' is not a valid phone number")]
    Invalid(String),
}

/// A phone number in E.164 form (`+14155550134`), the key of every consent record.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses "(415) 555-0134", "415.555.0134", "+1 415 555 0134" and the like; US is the
    /// default region for numbers without a country code.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        if trimmed.len() > MAX_INPUT_LEN {
            return Err(PhoneError::TooLong);
        }
        let shown = trimmed.chars().take(MAX_INPUT_LEN).collect::<String>();
        let parsed = phonenumber::parse(Some(phonenumber::country::Id::US), trimmed)
            .map_err(|_| PhoneError::Unparseable(shown.clone()))?;
        if !phonenumber::is_valid(&parsed) {
            return Err(PhoneError::Invalid(shown));
        }
        let e164 = parsed.format().mode(phonenumber::Mode::E164).to_string();
        // E.164 allows at most 15 digits; the metadata accepts a few longer numbers that no
        // carrier (and no SMS provider) takes.
        if e164.len() > MAX_E164_LEN {
            return Err(PhoneError::Invalid(shown));
        }
        // The number must read back as itself: the metadata rewrites a few inputs ("+43 1 112
        // 000" drops a national prefix) into an E.164 text that parses to another number or to
        // none, and a record keyed by such a text could never be found again.
        if e164 != trimmed
            && Self::parse(&e164)
                .map(|again| again.0 != e164)
                .unwrap_or(true)
        {
            return Err(PhoneError::Invalid(shown));
        }
        Ok(Self(e164))
    }

    /// A number this service stored (a key, a column), read back as its deserializer reads
    /// one: only its E.164 shape is checked.
    pub fn from_stored(text: String) -> Result<Self, PhoneError> {
        if is_e164_shaped(&text) {
            Ok(Self(text))
        } else {
            Err(PhoneError::Unparseable(
                text.chars().take(MAX_INPUT_LEN).collect(),
            ))
        }
    }

    /// Accepts only a string that is already canonical E.164, after the full parse (stores read
    /// their own numbers with [`Self::from_stored`]).
    pub fn from_e164(input: &str) -> Result<Self, PhoneError> {
        let parsed = Self::parse(input)?;
        if parsed.0 != input {
            return Err(PhoneError::Unparseable(
                input.chars().take(MAX_INPUT_LEN).collect(),
            ));
        }
        Ok(parsed)
    }

    /// The E.164 text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The three-digit area code of a North American (+1) number.
    pub fn nanp_area_code(&self) -> Option<&str> {
        self.0
            .strip_prefix("+1")
            .filter(|rest| rest.len() == 10)
            .map(|rest| &rest[..3])
    }

    /// The number as logs may show it: `+1415***0134`.
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }

    /// The last four digits, which a masked number keeps.
    pub fn last_four(&self) -> &str {
        &self.0[self.0.len().saturating_sub(4)..]
    }

    /// The number as a person dials it: `(202) 555-0100` for a North American number (the
    /// only ones the service texts today), E.164 for any other.
    pub fn dialled(&self) -> String {
        match (self.nanp_area_code(), self.0.get(5..8), self.0.get(8..)) {
            (Some(area), Some(exchange), Some(line)) => format!("({area}) {exchange}-{line}"),
            _ => self.0.clone(),
        }
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// Debug masks too, so a stray `{:?}` in a log line never leaks a number.
impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

impl Serialize for PhoneNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Reads a number this service wrote (a record, an event, a token's sealed claims): every
/// request body takes its number as text and goes through [`PhoneNumber::parse`], so what is
/// read back was parsed once already and only its E.164 shape is checked. A full parse here
/// cost more than the rest of reading a consent record.
impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::from_stored(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// `+`, then a digit 1-9, then digits: at most [`MAX_E164_LEN`] characters in all.
fn is_e164_shaped(text: &str) -> bool {
    let Some(digits) = text.strip_prefix('+') else {
        return false;
    };
    text.len() <= MAX_E164_LEN
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.bytes().next().is_some_and(|first| first != b'0')
}

/// Masks any phone-like string for logs: keeps the country and area code and the last four digits.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 8 {
        return "***".to_string();
    }
    let head: String = chars[..5].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}***{tail}")
}

/// Masks an email address for logs: `a***@example.com`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first = local.chars().next().map(String::from).unwrap_or_default();
            format!("{first}***@{domain}")
        }
        None => "***".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_dialled_as_a_person_writes_it_and_keeps_its_last_four() {
        let nanp = PhoneNumber::from_e164("+12025550100").expect("a number");
        assert_eq!(nanp.dialled(), "(202) 555-0100");
        assert_eq!(nanp.last_four(), "0100");
        let uk = PhoneNumber::from_e164("+442079460958").expect("a number");
        assert_eq!(uk.dialled(), "+442079460958");
        assert_eq!(uk.last_four(), "0958");
    }

    #[test]
    fn a_number_whose_e164_form_reads_as_another_is_refused() {
        // The metadata turns this into +4312000, which does not parse back to itself.
        assert!(matches!(
            PhoneNumber::parse("+431112000"),
            Err(PhoneError::Invalid(_))
        ));
    }

    #[test]
    fn parses_common_us_formats_to_e164() {
        for input in [
            "(415) 555-0134",
            "415.555.0134",
            "+1 415 555 0134",
            "4155550134",
            "1-415-555-0134",
            " +14155550134 ",
        ] {
            assert_eq!(
                PhoneNumber::parse(input).unwrap().as_str(),
                "+14155550134",
                "{input}"
            );
        }
    }

    #[test]
    fn parses_international_numbers() {
        assert_eq!(
            PhoneNumber::parse("+44 20 7946 0958").unwrap().as_str(),
            "+442079460958"
        );
    }

    #[test]
    fn rejects_bad_input_with_typed_errors() {
        assert_eq!(PhoneNumber::parse(""), Err(PhoneError::Empty));
        assert_eq!(PhoneNumber::parse("   "), Err(PhoneError::Empty));
        assert!(matches!(
            PhoneNumber::parse("hello"),
            Err(PhoneError::Unparseable(_))
        ));
        assert!(matches!(
            PhoneNumber::parse("123"),
            Err(PhoneError::Invalid(_)) | Err(PhoneError::Unparseable(_))
        ));
        assert!(matches!(
            PhoneNumber::parse("+1 000 000 0000"),
            Err(PhoneError::Invalid(_)) | Err(PhoneError::Unparseable(_))
        ));
        assert_eq!(
            PhoneNumber::parse(&"9".repeat(100)),
            Err(PhoneError::TooLong)
        );
    }

    #[test]
    fn masks_numbers_and_emails() {
        let phone = PhoneNumber::parse("(415) 555-0134").unwrap();
        assert_eq!(phone.masked(), "+1415***0134");
        assert_eq!(format!("{phone:?}"), "PhoneNumber(+1415***0134)");
        assert_eq!(mask_email("alice@example.com"), "a***@example.com");
        assert_eq!(mask_email("nonsense"), "***");
    }

    #[test]
    fn area_code_only_for_nanp() {
        assert_eq!(
            PhoneNumber::parse("4155550134").unwrap().nanp_area_code(),
            Some("415")
        );
        assert_eq!(
            PhoneNumber::parse("+442079460958")
                .unwrap()
                .nanp_area_code(),
            None
        );
    }

    #[test]
    fn a_stored_number_reads_back_as_itself() {
        let number = PhoneNumber::parse("(415) 555-0134").unwrap();
        let json = serde_json::to_string(&number).unwrap();
        assert_eq!(serde_json::from_str::<PhoneNumber>(&json).unwrap(), number);
    }

    #[test]
    fn a_stored_number_not_in_e164_form_is_refused() {
        for stored in [
            "\"4155550134\"",
            "\"+\"",
            "\"+0155550134\"",
            "\"+1 415 555 0134\"",
            "\"+1415555013412345\"",
            "\"+1415555O134\"",
            "\"\"",
        ] {
            assert!(
                serde_json::from_str::<PhoneNumber>(stored).is_err(),
                "{stored} was read as a number"
            );
        }
    }

    #[test]
    fn from_e164_requires_canonical_form() {
        assert!(PhoneNumber::from_e164("+14155550134").is_ok());
        assert!(PhoneNumber::from_e164("4155550134").is_err());
    }
}
