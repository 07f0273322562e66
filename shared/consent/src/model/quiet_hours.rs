//! Quiet hours: the recipient's local sending window, and when it next opens.

use chrono::{
    DateTime, Datelike, Days, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;

use crate::model::area_codes;
use crate::model::phone::PhoneNumber;
use crate::model::state_rules::{self, RuleId, StateRule};
pub use crate::model::state_rules::{LEGAL_CLOSES_HOUR, LEGAL_OPENS_HOUR};

/// Hour the shortest state window closes (FTSA, OTSA, Maryland: 20:00): what a hand-built
/// window with impossible hours falls back to.
const SHORT_CLOSES_HOUR: u32 = 20;
/// Zone used when nothing else is known: the service's firms are US firms, and Eastern time is
/// where most of the US population is.
const FALLBACK_ZONE: Tz = chrono_tz::America::New_York;
/// Instants in standard and in daylight time (2026-01-15 and 2026-07-15, 00:00 UTC), to check
/// a narrowed window still opens.
const REFERENCE_INSTANTS: [i64; 2] = [1_768_435_200, 1_784_073_600];
/// How many local days ahead to look for the window to open; any real window opens within two.
const SEARCH_DAYS: u64 = 7;

/// The IANA time zone `name` names (`America/Chicago`), if any: the one parse of a zone that
/// a firm or a contact gives.
pub fn parse_time_zone(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}

/// The hours a recipient may receive solicitations, in their local time zone(s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendWindow {
    /// The recipient's zone(s); an area code spanning zones lists each, and the window must be
    /// open in all of them.
    pub zones: Vec<chrono_tz::Tz>,
    /// First hour allowed on any day (8; a state's rule may open later on some days).
    pub opens_hour: u32,
    /// Hour at which sending stops on any day (21, or 20 where a state's rule says so).
    pub closes_hour: u32,
    /// The calling rules the recipient meets, most specific first (empty in a hand-built
    /// window: then only the hours above apply). Each narrows the hours per weekday from its
    /// effective date.
    pub rules: Vec<&'static StateRule>,
}

impl SendWindow {
    /// The window for a recipient whose own state is not known: see [`Self::for_resident`].
    pub fn for_recipient(
        phone: &PhoneNumber,
        contact_zone: Option<chrono_tz::Tz>,
        firm_zone: Option<chrono_tz::Tz>,
    ) -> Self {
        Self::for_resident(phone, None, contact_zone, firm_zone)
    }

    /// The window for a recipient: the contact's own zone if known, else the area code's;
    /// numbers outside North America use the firm's zone. The rules are those of the number's
    /// state and of the contact's own state both (the stricter wins), then the federal default:
    /// a state's law follows its numbers and its residents wherever they are.
    pub fn for_resident(
        phone: &PhoneNumber,
        contact_state: Option<&str>,
        contact_zone: Option<chrono_tz::Tz>,
        firm_zone: Option<chrono_tz::Tz>,
    ) -> Self {
        let area = phone.nanp_area_code().and_then(area_codes::lookup);
        let zones = match (contact_zone, &area, firm_zone) {
            (Some(zone), _, _) => vec![zone],
            (None, Some(info), _) => info.zones.clone(),
            (None, None, Some(zone)) => vec![zone],
            (None, None, None) => vec![FALLBACK_ZONE],
        };
        let rules = state_rules::for_recipient(area.map(|info| info.region), contact_state);
        // Every day's hours fall within each rule's widest hours, so their overlap bounds
        // every day; the rules narrow single days (Texas's Sunday) as they are checked.
        let (opens_hour, closes_hour) = rules.iter().filter_map(|r| r.widest_hours()).fold(
            (LEGAL_OPENS_HOUR, LEGAL_CLOSES_HOUR),
            |(opens, closes), hours| (opens.max(hours.opens_hour), closes.min(hours.closes_hour)),
        );
        Self {
            zones,
            opens_hour,
            closes_hour,
            rules,
        }
    }

