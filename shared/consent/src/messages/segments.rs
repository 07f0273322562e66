//! SMS segment counting: GSM-7 (160 / 153 per part) or UCS-2 (70 / 67 per part).
//!
//! An empty body counts as 0 units and 1 segment: carriers still bill one message for it.

use serde::{Deserialize, Serialize};

/// Septets in a single GSM-7 message.
const GSM7_SINGLE: u32 = 160;
/// Septets per part of a concatenated GSM-7 message (the rest is the UDH).
const GSM7_PART: u32 = 153;
/// UTF-16 code units in a single UCS-2 message.
const UCS2_SINGLE: u32 = 70;
/// UTF-16 code units per part of a concatenated UCS-2 message.
const UCS2_PART: u32 = 67;

/// The encoding a text needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SmsEncoding {
    /// The GSM 03.38 alphabet (with its extension table).
    Gsm7,
    /// Anything outside it.
    Ucs2,
}

/// How a text will be split into SMS segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentCount {
    /// The encoding.
    pub encoding: SmsEncoding,
    /// Number of segments billed.
    pub segments: u32,
    /// Length in the encoding's units (septets or UTF-16 code units).
    pub units: u32,
}

/// Counts the segments of an SMS body: GSM-7 if every character is in GSM 03.38 (extension
/// characters take two septets), UCS-2 otherwise. An empty body is 0 units, 1 segment.
pub fn count_segments(body: &str) -> SegmentCount {
    let septets: Option<Vec<u32>> = body.chars().map(gsm7_septets).collect();
    match septets {
        Some(widths) => split(SmsEncoding::Gsm7, widths, GSM7_SINGLE, GSM7_PART),
        None => split(
            SmsEncoding::Ucs2,
            body.chars().map(|c| c.len_utf16() as u32),
            UCS2_SINGLE,
            UCS2_PART,
        ),
    }
}

/// Packs characters of the given widths into segments. A character never straddles two parts
/// (an escape pair or a surrogate pair would be garbled on the handset), so a part may end
/// one unit short.
fn split(
    encoding: SmsEncoding,
    widths: impl IntoIterator<Item = u32> + Clone,
    single: u32,
    part: u32,
) -> SegmentCount {
    let units = widths
        .clone()
        .into_iter()
        .fold(0u32, |total, width| total.saturating_add(width));
    if units <= single {
        return SegmentCount {
            encoding,
            segments: 1,
            units,
        };
    }
    let mut segments = 1u32;
    let mut used = 0u32;
    for width in widths {
        if used + width > part {
            segments = segments.saturating_add(1);
            used = 0;
        }
        used += width;
    }
    SegmentCount {
        encoding,
        segments,
        units,
    }
}

/// Septets a character takes in GSM-7: 1 in the basic set, 2 in the extension table (escape +
/// character), `None` when GSM-7 cannot carry it at all.
fn gsm7_septets(c: char) -> Option<u32> {
    if is_gsm7_basic(c) {
        Some(1)
    } else if is_gsm7_extension(c) {
        Some(2)
    } else {
        None
    }
}

/// The GSM 03.38 basic character set (default alphabet), minus the escape code itself.
fn is_gsm7_basic(c: char) -> bool {
    matches!(
        c,
        'A'..='Z'
            | 'a'..='z'
            | '0'..='9'
            | ' '
            | '\n'
            | '\r'
            | '!'
            | '"'
            | '#'
            | '$'
            | '%'
            | '&'
            | '\''
            | '('
            | ')'
            | '*'
            | '+'
            | ','
            | '-'
            | '.'
            | '/'
            | ':'
            | ';'
            | '<'
            | '='
            | '>'
            | '?'
            | '@'
            | '_'
            | '£'
            | '¥'
            | 'è'
            | 'é'
            | 'ù'
            | 'ì'
            | 'ò'
            | 'Ç'
            | 'Ø'
            | 'ø'
            | 'Å'
            | 'å'
            | 'Δ'
            | 'Φ'
            | 'Γ'
            | 'Λ'
            | 'Ω'
            | 'Π'
            | 'Ψ'
            | 'Σ'
            | 'Θ'
            | 'Ξ'
            | 'Æ'
            | 'æ'
            | 'ß'
            | 'É'
            | '¤'
            | '¡'
            | 'Ä'
            | 'Ö'
            | 'Ñ'
            | 'Ü'
            | '§'
            | '¿'
            | 'ä'
            | 'ö'
            | 'ñ'
            | 'ü'
            | 'à'
    )
}

