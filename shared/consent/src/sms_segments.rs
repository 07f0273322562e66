//! SMS segment counting: GSM-7 (160 / 153 per part) or UCS-2 (70 / 67 per part).

use serde::{Deserialize, Serialize};

/// The encoding a text needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// Counts the segments of an SMS body.
pub fn count_segments(body: &str) -> SegmentCount {
    let _ = body;
    todo!("sms_segments::count_segments")
}
