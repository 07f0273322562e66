//! Canonical JSON: one byte sequence per JSON value, so that a hash or a signature over a value
//! can be recomputed by anyone from the value alone, whatever key order or whitespace it was
//! written with.
//!
//! The form is RFC 8785 (JSON Canonicalization Scheme) for the values this service writes:
//! - no whitespace anywhere;
//! - object members sorted by key, comparing keys as sequences of UTF-16 code units (for the
//!   ASCII keys of this service that is plain byte order); keys are unique;
//! - strings in double quotes, UTF-8, escaping only `"` as `\"`, `\` as `\\`, the control
//!   characters U+0008, U+0009, U+000A, U+000C, U+000D as `\b`, `\t`, `\n`, `\f`, `\r`, and the
//!   other control characters below U+0020 as `\u00xx` with lowercase hex; everything else,
//!   including `/` and non-ASCII characters, is written as itself;
//! - `true`, `false`, `null`;
//! - numbers: the service only writes integers below 2^53, written in plain decimal (no sign for
//!   non-negative values, no leading zeros, no exponent), which is what RFC 8785 prescribes for
//!   them.
//!
//! It does not depend on serde_json's map order (`preserve_order` may be on or off).

use serde_json::Value;

/// The canonical text of `value`.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_value(&mut out, value);
    out
}

/// The canonical text of `value` without its top-level member `skipped` (the form a hash over
/// an object that will carry that hash is taken of), without copying the object.
pub fn canonical_json_without(value: &Value, skipped: &str) -> String {
    canonical_json_without_members(value, &[skipped])
}

/// The canonical text of `value` without any of its top-level members named in `skipped`.
pub fn canonical_json_without_members(value: &Value, skipped: &[&str]) -> String {
    let mut out = String::with_capacity(256);
    match value {
        Value::Object(members) => write_members(
            &mut out,
            members
                .iter()
                .filter(|(key, _)| !skipped.contains(&key.as_str())),
        ),
        other => write_value(&mut out, other),
    }
    out
}

/// RFC 8785 orders keys by UTF-16 code units; for ASCII keys (every key this service writes)
/// that is byte order, which is cheaper to compare.
pub fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.cmp(b)
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

/// Writes object members in canonical order.
pub fn write_members<'a>(out: &mut String, members: impl Iterator<Item = (&'a String, &'a Value)>) {
    let mut sorted: Vec<(&String, &Value)> = members.collect();
    sorted.sort_unstable_by(|(a, _), (b, _)| key_order(a, b));
    out.push('{');
    for (i, (key, member)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, key);
        out.push(':');
        write_value(out, member);
    }
    out.push('}');
}

/// Writes one value in canonical form.
pub fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        // Integers print in plain decimal; the service writes no fractional numbers.
        Value::Number(number) => out.push_str(&number.to_string()),
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(members) => write_members(out, members.iter()),
    }
}

/// Whether a string has a character canonical JSON escapes.
pub fn needs_escape(text: &str) -> bool {
    text.bytes().fold(false, |found, b| {
        found | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

/// Writes a string in canonical form (quotes and RFC 8785 escapes).
pub fn write_string(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    // Most strings need no escape: copy them whole. (A fold without early exit, so the
    // compiler checks many bytes at once.)
    if !needs_escape(text) {
        out.push_str(text);
        out.push('"');
        return;
    }
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let code = c as u32 as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[code >> 4]));
                out.push(char::from(HEX[code & 0xf]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes an integer in plain decimal, as RFC 8785 does for the integers a proof holds.
pub fn write_integer(out: &mut String, value: impl std::fmt::Display) {
    use std::fmt::Write as _;
    // Writing into a String cannot fail.
    let _ = write!(out, "{value}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_member_can_be_left_out_without_a_copy() {
        let value = json!({"b": 1, "hash": "x", "a": {"hash": "kept"}});
        assert_eq!(
            canonical_json_without(&value, "hash"),
            r#"{"a":{"hash":"kept"},"b":1}"#
        );
        assert_eq!(canonical_json_without(&json!([1]), "hash"), "[1]");
    }

    #[test]
    fn sorts_keys_and_drops_whitespace() {
        let value: Value =
            serde_json::from_str(r#"{ "b": [1, {"z": null, "a": true}], "a": "x" }"#).unwrap();
        assert_eq!(
            canonical_json(&value),
            r#"{"a":"x","b":[1,{"a":true,"z":null}]}"#
        );
    }

    #[test]
    fn escapes_as_rfc_8785() {
        let value = json!("q\"b\\s/é\u{1}\u{1f}\n\t\r\u{8}\u{c}€😀\u{7f}");
        assert_eq!(
            canonical_json(&value),
            "\"q\\\"b\\\\s/é\\u0001\\u001f\\n\\t\\r\\b\\f€😀\u{7f}\""
        );
    }

    #[test]
    fn agrees_with_serde_json_for_strings() {
        // serde_json escapes exactly the same characters the same way.
        for text in [
            "plain",
            "a\u{0}b",
            "\u{1b}[0m",
            "line\nbreak",
            "\"quoted\"",
            "ünï",
        ] {
            let value = json!(text);
            assert_eq!(
                canonical_json(&value),
                serde_json::to_string(&value).unwrap()
            );
        }
    }

    #[test]
    fn key_order_follows_utf16_code_units() {
        // U+1F600 is the surrogate pair D83D DE00 in UTF-16, so it sorts before U+E000.
        let value = json!({ "\u{e000}": 1, "\u{1f600}": 2, "a": 3 });
        assert_eq!(
            canonical_json(&value),
            "{\"a\":3,\"\u{1f600}\":2,\"\u{e000}\":1}"
        );
    }

    proptest::proptest! {
        #[test]
        fn an_independent_rfc_8785_implementation_writes_the_same_bytes(
            keys in proptest::collection::vec("[a-z_]{1,12}", 1..6),
            text in "(\\PC|[\u{0}-\u{1f}\"\\\\\u{7f}\u{2028}\u{2029}])*",
            number in -9_007_199_254_740_991i64..=9_007_199_254_740_991,
        ) {
            let mut value = json!({ "n": number, "t": text, "l": [text, null, true, false] });
            for (i, key) in keys.iter().enumerate() {
                value[key.as_str()] = json!({ "i": i, "s": key });
            }
            let independent = serde_json_canonicalizer::to_string(&value).unwrap();
            proptest::prop_assert_eq!(canonical_json(&value), independent);
        }
    }
}
