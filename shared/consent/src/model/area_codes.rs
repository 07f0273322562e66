//! The NANP area-code table: area code → region and IANA time zone(s).
//!
//! The table is `data/nanp_area_codes.csv`, generated from Google libphonenumber's geocoding and
//! timezone metadata by `data/gen_nanp_area_codes.py`; regenerate it rather than editing by hand.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono_tz::Tz;

/// The generated table, compiled in so a lookup never touches the file system.
const TABLE_CSV: &str = include_str!("../../data/nanp_area_codes.csv");

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
    table().get(area_code).cloned()
}

fn table() -> &'static HashMap<&'static str, AreaCodeInfo> {
    static TABLE: OnceLock<HashMap<&'static str, AreaCodeInfo>> = OnceLock::new();
    // A malformed line is skipped rather than panicking in production; the tests below fail
    // on any such line, so bad data cannot ship unnoticed.
    TABLE.get_or_init(|| {
        data_lines()
            .filter_map(|line| parse_line(line).ok())
            .collect()
    })
}

/// The table's data lines: without comments, blank lines and the column header.
fn data_lines() -> impl Iterator<Item = &'static str> {
    TABLE_CSV
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter(|line| !line.starts_with("area_code,"))
}

/// Parses `area_code,region,zone|zone…`.
fn parse_line(line: &'static str) -> Result<(&'static str, AreaCodeInfo), String> {
    let mut fields = line.split(',');
    let (Some(code), Some(region), Some(zones), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(format!("expected 3 fields: {line:?}"));
    };
    let code_ok = code.len() == 3
        && code.bytes().all(|b| b.is_ascii_digit())
        && !code.starts_with(['0', '1']);
    if !code_ok {
        return Err(format!("bad area code {code:?} in {line:?}"));
    }
    if region.len() != 2 || !region.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(format!("bad region {region:?} in {line:?}"));
    }
    let zones = zones
        .split('|')
        .map(|name| {
            name.parse::<Tz>()
                .map_err(|_| format!("unknown zone {name:?} in {line:?}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((code, AreaCodeInfo { region, zones }))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono_tz::America;

    use super::*;

    #[test]
    fn every_line_parses_with_known_zones_and_no_duplicates() {
        let mut seen = HashSet::new();
        for line in data_lines() {
            let (code, _) = parse_line(line).unwrap_or_else(|e| panic!("{e}"));
            assert!(seen.insert(code), "duplicate area code {code}");
        }
        // The US, Canada and territories have over 400 geographic codes; far fewer means the
        // table was truncated.
        assert!(seen.len() > 400, "only {} area codes", seen.len());
        assert_eq!(table().len(), seen.len());
    }

    #[test]
    fn the_source_is_named_in_the_header() {
        let first = TABLE_CSV.lines().next().unwrap();
        assert!(first.starts_with("# Source:") && first.contains("libphonenumber"));
    }

    #[test]
    fn looks_up_well_known_codes() {
        let sf = lookup("415").unwrap();
        assert_eq!(
            (sf.region, sf.zones.as_slice()),
            ("CA", &[America::Los_Angeles][..])
        );
        let nyc = lookup("212").unwrap();
        assert_eq!(
            (nyc.region, nyc.zones.as_slice()),
            ("NY", &[America::New_York][..])
        );
        let toronto = lookup("416").unwrap();
        assert_eq!(
            (toronto.region, toronto.zones.as_slice()),
            ("ON", &[America::Toronto][..])
        );
        assert_eq!(lookup("305").unwrap().region, "FL");
        assert_eq!(lookup("405").unwrap().region, "OK");
    }

    #[test]
    fn panhandle_code_is_florida_and_includes_central_time() {
        let panhandle = lookup("850").unwrap();
        assert_eq!(panhandle.region, "FL");
        assert!(panhandle.zones.contains(&America::Chicago));
    }

    #[test]
    fn codes_spanning_zones_list_each() {
        assert!(lookup("915").unwrap().zones.contains(&America::Denver));
        assert!(lookup("906").unwrap().zones.contains(&America::Chicago));
        assert!(lookup("208").unwrap().zones.len() > 1);
    }

    #[test]
    fn regions_of_the_states_with_calling_rules() {
        // The state rules table is keyed by these regions.
        for (code, region) in [
            ("305", "FL"),
            ("850", "FL"),
            ("405", "OK"),
            ("410", "MD"),
            ("301", "MD"),
            ("512", "TX"),
            ("214", "TX"),
            ("415", "CA"),
            ("212", "NY"),
        ] {
            assert_eq!(lookup(code).unwrap().region, region, "{code}");
        }
    }

    #[test]
    fn unknown_or_malformed_codes_are_none() {
        for code in ["999", "abc", "", "800", "888", "900", "500", "41", "4155"] {
            assert_eq!(lookup(code), None, "{code:?}");
        }
    }

    #[test]
    fn malformed_lines_are_errors_not_panics() {
        for line in [
            "415,CA",
            "415,CA,America/Los_Angeles,extra",
            "41a,CA,America/Los_Angeles",
            "115,CA,America/Los_Angeles",
            "415,California,America/Los_Angeles",
            "415,CA,Mars/Olympus_Mons",
            "415,CA,",
        ] {
            assert!(parse_line(line).is_err(), "{line:?}");
        }
    }
}