    /// The rule that keeps the window closed at `now` (`None` when it is open): the first of
    /// the recipient's rules closed then, else the firm's own hours.
    pub fn closed_by(&self, now: DateTime<Utc>) -> Option<RuleId> {
        if self.is_open(now) {
            return None;
        }
        let zones = self.effective_zones();
        let closing_rule = self.rules.iter().find(|rule| {
            zones.iter().any(|zone| {
                let local = now.with_timezone(zone);
                rule.in_force_on(local.date_naive())
                    && !rule
                        .hours_on(local.weekday())
                        .is_some_and(|hours| hours.contains(local.hour()))
            })
        });
        let federal_closed = zones.iter().any(|zone| {
            let hour = now.with_timezone(zone).hour();
            !(LEGAL_OPENS_HOUR..LEGAL_CLOSES_HOUR).contains(&hour)
        });
        Some(match closing_rule {
            Some(rule) => rule.id,
            None if federal_closed => RuleId::Tcpa,
            None => RuleId::FirmSendWindow,
        })
    }

    /// The statutory cap on marketing the recipient's rules set at `now`, and the rule setting
    /// it: the lowest, where several do.
    pub fn statutory_cap(&self, now: DateTime<Utc>) -> Option<(u32, RuleId)> {
        self.rules
            .iter()
            .filter(|rule| rule.in_force_on(now.date_naive()))
            .filter_map(|rule| rule.daily_cap.map(|cap| (cap, rule.id)))
            .min_by_key(|(cap, _)| *cap)
    }

    /// This window further limited to `[opens_hour, closes_hour)` (e.g. a firm's own hours).
    ///
    /// It can only narrow: invalid hours, hours that leave no overlap with this window, and hours
    /// too short to be open in all of a multi-zone recipient's zones at once are ignored, so a
    /// firm setting can neither open a window the law keeps closed nor hold a message forever.
    pub fn narrowed(self, opens_hour: u32, closes_hour: u32) -> Self {
        let opens = self.opens_hour.max(opens_hour);
        let closes = self.closes_hour.min(closes_hour);
        if opens_hour >= closes_hour || closes_hour > 24 || opens >= closes {
            return self;
        }
        let narrowed = Self {
            opens_hour: opens,
            closes_hour: closes,
            zones: self.zones.clone(),
            rules: self.rules.clone(),
        };
        // Zones hours apart (867 spans Toronto to Vancouver) share no time in a short window;
        // check standard and daylight time.
        let shared = REFERENCE_INSTANTS
            .iter()
            .filter_map(|secs| DateTime::from_timestamp(*secs, 0))
            .all(|at| {
                narrowed
                    .next_open(at)
                    .is_none_or(|open| narrowed.is_open(open))
            });
        if shared { narrowed } else { self }
    }

