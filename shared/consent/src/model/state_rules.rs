//! State telephone-solicitation rules as data (DESIGN §3): each row's statute, effective date,
//! calling hours per weekday and cap on marketing. The gate reads them through
//! [`SendWindow`](crate::model::quiet_hours::SendWindow); nothing else names a state.

use chrono::{NaiveDate, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The two-letter codes of the US states, DC and the territories with area codes: what a
/// contact's `state` may be.
pub const US_STATES: [&str; 56] = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY", "PR", "VI", "GU", "AS", "MP",
];

/// A contact's state as the CRM wrote it, upper-cased, if it is one of [`US_STATES`].
pub fn parse_us_state(text: &str) -> Option<&'static str> {
    let code = text.trim().to_ascii_uppercase();
    US_STATES.into_iter().find(|state| *state == code)
}

/// First hour solicitations are allowed under the TCPA (8:00).
pub const LEGAL_OPENS_HOUR: u32 = 8;
/// Hour solicitations stop under the TCPA (21:00).
pub const LEGAL_CLOSES_HOUR: u32 = 21;

/// The rule that made a gate decision: a row of the table, or one of the firm's own settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleId {
    /// The federal default (TCPA, 47 CFR 64.1200(c)(1)).
    Tcpa,
    /// Florida Telephone Solicitation Act.
    Florida,
    /// Oklahoma Telephone Solicitation Act.
    Oklahoma,
    /// Maryland Stop the Spam Calls Act.
    Maryland,
    /// Texas telephone solicitation hours, extended to texts by SB 140.
    Texas,
    /// Connecticut telephonic sales calls, texts included by Public Act 23-98.
    Connecticut,
    /// The firm's own sending hours.
    FirmSendWindow,
    /// The firm's own daily cap.
    FirmDailyCap,
}

impl RuleId {
    /// Every rule id.
    pub const ALL: [Self; 8] = [
        Self::Tcpa,
        Self::Florida,
        Self::Oklahoma,
        Self::Maryland,
        Self::Texas,
        Self::Connecticut,
        Self::FirmSendWindow,
        Self::FirmDailyCap,
    ];

    /// The wire name, as the audit trail records it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcpa => "tcpa_64_1200",
            Self::Florida => "fl_501_616",
            Self::Oklahoma => "ok_775c_4",
            Self::Maryland => "md_14_4502",
            Self::Texas => "tx_301_051",
            Self::Connecticut => "ct_42_288a",
            Self::FirmSendWindow => "firm_send_window",
            Self::FirmDailyCap => "firm_daily_cap",
        }
    }

    /// The id a wire name stands for.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|id| id.as_str() == name)
    }
}

// Written through `as_str`, so each wire name is spelled once.
impl Serialize for RuleId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::parse(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown rule {name:?}")))
    }
}

/// Local hours of one day, `[opens_hour, closes_hour)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayHours {
    /// First hour allowed.
    pub opens_hour: u32,
    /// Hour at which sending stops.
    pub closes_hour: u32,
}

impl DayHours {
    /// Whether `hour` is inside these hours.
    pub fn contains(self, hour: u32) -> bool {
        self.opens_hour <= hour && hour < self.closes_hour
    }
}

/// One row: what a statute allows, and from when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRule {
    /// The id decisions name.
    pub id: RuleId,
    /// Two-letter state; `None` for the federal default, which applies everywhere.
    pub state: Option<&'static str>,
    /// The statute's citation, as a reader looks it up.
    pub statute: &'static str,
    /// The first day the rule applies (recipient's local date).
    pub effective: NaiveDate,
    /// Hours per weekday, Monday first; `None`: no solicitation that day.
    pub week: [Option<DayHours>; 7],
    /// Marketing messages a number may receive in 24 hours; `None`: the firm's setting.
    pub daily_cap: Option<u32>,
    /// Where the figures come from.
    pub source: &'static str,
}

impl StateRule {
    /// The hours on `day`; `None` when the rule allows no solicitation that day.
    pub fn hours_on(&self, day: Weekday) -> Option<DayHours> {
        self.week[day.num_days_from_monday() as usize]
    }

    /// Whether the rule is in force on `date`.
    pub fn in_force_on(&self, date: NaiveDate) -> bool {
        date >= self.effective
    }

