//! How a stored record writes an instant: nanoseconds since the epoch, a third of the bytes of
//! RFC 3339 and exact to the nanosecond, so a record reads back equal to the one written. Reads
//! take either form: records written before this were RFC 3339 throughout, and an instant past
//! what 64 bits of nanoseconds hold (the year 2262) is still written that way.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};

/// Writes an instant as nanoseconds since the epoch (RFC 3339 when out of that range).
pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    match at.timestamp_nanos_opt() {
        Some(nanos) => serializer.serialize_i64(nanos),
        None => serializer.collect_str(&at.to_rfc3339()),
    }
}

/// Reads an instant written either way.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    deserializer.deserialize_any(InstantVisitor)
}

/// Nanoseconds since the epoch, or RFC 3339 text.
struct InstantVisitor;

impl Visitor<'_> for InstantVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("nanoseconds since the epoch or an RFC 3339 time")
    }

    fn visit_i64<E: de::Error>(self, nanos: i64) -> Result<Self::Value, E> {
        Ok(DateTime::from_timestamp_nanos(nanos))
    }

    fn visit_u64<E: de::Error>(self, nanos: u64) -> Result<Self::Value, E> {
        i64::try_from(nanos)
            .map(DateTime::from_timestamp_nanos)
            .map_err(|_| E::custom("an instant past the year 2262 in nanoseconds"))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        DateTime::parse_from_rfc3339(text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(E::custom)
    }
}

/// An instant in that form where serde's `with` cannot reach (inside a tuple or a sequence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoredInstant(pub DateTime<Utc>);

impl serde::Serialize for StoredInstant {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize(&self.0, serializer)
    }
}

impl<'de> serde::Deserialize<'de> for StoredInstant {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize(deserializer).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_instant_reads_back_to_the_nanosecond_from_either_form() {
        let at: DateTime<Utc> = "2026-12-06T15:04:05.123456789Z"
            .parse()
            .expect("an instant");
        let written = serde_json::to_value(StoredInstant(at)).expect("written");
        assert_eq!(written, json!(1_796_569_445_123_456_789_i64));
        let read: StoredInstant = serde_json::from_value(written).expect("read");
        assert_eq!(read.0, at);
        let legacy: StoredInstant =
            serde_json::from_value(json!("2026-12-06T15:04:05.123456789Z")).expect("read");
        assert_eq!(legacy.0, at);
    }

    #[test]
    fn an_instant_past_2262_is_written_as_text() {
        let at: DateTime<Utc> = "3000-01-01T00:00:00.5Z".parse().expect("an instant");
        let written = serde_json::to_value(StoredInstant(at)).expect("written");
        assert!(written.is_string());
        let read: StoredInstant = serde_json::from_value(written).expect("read");
        assert_eq!(read.0, at);
    }

    #[test]
    fn a_number_or_text_that_is_no_instant_is_refused() {
        assert!(serde_json::from_value::<StoredInstant>(json!("yesterday")).is_err());
        assert!(serde_json::from_value::<StoredInstant>(json!(u64::MAX)).is_err());
        assert!(serde_json::from_value::<StoredInstant>(json!(true)).is_err());
    }
}