    /// Whether sending is allowed at `now`: in every zone, local time is in `[opens, closes)`
    /// and inside each rule's hours for that weekday.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.effective_zones().iter().all(|zone| {
            let local = now.with_timezone(zone);
            self.day_hours(local.date_naive())
                .is_some_and(|(opens, closes)| (opens..closes).contains(&local.hour()))
        })
    }

    /// The hours of local `day`: the window's own narrowed by each rule in force that day;
    /// `None` when nothing may be sent that day.
    fn day_hours(&self, day: NaiveDate) -> Option<(u32, u32)> {
        let start = Some(self.effective_hours());
        let (opens, closes) = self
            .rules
            .iter()
            .filter(|rule| rule.in_force_on(day))
            .fold(start, |hours, rule| {
                let (opens, closes) = hours?;
                let day_hours = rule.hours_on(day.weekday())?;
                Some((
                    opens.max(day_hours.opens_hour),
                    closes.min(day_hours.closes_hour),
                ))
            })?;
        (opens < closes).then_some((opens, closes))
    }

    /// `None` when sending is allowed at `now`; otherwise the next instant it is.
    pub fn next_open(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.is_open(now) {
            return None;
        }
        // The window opens in all zones at once exactly when the last of them opens, so the
        // answer is the earliest opening instant, in any zone, at which all are open.
        let mut candidates: Vec<DateTime<Utc>> = self
            .effective_zones()
            .iter()
            .flat_map(|zone| self.openings(*zone, now))
            .filter(|instant| *instant >= now)
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let common = candidates
            .iter()
            .copied()
            .find(|instant| self.is_open(*instant));
        // A window whose zones never share an hour must still defer rather than send now:
        // fall back to the next opening in any zone, and failing that to a day later.
        common
            .or_else(|| candidates.first().copied())
            .or_else(|| now.checked_add_signed(Duration::days(1)))
    }

    /// The hours to check: a hand-built window with impossible hours reads as the shortest
    /// legal window, so it neither sends at any hour nor never opens.
    fn effective_hours(&self) -> (u32, u32) {
        if self.opens_hour < self.closes_hour && self.closes_hour <= 24 {
            (self.opens_hour, self.closes_hour)
        } else {
            (LEGAL_OPENS_HOUR, SHORT_CLOSES_HOUR)
        }
    }

    /// The zones to check: an empty list (only possible when built by hand) means the fallback
    /// zone, so an empty window never reads as "open everywhere".
    fn effective_zones(&self) -> Vec<Tz> {
        if self.zones.is_empty() {
            vec![FALLBACK_ZONE]
        } else {
            self.zones.clone()
        }
    }

    /// The instants `zone`'s window opens, from the local day before `now` to `SEARCH_DAYS`
    /// after it.
    fn openings(&self, zone: Tz, now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let today = now.with_timezone(&zone).date_naive();
        let Some(first) = today.checked_sub_days(Days::new(1)) else {
            return Vec::new();
        };
        (0..=SEARCH_DAYS + 1)
            .filter_map(|offset| first.checked_add_days(Days::new(offset)))
            .filter_map(|day| self.day_hours(day).map(|(opens, _)| (day, opens)))
            .flat_map(|(day, opens)| local_opening(zone, day, opens))
            .collect()
    }
}