    /// The loosest hours of any day: a bound every day's hours fall within.
    pub fn widest_hours(&self) -> Option<DayHours> {
        let days = self.week.iter().flatten();
        let opens_hour = days.clone().map(|h| h.opens_hour).min()?;
        let closes_hour = days.map(|h| h.closes_hour).max()?;
        Some(DayHours {
            opens_hour,
            closes_hour,
        })
    }
}

/// One day's hours, as the table writes them.
const fn hours(opens_hour: u32, closes_hour: u32) -> Option<DayHours> {
    Some(DayHours {
        opens_hour,
        closes_hour,
    })
}

/// The same hours every day of the week.
const fn every_day(opens_hour: u32, closes_hour: u32) -> [Option<DayHours>; 7] {
    [hours(opens_hour, closes_hour); 7]
}

/// A date written in the table (checked at compile time).
const fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => panic!("a date in the table is not a date"),
    }
}

/// The federal default: every number, whatever its state.
pub const FEDERAL_DEFAULT: StateRule = StateRule {
    id: RuleId::Tcpa,
    state: None,
    statute: "47 U.S.C. 227; 47 CFR 64.1200(c)(1)",
    effective: date(1992, 12, 20),
    week: every_day(LEGAL_OPENS_HOUR, LEGAL_CLOSES_HOUR),
    daily_cap: None,
    source: "FCC TCPA rules: no solicitation before 8:00 or after 21:00 at the called party's location",
};

/// The states whose rules are stricter than the federal default and clearly cover texts.
pub const STATE_RULES: [StateRule; 5] = [
    StateRule {
        id: RuleId::Florida,
        state: Some("FL"),
        statute: "Fla. Stat. 501.616(6) (FTSA, as amended by SB 1120)",
        effective: date(2021, 7, 1),
        week: every_day(8, 20),
        daily_cap: Some(3),
        source: "8:00-20:00 local; at most 3 calls or texts per 24 h on the same subject",
    },
    StateRule {
        id: RuleId::Oklahoma,
        state: Some("OK"),
        statute: "15 O.S. 775C.4 (OTSA, HB 3168)",
        effective: date(2022, 11, 1),
        week: every_day(8, 20),
        daily_cap: Some(3),
        source: "8:00-20:00 local; at most 3 calls or texts per 24 h on the same subject",
    },
    StateRule {
        id: RuleId::Maryland,
        state: Some("MD"),
        statute: "Md. Code, Com. Law 14-4502 (Stop the Spam Calls Act of 2023, SB 90)",
        effective: date(2024, 1, 1),
        week: every_day(8, 20),
        daily_cap: Some(3),
        source: "8:00-20:00 local; at most 3 calls or texts per 24 h on the same subject",
    },
    StateRule {
        id: RuleId::Texas,
        state: Some("TX"),
        statute: "Tex. Bus. & Com. Code 301.051, applied to texts by SB 140 (302.001; 305.053)",
        effective: date(2025, 9, 1),
        week: [
            hours(9, 21),
            hours(9, 21),
            hours(9, 21),
            hours(9, 21),
            hours(9, 21),
            hours(9, 21),
            hours(12, 21),
        ],
        daily_cap: None,
        source: "Mon-Sat 9:00-21:00, Sun 12:00-21:00 local; SB 140 made texts telephone solicitations",
    },
    StateRule {
        id: RuleId::Connecticut,
        state: Some("CT"),
        statute: "Conn. Gen. Stat. 42-288a (as amended by Public Act 23-98, SB 1058)",
        effective: date(2023, 10, 1),
        week: every_day(9, 20),
        daily_cap: None,
        source: "9:00-20:00 local; a telephonic sales call includes a text or media message, and a Connecticut area code is presumed a Connecticut resident",
    },
];

/// The row for a two-letter state, if it has one.
pub fn for_state(state: &str) -> Option<&'static StateRule> {
    STATE_RULES.iter().find(|rule| {
        rule.state
            .is_some_and(|s| s.eq_ignore_ascii_case(state.trim()))
    })
}

