//! Canonical JSON written straight from serde, for hashing audit events without building a
//! `serde_json::Value`: the same bytes as the `Value` path of `consent_proof::canonical`
//! (re-exported here), which is the form's definition and is described there.
//!
//! It refuses what two conforming JSON parsers could read as different values (RFC 8785 and
//! I-JSON): an integer outside ±(2^53−1) and a float that is not finite. A refused value is an
//! error for the caller to surface, never hashed: the verifier would call it ambiguous.

use consent_proof::canonical::{key_order, needs_escape, write_integer, write_string};
use consent_proof::strict::MAX_SAFE_INTEGER;
use serde::{Serialize, ser};

pub use consent_proof::canonical::{canonical_json, canonical_json_without};

/// Why a value is not written as canonical JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    /// A number outside ±(2^53−1): JSON parsers may read it as another number.
    #[error("{0} is outside ±(2^53-1): JSON parsers may read it as another number")]
    UnsafeNumber(String),
    /// NaN or an infinity: JSON has no such number (serde_json would write `null`).
    #[error("{0} is not a finite number: JSON has none")]
    NonFinite(String),
    /// Written by the `Value` path instead: a finite fraction, a map key that is not a plain
    /// string, a key given twice. Returned only once the whole value has been read, so no
    /// refused number hides behind it.
    #[error("not written directly as canonical JSON")]
    Unsupported,
    /// The value cannot be made JSON at all (serde_json refused it).
    #[error("not representable as JSON: {0}")]
    NotJson(String),
}

impl CanonicalError {
    /// Whether the value is refused (as opposed to left to the `Value` path).
    pub fn is_refusal(&self) -> bool {
        !matches!(self, Self::Unsupported)
    }
}

/// Appends the canonical text of a serializable value to `out`, written straight from the
/// value: the same text as [`canonical_json`] over `serde_json::to_value(value)`, without
/// building the `Value`. [`crate::evidence::audit_canonical`] writes audit events' members with it.
/// A number outside the safe range is refused ([`CanonicalError::is_refusal`]);
/// [`CanonicalError::Unsupported`] leaves the value to the `Value` path. On an error `out`
/// holds a partial value: discard it.
pub fn append_canonical<T: Serialize + ?Sized>(
    out: &mut String,
    value: &T,
) -> Result<(), CanonicalError> {
    value.serialize(Writer { out })
}

impl ser::Error for CanonicalError {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        CanonicalError::Unsupported
    }
}

/// Refuses an integer of this magnitude outside ±(2^53−1), naming it by `text`.
fn safe_integer(magnitude: u128, text: impl std::fmt::Display) -> Result<(), CanonicalError> {
    if magnitude > u128::from(MAX_SAFE_INTEGER) {
        Err(CanonicalError::UnsafeNumber(text.to_string()))
    } else {
        Ok(())
    }
}

/// Passes a refusal on at once; notes a value left to the `Value` path and goes on, so that
/// every value is read for refused numbers before `Unsupported` is returned.
fn defer_unsupported(
    written: Result<(), CanonicalError>,
    unsupported: &mut bool,
) -> Result<(), CanonicalError> {
    match written {
        Err(CanonicalError::Unsupported) => {
            *unsupported = true;
            Ok(())
        }
        other => other,
    }
}

/// Writes one value.
struct Writer<'a> {
    out: &'a mut String,
}

