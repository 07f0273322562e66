//! The reading of a proof's JSON that every verifier must agree on. A member named twice in one
//! object, or a number outside ±(2^53−1) (the integers every JSON parser reads alike, I-JSON and
//! RFC 8785), is a problem: two conforming parsers could read the document differently, so a
//! tampered `"type":"opted_in"` placed before the real `type` would fool one of them.

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::problem::Problem;

/// The largest integer magnitude every JSON parser reads exactly: 2^53 − 1.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Every duplicated member and unsafe number in the JSON `text`, in document order, each named
/// by its path (`$.events[3].type`). `Err` only when `text` is not JSON at all.
pub fn ambiguities(text: &str) -> Result<Vec<Problem>, serde_json::Error> {
    let mut found = Vec::new();
    let mut reader = serde_json::Deserializer::from_str(text);
    Walk {
        path: "$".to_string(),
        found: &mut found,
    }
    .deserialize(&mut reader)?;
    reader.end()?;
    Ok(found)
}

/// Walks one JSON value, noting what two parsers could read differently.
struct Walk<'a> {
    path: String,
    found: &'a mut Vec<Problem>,
}

impl Walk<'_> {
    fn unsafe_number(self) {
        self.found.push(Problem::UnsafeNumber { path: self.path });
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        if v > MAX_SAFE_INTEGER {
            self.unsafe_number();
        }
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        if v.unsigned_abs() > MAX_SAFE_INTEGER {
            self.unsafe_number();
        }
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        // Integers past u64 arrive here too; fractions are exact only within the same range.
        if !v.is_finite() || v.abs() > MAX_SAFE_INTEGER as f64 {
            self.unsafe_number();
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while seq
            .next_element_seed(Walk {
                path: format!("{}[{index}]", self.path),
                found: &mut *self.found,
            })?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(name) = map.next_key::<String>()? {
            let path = format!("{}.{name}", self.path);
            if !seen.insert(name) {
                self.found
                    .push(Problem::DuplicateMember { path: path.clone() });
            }
            map.next_value_seed(Walk {
                path,
                found: &mut *self.found,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(text: &str) -> Vec<String> {
        ambiguities(text)
            .unwrap()
            .into_iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn a_member_named_twice_anywhere_is_found_with_its_path() {
        let found =
            paths(r#"{"events":[{"id":"a"},{"type":"opted_in","id":"b","type":"opted_out"}]}"#);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("$.events[1].type"), "{found:?}");
        assert!(paths(r#"{"a":{"b":1},"a":{"b":1}}"#)[0].contains("$.a"));
    }

    #[test]
    fn numbers_every_parser_reads_alike_pass_and_others_are_found() {
        assert!(paths(r#"{"n":9007199254740991,"m":-9007199254740991,"f":1.5,"z":0}"#).is_empty());
        for text in [
            r#"{"n":9007199254740992}"#,
            r#"{"n":-9007199254740992}"#,
            r#"{"n":18446744073709551616}"#,
            r#"{"n":1e300}"#,
        ] {
            let found = paths(text);
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            assert!(found[0].contains("$.n"), "{found:?}");
        }
    }

    #[test]
    fn text_that_is_not_json_is_an_error_not_a_problem() {
        assert!(ambiguities("{\"a\":").is_err());
        assert!(ambiguities("{} trailing").is_err());
    }
}