/// When local time in `zone` first reaches `hour`:00 on `day`: both instants if a fall-back
/// makes that time occur twice, the end of the gap if a spring-forward skips it.
fn local_opening(zone: Tz, day: NaiveDate, hour: u32) -> Vec<DateTime<Utc>> {
    let Some(start) = NaiveTime::from_hms_opt(hour, 0, 0).map(|time| day.and_time(time)) else {
        return Vec::new();
    };
    // Gaps last an hour or so (a whole day at worst), so stepping a minute at a time within a
    // day always finds the first existing local time.
    for minutes in 0..24 * 60 {
        let local = start + Duration::minutes(minutes);
        let found = match zone.from_local_datetime(&local) {
            LocalResult::Single(at) => vec![at],
            LocalResult::Ambiguous(first, second) => vec![first, second],
            LocalResult::None => continue,
        };
        return found.iter().map(|at| at.with_timezone(&Utc)).collect();
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use chrono_tz::America;
    use proptest::prelude::*;

    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn window(number: &str) -> SendWindow {
        SendWindow::for_recipient(&PhoneNumber::parse(number).unwrap(), None, None)
    }

    #[test]
    fn california_number_before_eight_is_deferred_to_eight_pacific() {
        let sf = window("+14155550134");
        assert_eq!(sf.zones, vec![America::Los_Angeles]);
        assert_eq!((sf.opens_hour, sf.closes_hour), (8, 21));
        assert_eq!(
            sf.next_open(utc("2026-12-01T14:00:00Z")),
            Some(utc("2026-12-01T16:00:00Z"))
        );
        assert_eq!(sf.next_open(utc("2026-12-01T20:00:00Z")), None);
    }

    #[test]
    fn closing_hour_is_exclusive_and_opening_inclusive() {
        let sf = window("+14155550134");
        assert!(sf.is_open(utc("2026-12-01T16:00:00Z"))); // 08:00 PT
        assert!(sf.is_open(utc("2026-12-02T04:59:59Z"))); // 20:59:59 PT
        assert!(!sf.is_open(utc("2026-12-02T05:00:00Z"))); // 21:00 PT
        assert_eq!(
            sf.next_open(utc("2026-12-02T05:00:00Z")),
            Some(utc("2026-12-02T16:00:00Z"))
        );
    }

    #[test]
    fn florida_closes_at_eight_pm_and_defers_to_next_morning() {
        let miami = window("+13055550134");
        assert_eq!(miami.closes_hour, 20);
        // 20:30 EST on 1 Dec → 08:00 EST on 2 Dec.
        assert_eq!(
            miami.next_open(utc("2026-12-02T01:30:00Z")),
            Some(utc("2026-12-02T13:00:00Z"))
        );
    }

    #[test]
    fn oklahoma_closes_at_eight_pm() {
        let okc = window("+14055550134");
        assert_eq!(okc.closes_hour, 20);
        assert_eq!(okc.next_open(utc("2026-12-02T01:59:00Z")), None); // 19:59 CST
        assert_eq!(
            okc.next_open(utc("2026-12-02T02:00:00Z")), // 20:00 CST
            Some(utc("2026-12-02T14:00:00Z"))
        );
    }

    #[test]
    fn contact_zone_overrides_area_code_but_not_the_state_window() {
        let phone = PhoneNumber::parse("+14155550134").unwrap();
        let sf_in_ny = SendWindow::for_recipient(&phone, Some(America::New_York), None);
        assert_eq!(sf_in_ny.zones, vec![America::New_York]);
        assert_eq!(sf_in_ny.closes_hour, 21);
        // 07:00 EST: closed, and it opens at 08:00 EST whatever the time in California.
        assert_eq!(
            sf_in_ny.next_open(utc("2026-12-01T12:00:00Z")),
            Some(utc("2026-12-01T13:00:00Z"))
        );

        let miami = PhoneNumber::parse("+13055550134").unwrap();
        let miami_in_la = SendWindow::for_recipient(&miami, Some(America::Los_Angeles), None);
        assert_eq!(miami_in_la.zones, vec![America::Los_Angeles]);
        assert_eq!(miami_in_la.closes_hour, 20);
    }

    #[test]
    fn numbers_outside_north_america_use_the_firm_zone_then_eastern() {
        let uk = PhoneNumber::parse("+442079460958").unwrap();
        let with_firm = SendWindow::for_recipient(&uk, None, Some(America::Chicago));
        assert_eq!(with_firm.zones, vec![America::Chicago]);
        assert_eq!(with_firm.closes_hour, 21);
        let without = SendWindow::for_recipient(&uk, None, None);
        assert_eq!(without.zones, vec![America::New_York]);
    }

    #[test]
    fn multi_zone_code_opens_only_when_all_zones_are_open() {
        // 850 spans Central and Eastern; Florida closes at 20:00.
        let panhandle = window("+18505550134");
        assert!(panhandle.zones.contains(&America::Chicago));
        assert!(panhandle.zones.contains(&America::New_York));
        // 08:30 ET / 07:30 CT: Central still closed, opens at 08:00 CT.
        assert_eq!(
            panhandle.next_open(utc("2026-12-01T13:30:00Z")),
            Some(utc("2026-12-01T14:00:00Z"))
        );
        // 20:30 ET / 19:30 CT: Eastern closed; next 08:00 CT (09:00 ET) tomorrow.
        assert_eq!(
            panhandle.next_open(utc("2026-12-02T01:30:00Z")),
            Some(utc("2026-12-02T14:00:00Z"))
        );
        assert_eq!(panhandle.next_open(utc("2026-12-01T15:00:00Z")), None);
    }

    #[test]
    fn dst_spring_forward_day_gives_a_valid_instant() {
        // 2026-03-08 01:30 EST; clocks jump 02:00 → 03:00; opens 08:00 EDT = 12:00Z.
        let nyc = window("+12125550134");
        let now = utc("2026-03-08T06:30:00Z");
        assert_eq!(nyc.next_open(now), Some(utc("2026-03-08T12:00:00Z")));

        // An opening hour inside the gap opens when the gap ends (03:00 EDT = 07:00Z).
        let in_gap = SendWindow {
            zones: vec![America::New_York],
            opens_hour: 2,
            closes_hour: 21,
            rules: Vec::new(),
        };
        assert_eq!(in_gap.next_open(now), Some(utc("2026-03-08T07:00:00Z")));
    }

    #[test]
    fn dst_fall_back_day_opens_at_the_first_occurrence() {
        // 2026-11-01 01:00 occurs at 05:00Z (EDT) and again at 06:00Z (EST).
        let in_overlap = SendWindow {
            zones: vec![America::New_York],
            opens_hour: 1,
            closes_hour: 21,
            rules: Vec::new(),
        };
        assert_eq!(
            in_overlap.next_open(utc("2026-11-01T04:30:00Z")),
            Some(utc("2026-11-01T05:00:00Z"))
        );
    }

    #[test]
    fn narrowed_only_narrows() {
        let sf = window("+14155550134");
        let firm = sf.clone().narrowed(9, 17);
        assert_eq!((firm.opens_hour, firm.closes_hour), (9, 17));
        let wider = sf.clone().narrowed(6, 23);
        assert_eq!((wider.opens_hour, wider.closes_hour), (8, 21));
        for (opens, closes) in [(17, 9), (9, 9), (9, 25), (22, 24)] {
            assert_eq!(sf.clone().narrowed(opens, closes), sf, "{opens}-{closes}");
        }
        // 867 spans Toronto to Vancouver, three hours apart: 8–9 is never open in all at once.
        let north = window("+18675550134");
        assert_eq!(north.clone().narrowed(8, 9), north);
        let narrowed = north.clone().narrowed(10, 20);
        assert_eq!((narrowed.opens_hour, narrowed.closes_hour), (10, 20));
    }

    #[test]
    fn impossible_hand_built_windows_use_the_short_legal_window() {
        for (opens_hour, closes_hour) in [(21, 8), (24, 25), (9, 9)] {
            let odd = SendWindow {
                zones: Vec::new(),
                opens_hour,
                closes_hour,
                rules: Vec::new(),
            };
            // 07:00 EST: closed, opens 08:00 EST; 20:30 EST closed.
            assert_eq!(
                odd.next_open(utc("2026-12-01T12:00:00Z")),
                Some(utc("2026-12-01T13:00:00Z"))
            );
            assert!(!odd.is_open(utc("2026-12-02T01:30:00Z")));
        }
    }

    #[test]
    fn every_area_code_has_a_common_window_in_winter_and_summer() {
        for code in 200..=999 {
            if area_codes::lookup(&code.to_string()).is_none() {
                continue;
            }
            let Ok(phone) = PhoneNumber::parse(&format!("+1{code}5550134")) else {
                continue;
            };
            let window = SendWindow::for_recipient(&phone, None, None);
            for now in ["2026-01-15T00:00:00Z", "2026-07-15T00:00:00Z"] {
                let now = utc(now);
                let open = window.next_open(now).unwrap_or(now);
                assert!(window.is_open(open), "{code} never opens after {now}");
            }
        }
    }

    fn sample_window() -> impl Strategy<Value = SendWindow> {
        let numbers = [
            "+14155550134",
            "+12125550134",
            "+13055550134",
            "+14055550134",
            "+18505550134",
            "+12085550134",
            "+19075550134",
            "+18675550134",
            "+17095550134",
            "+442079460958",
        ];
        (
            proptest::sample::select(numbers.to_vec()),
            proptest::option::of(proptest::sample::select(vec![
                America::St_Johns,
                America::Phoenix,
                chrono_tz::Asia::Kolkata,
                chrono_tz::Australia::Lord_Howe,
            ])),
            0u32..=25,
            0u32..=25,
        )
            .prop_map(|(number, zone, opens, closes)| {
                let phone = PhoneNumber::parse(number).unwrap();
                SendWindow::for_recipient(&phone, zone, None).narrowed(opens, closes)
            })
    }

    proptest! {
        #[test]
        fn next_open_is_soon_and_open(
            window in sample_window(),
            secs in utc("2026-01-01T00:00:00Z").timestamp()..utc("2029-01-01T00:00:00Z").timestamp(),
        ) {
            let now = DateTime::from_timestamp(secs, 0).unwrap();
            match window.next_open(now) {
                None => prop_assert!(window.is_open(now)),
                Some(at) => {
                    prop_assert!(!window.is_open(now));
                    prop_assert!(at >= now);
                    prop_assert!(at - now < Duration::hours(48));
                    prop_assert!(window.is_open(at));
                    // It is the first open instant, not merely an open one.
                    prop_assert!(!window.is_open(at - Duration::seconds(1)));
                }
            }
        }
    }
}