impl<'a> ser::Serializer for Writer<'a> {
    type Ok = ();
    type Error = CanonicalError;
    type SerializeSeq = Items<'a>;
    type SerializeTuple = Items<'a>;
    type SerializeTupleStruct = Items<'a>;
    type SerializeTupleVariant = Items<'a>;
    type SerializeMap = Members<'a>;
    type SerializeStruct = Members<'a>;
    type SerializeStructVariant = Members<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), CanonicalError> {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), CanonicalError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), CanonicalError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), CanonicalError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), CanonicalError> {
        safe_integer(u128::from(v.unsigned_abs()), v)?;
        write_integer(self.out, v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), CanonicalError> {
        safe_integer(v.unsigned_abs(), v)?;
        write_integer(self.out, v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), CanonicalError> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), CanonicalError> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), CanonicalError> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), CanonicalError> {
        safe_integer(u128::from(v), v)?;
        write_integer(self.out, v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<(), CanonicalError> {
        safe_integer(v, v)?;
        write_integer(self.out, v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), CanonicalError> {
        // serde_json makes an f32 an f64 in a `Value`.
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), CanonicalError> {
        if !v.is_finite() {
            return Err(CanonicalError::NonFinite(v.to_string()));
        }
        if v.abs() > MAX_SAFE_INTEGER as f64 {
            return Err(CanonicalError::UnsafeNumber(v.to_string()));
        }
        Err(CanonicalError::Unsupported)
    }
    fn serialize_char(self, v: char) -> Result<(), CanonicalError> {
        write_string(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), CanonicalError> {
        write_string(self.out, v);
        Ok(())
    }
    fn collect_str<T: std::fmt::Display + ?Sized>(self, value: &T) -> Result<(), CanonicalError> {
        // Timestamps come this way: write them in place, and escape only if they need it.
        use std::fmt::Write as _;
        let start = self.out.len();
        let _ = write!(self.out, "{value}");
        if needs_escape(&self.out[start..]) {
            let text = self.out.split_off(start);
            write_string(self.out, &text);
        } else {
            self.out.insert(start, '"');
            self.out.push('"');
        }
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), CanonicalError> {
        // As serde_json: an array of numbers.
        self.out.push('[');
        for (i, byte) in v.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            write_integer(self.out, byte);
        }
        self.out.push(']');
        Ok(())
    }
    fn serialize_none(self) -> Result<(), CanonicalError> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), CanonicalError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), CanonicalError> {
        self.out.push_str("null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), CanonicalError> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), CanonicalError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), CanonicalError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), CanonicalError> {
        self.out.push('{');
        write_string(self.out, variant);
        self.out.push(':');
        value.serialize(Writer {
            out: &mut *self.out,
        })?;
        self.out.push('}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Items<'a>, CanonicalError> {
        Ok(Items::open(self.out, None))
    }
    fn serialize_tuple(self, _: usize) -> Result<Items<'a>, CanonicalError> {
        Ok(Items::open(self.out, None))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Items<'a>, CanonicalError> {
        Ok(Items::open(self.out, None))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Items<'a>, CanonicalError> {
        Ok(Items::open(self.out, Some(variant)))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Members<'a>, CanonicalError> {
        Ok(Members::open(self.out, None, len.unwrap_or(8)))
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Members<'a>, CanonicalError> {
        Ok(Members::open(self.out, None, len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Members<'a>, CanonicalError> {
        Ok(Members::open(self.out, Some(variant), len))
    }
}

/// An array being written (inside `{"variant":...}` for a tuple variant).
struct Items<'a> {
    out: &'a mut String,
    first: bool,
    variant: bool,
    /// An item was left to the `Value` path: said once every item has been read.
    unsupported: bool,
}

impl<'a> Items<'a> {
    fn open(out: &'a mut String, variant: Option<&str>) -> Self {
        if let Some(name) = variant {
            out.push('{');
            write_string(out, name);
            out.push(':');
        }
        out.push('[');
        Items {
            out,
            first: true,
            variant: variant.is_some(),
            unsupported: false,
        }
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CanonicalError> {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        let written = value.serialize(Writer {
            out: &mut *self.out,
        });
        defer_unsupported(written, &mut self.unsupported)
    }

    fn close(self) -> Result<(), CanonicalError> {
        if self.unsupported {
            return Err(CanonicalError::Unsupported);
        }
        self.out.push(']');
        if self.variant {
            self.out.push('}');
        }
        Ok(())
    }
}

impl ser::SerializeSeq for Items<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_element<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), CanonicalError> {
        self.item(value)
    }
    fn end(self) -> Result<(), CanonicalError> {
        self.close()
    }
}

impl ser::SerializeTuple for Items<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_element<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), CanonicalError> {
        self.item(value)
    }
    fn end(self) -> Result<(), CanonicalError> {
        self.close()
    }
}

