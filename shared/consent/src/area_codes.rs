//! The NANP area-code table: area code → region and IANA time zone(s).

/// What an area code tells us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaCodeInfo {
    /// Two-letter state, province or territory code (e.g. "FL", "ON").
    pub region: &'static str,
    /// The zone(s) the area code covers, most populous first.
    pub zones: Vec<chrono_tz::Tz>,
}

/// Looks up a three-digit NANP area code.
pub fn lookup(area_code: &str) -> Option<AreaCodeInfo> {
    let _ = area_code;
    todo!("area_codes::lookup")
}