/// The rules a recipient meets: the rows of the number's state and of the contact's own state
/// (both apply, so the stricter wins), then the federal default. The order is the order in
/// which a decision names them: the most specific first.
pub fn for_recipient(
    area_state: Option<&str>,
    contact_state: Option<&str>,
) -> Vec<&'static StateRule> {
    let mut rules: Vec<&'static StateRule> = Vec::with_capacity(3);
    for rule in [area_state, contact_state]
        .into_iter()
        .flatten()
        .filter_map(for_state)
    {
        if !rules.iter().any(|known| known.id == rule.id) {
            rules.push(rule);
        }
    }
    rules.push(&FEDERAL_DEFAULT);
    rules
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::caps::STATUTORY_DAILY_CAP;

    fn all_rows() -> impl Iterator<Item = &'static StateRule> {
        std::iter::once(&FEDERAL_DEFAULT).chain(STATE_RULES.iter())
    }

    #[test]
    fn every_row_is_complete_and_no_looser_than_federal() {
        for rule in all_rows() {
            assert!(
                !rule.statute.is_empty() && !rule.source.is_empty(),
                "{rule:?}"
            );
            for hours in rule.week.iter().flatten() {
                assert!(hours.opens_hour >= LEGAL_OPENS_HOUR, "{rule:?}");
                assert!(hours.closes_hour <= LEGAL_CLOSES_HOUR, "{rule:?}");
                assert!(hours.opens_hour < hours.closes_hour, "{rule:?}");
            }
            // The record keeps only as many marketing sends as the highest statutory cap.
            assert!(rule.daily_cap.is_none_or(|cap| cap <= STATUTORY_DAILY_CAP));
        }
    }

    #[test]
    fn one_row_per_state_and_one_id_per_row() {
        let states: Vec<_> = STATE_RULES.iter().filter_map(|r| r.state).collect();
        let mut unique = states.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(states.len(), unique.len());
        let mut ids: Vec<_> = all_rows().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), STATE_RULES.len() + 1);
    }

    #[test]
    fn the_figures_of_design_section_three() {
        let hours = |state: &str, day| for_state(state).and_then(|r| r.hours_on(day));
        let eight_to_eight = Some(DayHours {
            opens_hour: 8,
            closes_hour: 20,
        });
        for state in ["FL", "OK", "MD"] {
            assert_eq!(for_state(state).and_then(|r| r.daily_cap), Some(3));
            assert_eq!(hours(state, Weekday::Sun), eight_to_eight);
            assert_eq!(hours(state, Weekday::Wed), eight_to_eight);
        }
        assert_eq!(hours("tx", Weekday::Sat).map(|h| h.opens_hour), Some(9));
        assert_eq!(hours("TX", Weekday::Sun).map(|h| h.opens_hour), Some(12));
        assert_eq!(for_state("TX").and_then(|r| r.daily_cap), None);
        assert_eq!(for_state("MD").map(|r| r.effective), Some(date(2024, 1, 1)));
        assert_eq!(for_state("TX").map(|r| r.effective), Some(date(2025, 9, 1)));
        assert_eq!(for_state("CA"), None);
        let nine_to_eight = Some(DayHours {
            opens_hour: 9,
            closes_hour: 20,
        });
        assert_eq!(hours("CT", Weekday::Sun), nine_to_eight);
        assert_eq!(hours("CT", Weekday::Mon), nine_to_eight);
        assert_eq!(for_state("CT").and_then(|r| r.daily_cap), None);
        assert_eq!(
            for_state("CT").map(|r| r.effective),
            Some(date(2023, 10, 1))
        );
        assert_eq!(
            FEDERAL_DEFAULT.widest_hours().map(|h| h.closes_hour),
            Some(21)
        );
    }

    #[test]
    fn a_recipient_meets_both_states_then_the_federal_default() {
        let ids = |area, contact| -> Vec<_> {
            for_recipient(area, contact).iter().map(|r| r.id).collect()
        };
        assert_eq!(ids(Some("CA"), Some("FL")), [RuleId::Florida, RuleId::Tcpa]);
        assert_eq!(
            ids(Some("TX"), Some("MD")),
            [RuleId::Texas, RuleId::Maryland, RuleId::Tcpa]
        );
        assert_eq!(ids(Some("FL"), Some("FL")), [RuleId::Florida, RuleId::Tcpa]);
        assert_eq!(ids(None, None), [RuleId::Tcpa]);
    }

    #[test]
    fn rule_ids_round_trip_through_their_wire_names() {
        for id in RuleId::ALL {
            let json = serde_json::to_value(id).unwrap();
            assert_eq!(json, serde_json::json!(id.as_str()));
            assert_eq!(serde_json::from_value::<RuleId>(json).unwrap(), id);
        }
        assert!(serde_json::from_value::<RuleId>(serde_json::json!("nope")).is_err());
    }
}