impl ser::SerializeTupleStruct for Items<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CanonicalError> {
        self.item(value)
    }
    fn end(self) -> Result<(), CanonicalError> {
        self.close()
    }
}

impl ser::SerializeTupleVariant for Items<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CanonicalError> {
        self.item(value)
    }
    fn end(self) -> Result<(), CanonicalError> {
        self.close()
    }
}

/// A member's key: a field name, or a map key's text in [`Members::keys`].
#[derive(Clone)]
enum Key {
    Field(&'static str),
    Written(std::ops::Range<usize>),
}

/// An object being written: members are written aside as they come, then in key order.
struct Members<'a> {
    out: &'a mut String,
    variant: Option<&'static str>,
    /// Each member's key and where its value's text lies in `values`.
    members: Vec<(Key, std::ops::Range<usize>)>,
    values: String,
    /// The map keys given so far, side by side.
    keys: String,
    /// The key given by `serialize_key`, waiting for its value.
    key: Option<Key>,
    /// A key or a value was left to the `Value` path: said once every member has been read.
    unsupported: bool,
}

impl<'a> Members<'a> {
    fn open(out: &'a mut String, variant: Option<&'static str>, len: usize) -> Self {
        Members {
            out,
            variant,
            members: Vec::with_capacity(len),
            values: String::with_capacity(len.max(8) * 48),
            keys: String::new(),
            key: None,
            unsupported: false,
        }
    }

    fn key_text<'k>(keys: &'k str, key: &Key) -> &'k str {
        match key {
            Key::Field(name) => name,
            Key::Written(range) => &keys[range.clone()],
        }
    }

    fn member<T: Serialize + ?Sized>(&mut self, key: Key, value: &T) -> Result<(), CanonicalError> {
        let start = self.values.len();
        let written = value.serialize(Writer {
            out: &mut self.values,
        });
        self.members.push((key, start..self.values.len()));
        defer_unsupported(written, &mut self.unsupported)
    }

    fn close(mut self) -> Result<(), CanonicalError> {
        if self.unsupported {
            return Err(CanonicalError::Unsupported);
        }
        let keys = std::mem::take(&mut self.keys);
        let ascii = self
            .members
            .iter()
            .all(|(key, _)| Self::key_text(&keys, key).is_ascii());
        self.members.sort_unstable_by(|(a, _), (b, _)| {
            let (a, b) = (Self::key_text(&keys, a), Self::key_text(&keys, b));
            if ascii { a.cmp(b) } else { key_order(a, b) }
        });
        // A map with a repeated key keeps only the last in a `Value`: leave that to it.
        if self
            .members
            .windows(2)
            .any(|pair| Self::key_text(&keys, &pair[0].0) == Self::key_text(&keys, &pair[1].0))
        {
            return Err(CanonicalError::Unsupported);
        }
        if let Some(name) = self.variant {
            self.out.push('{');
            write_string(self.out, name);
            self.out.push(':');
        }
        self.out.push('{');
        for (i, (key, range)) in self.members.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            write_string(self.out, Self::key_text(&keys, key));
            self.out.push(':');
            self.out.push_str(&self.values[range.clone()]);
        }
        self.out.push('}');
        if self.variant.is_some() {
            self.out.push('}');
        }
        Ok(())
    }
}