/// The GSM 03.38 extension table: each is sent as escape + character.
fn is_gsm7_extension(c: char) -> bool {
    matches!(
        c,
        '\u{000C}' | '^' | '{' | '}' | '\\' | '[' | '~' | ']' | '|' | '€'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gsm(segments: u32, units: u32) -> SegmentCount {
        SegmentCount {
            encoding: SmsEncoding::Gsm7,
            segments,
            units,
        }
    }

    fn ucs2(segments: u32, units: u32) -> SegmentCount {
        SegmentCount {
            encoding: SmsEncoding::Ucs2,
            segments,
            units,
        }
    }

    #[test]
    fn empty_body_is_one_segment_of_nothing() {
        assert_eq!(count_segments(""), gsm(1, 0));
    }

    #[test]
    fn gsm7_single_and_concatenated_limits() {
        assert_eq!(count_segments(&"a".repeat(160)), gsm(1, 160));
        assert_eq!(count_segments(&"a".repeat(161)), gsm(2, 161));
        assert_eq!(count_segments(&"a".repeat(306)), gsm(2, 306));
        assert_eq!(count_segments(&"a".repeat(307)), gsm(3, 307));
        assert_eq!(count_segments(&"a".repeat(459)), gsm(3, 459));
        assert_eq!(count_segments(&"a".repeat(460)), gsm(4, 460));
    }

    #[test]
    fn extension_characters_take_two_septets() {
        assert_eq!(count_segments("€"), gsm(1, 2));
        assert_eq!(count_segments("^{}\\[~]|€\u{000C}"), gsm(1, 20));
        assert_eq!(count_segments(&"€".repeat(80)), gsm(1, 160));
        // 76 pairs fill 152 septets of a part; the 77th cannot be split across.
        assert_eq!(count_segments(&"€".repeat(81)), gsm(2, 162));
        assert_eq!(count_segments(&"€".repeat(152)), gsm(2, 304));
        assert_eq!(count_segments(&"€".repeat(153)), gsm(3, 306));
    }

    #[test]
    fn escape_pair_never_straddles_a_part_boundary() {
        // 306 septets would fit two parts naively, but the € would straddle septet 153.
        let body = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(count_segments(&body), gsm(3, 306));
        // Shifted by one it lands inside the first part and two suffice.
        let body = format!("{}€{}", "a".repeat(151), "a".repeat(153));
        assert_eq!(count_segments(&body), gsm(2, 306));
    }

    #[test]
    fn gsm7_basic_set_accents_and_greek_stay_gsm7() {
        let body =
            "é è ù ì ò Ç Ø ø Å å Æ æ ß É Ä Ö Ñ Ü ä ö ñ ü à ¡ ¿ § £ ¥ ¤ Δ Φ Γ Λ Ω Π Ψ Σ Θ Ξ @$_";
        assert_eq!(count_segments(body).encoding, SmsEncoding::Gsm7);
        let ascii_printable: String = (' '..='~').filter(|&c| c != '`').collect();
        assert_eq!(count_segments(&ascii_printable).encoding, SmsEncoding::Gsm7);
        // Backtick is the one printable ASCII character GSM-7 lacks.
        assert_eq!(count_segments("`").encoding, SmsEncoding::Ucs2);
    }

    #[test]
    fn ucs2_single_and_concatenated_limits() {
        assert_eq!(count_segments(&"中".repeat(70)), ucs2(1, 70));
        assert_eq!(count_segments(&"中".repeat(71)), ucs2(2, 71));
        assert_eq!(count_segments(&"中".repeat(134)), ucs2(2, 134));
        assert_eq!(count_segments(&"中".repeat(135)), ucs2(3, 135));
    }

    #[test]
    fn emoji_is_two_utf16_units() {
        assert_eq!(count_segments("😀"), ucs2(1, 2));
        assert_eq!(count_segments(&"😀".repeat(35)), ucs2(1, 70));
        // 33 emoji (66 units) per part: 36 of them need two parts.
        assert_eq!(count_segments(&"😀".repeat(36)), ucs2(2, 72));
    }

    #[test]
    fn surrogate_pair_never_straddles_a_part_boundary() {
        let body = format!("{}😀{}", "中".repeat(66), "中".repeat(66));
        assert_eq!(count_segments(&body), ucs2(3, 134));
        let body = format!("{}😀{}", "中".repeat(65), "中".repeat(67));
        assert_eq!(count_segments(&body), ucs2(2, 134));
    }

    #[test]
    fn curly_apostrophe_forces_ucs2() {
        // Word processors and phones turn ' into ’, silently halving the room per segment.
        let straight = format!("Don't forget: {}", "a".repeat(70));
        let curly = straight.replace('\'', "\u{2019}");
        assert_eq!(count_segments(&straight), gsm(1, 84));
        assert_eq!(count_segments(&curly), ucs2(2, 84));
        assert_eq!(count_segments("Don’t"), ucs2(1, 5));
    }

    #[test]
    fn other_lookalikes_force_ucs2() {
        for c in ['“', '”', '–', '…', '\u{00A0}', '\t', 'ç', 'á'] {
            assert_eq!(
                count_segments(&format!("a{c}b")).encoding,
                SmsEncoding::Ucs2,
                "{c:?}"
            );
        }
    }

    #[test]
    fn one_extension_character_does_not_force_ucs2() {
        let body = format!("Pay {}€ today", "1".repeat(3));
        assert_eq!(count_segments(&body), gsm(1, 15));
    }
}