impl ser::SerializeMap for Members<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), CanonicalError> {
        // A key must be a plain string: written as JSON it is `"..."` with nothing escaped.
        // Any other key is a string in a `Value` too (no number is read from it): leave the
        // map to that path, after reading its values for refused numbers.
        let start = self.keys.len();
        let written = key.serialize(Writer {
            out: &mut self.keys,
        });
        let text = &self.keys[start..];
        let plain = written.is_ok()
            && text.len() >= 2
            && text.starts_with('"')
            && text.ends_with('"')
            && !text[1..text.len() - 1].contains(['"', '\\']);
        if plain {
            self.key = Some(Key::Written(start + 1..self.keys.len() - 1));
        } else {
            self.unsupported = true;
            self.key = Some(Key::Field(""));
        }
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CanonicalError> {
        let key = self.key.take().unwrap_or_else(|| {
            self.unsupported = true;
            Key::Field("")
        });
        self.member(key, value)
    }
    fn end(self) -> Result<(), CanonicalError> {
        self.close()
    }
}

impl ser::SerializeStruct for Members<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), CanonicalError> {
        self.member(Key::Field(key), value)
    }
    fn end(self) -> Result<(), CanonicalError> {
        self.close()
    }
}

impl ser::SerializeStructVariant for Members<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), CanonicalError> {
        self.member(Key::Field(key), value)
    }
    fn end(self) -> Result<(), CanonicalError> {
        self.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The direct writer's text of one value.
    fn direct<T: Serialize + ?Sized>(value: &T) -> Result<String, CanonicalError> {
        let mut out = String::new();
        append_canonical(&mut out, value).map(|()| out)
    }

    /// The direct writer against the `Value` path, on one value.
    fn same_as_value_path<T: Serialize>(value: &T) {
        let via_value = canonical_json(&serde_json::to_value(value).unwrap());
        assert_eq!(direct(value), Ok(via_value));
    }

    #[derive(Serialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Tagged {
        Moved { to: String, steps: u32 },
        Empty {},
    }

    #[derive(Serialize, Clone)]
    enum External {
        Unit,
        Newtype(i64),
        Tuple(u8, String),
        Struct { z: bool, a: Option<String> },
    }

    #[derive(Serialize)]
    struct Flattened {
        id: String,
        #[serde(flatten)]
        kind: Tagged,
        hash: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        prev_hash: Option<String>,
        nested: std::collections::BTreeMap<String, Vec<External>>,
        bytes: serde_bytes_like::Bytes,
        unit: (),
        tuple: (i8, char, &'static str),
    }

    /// Serialized with `collect_str`, as timestamps are.
    struct Shown(&'static str);
    impl Serialize for Shown {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(self.0)
        }
    }

    mod serde_bytes_like {
        /// Serialized with `serialize_bytes`.
        pub struct Bytes(pub Vec<u8>);
        impl serde::Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.0)
            }
        }
    }

    #[test]
    fn the_direct_writer_matches_the_value_path() {
        let mut nested = std::collections::BTreeMap::new();
        nested.insert(
            "\u{e000}".to_string(),
            vec![External::Unit, External::Newtype(-7)],
        );
        nested.insert(
            "\u{1f600}".to_string(),
            vec![External::Tuple(3, "t\"ab\u{1}".into())],
        );
        nested.insert("b".to_string(), vec![External::Struct { z: true, a: None }]);
        for kind in [
            Tagged::Moved {
                to: "é/€\n".into(),
                steps: u32::MAX,
            },
            Tagged::Empty {},
        ] {
            same_as_value_path(&Flattened {
                id: "01J".into(),
                kind,
                hash: Some("kept: nothing is left out".into()),
                prev_hash: None,
                nested: nested.clone(),
                bytes: serde_bytes_like::Bytes(vec![0, 255]),
                unit: (),
                tuple: (-1, 'x', "y"),
            });
        }
        let safe = MAX_SAFE_INTEGER as i64;
        same_as_value_path(&json!({"hash": 1, "a": {"hash": [safe as u64, -safe, 0]}}));
        same_as_value_path(&vec![Some(1), None]);
        same_as_value_path(&[Shown("plain 12:00"), Shown("quote \" and \n")]);
        same_as_value_path(&"plain");
    }

    #[test]
    fn leaves_fractions_and_odd_keys_to_the_value_path() {
        assert_eq!(direct(&1.5f64), Err(CanonicalError::Unsupported));
        let mut numbered = std::collections::BTreeMap::new();
        numbered.insert(1u8, "one");
        assert_eq!(direct(&numbered), Err(CanonicalError::Unsupported));
        let mut escaped = std::collections::BTreeMap::new();
        escaped.insert("a\"b", 1);
        assert_eq!(direct(&escaped), Err(CanonicalError::Unsupported));
        assert!(!CanonicalError::Unsupported.is_refusal());
    }

    #[test]
    fn refuses_numbers_parsers_could_read_differently() {
        let refused = |result: Result<String, CanonicalError>| match result {
            Err(error) => error.is_refusal(),
            Ok(text) => panic!("written: {text}"),
        };
        let beyond = MAX_SAFE_INTEGER + 1;
        assert!(refused(direct(&beyond)));
        assert!(refused(direct(&-(beyond as i64))));
        assert!(refused(direct(&u64::MAX)));
        assert!(refused(direct(&i64::MIN)));
        assert!(refused(direct(&u128::MAX)));
        assert!(refused(direct(&i128::MIN)));
        assert!(refused(direct(&1e300f64)));
        assert_eq!(
            direct(&f64::NAN),
            Err(CanonicalError::NonFinite("NaN".into()))
        );
        assert!(refused(direct(&f64::INFINITY)));
        assert!(refused(direct(&f32::NEG_INFINITY)));
        // The edges themselves are written.
        assert_eq!(direct(&MAX_SAFE_INTEGER).as_deref(), Ok("9007199254740991"));
        assert_eq!(
            direct(&-(MAX_SAFE_INTEGER as i64)).as_deref(),
            Ok("-9007199254740991")
        );
        assert_eq!(direct(&7u128).as_deref(), Ok("7"));
        // Deep inside, and after what the Value path would have written (where serde_json
        // would have made the NaN a null): still refused, never left to that path.
        let mut odd = std::collections::BTreeMap::new();
        odd.insert(1u8, vec![f64::NAN]);
        assert!(refused(direct(&odd)));
        assert!(refused(direct(&(1.5f64, [u64::MAX]))));
        assert!(refused(direct(
            &json!({"a": [{"b": 1.5}, {"c": u64::MAX}]})
        )));
        assert!(refused(direct(&External::Newtype(i64::MAX))));
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_written_as_the_value_path_writes_it(
            key in "\\PC{0,8}",
            text in "(\\PC|[\u{0}-\u{1f}\"\\\\]){0,24}",
            number in -(MAX_SAFE_INTEGER as i64)..=MAX_SAFE_INTEGER as i64,
        ) {
            let mut map = std::collections::BTreeMap::new();
            map.insert(key.clone(), (text.clone(), number));
            map.insert(format!("{key}x"), (key.clone(), -1));
            let via_value = canonical_json(&serde_json::to_value(&map).unwrap());
            let written = direct(&map);
            if key.contains(['"', '\\']) {
                proptest::prop_assert_eq!(written, Err(CanonicalError::Unsupported));
            } else {
                proptest::prop_assert_eq!(written, Ok(via_value));
            }
        }

        #[test]
        fn every_integer_beyond_the_safe_range_is_refused(
            magnitude in (MAX_SAFE_INTEGER + 1)..=u64::MAX,
            negative in proptest::bool::ANY,
        ) {
            let written = if negative {
                direct(&vec![-(i128::from(magnitude))])
            } else {
                direct(&vec![magnitude])
            };
            proptest::prop_assert_eq!(
                written,
                Err(CanonicalError::UnsafeNumber(format!(
                    "{}{magnitude}",
                    if negative { "-" } else { "" }
                )))
            );
        }
    }
}
