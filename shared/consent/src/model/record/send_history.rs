//! The firm messages a number received in the last day, kept just well enough to answer every
//! cap and small whatever is sent.
//!
//! The newest [`EXACT_SENDS`] are kept to the nanosecond. Older ones are counted by the hour they
//! fell in and taken to have been sent at the end of that hour. Taking a send as later than it
//! was only ever counts it longer: a cap answered from the hourly counts may hold a message up
//! to an hour longer than the exact times would, never shorter. The statutory caps count
//! marketing sends only and are the ones every marketing message meets, so the newest
//! [`STATUTORY_DAILY_CAP`] older marketing sends are kept apart, to the second (rounded up, so
//! again never answered more freely). Only what a cap can ask about is kept: the hours holding
//! the newest [`MAX_DAILY_CAP`] sends and those marketing sends. So the history stays about 200
//! bytes at worst (a record under 1 KB, DESIGN §5).

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::stored_time::StoredInstant;
use crate::model::caps::{CAP_WINDOW, MAX_DAILY_CAP, STATUTORY_DAILY_CAP};

/// How many of the newest sends are kept to the nanosecond (the usual history holds no more, so
/// its caps are answered exactly).
pub const EXACT_SENDS: usize = 3;

/// The span of one count of older sends.
const HOUR: TimeDelta = TimeDelta::hours(1);

/// A firm message counted toward frequency caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentSend {
    /// When it was allowed.
    pub at: DateTime<Utc>,
    /// Whether it was marketing (the statutory caps count only those).
    pub marketing: bool,
}

/// The firm messages of the last 24 hours (replies and the one opt-in request are not counted).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "StoredHistory", into = "CompactHistory")]
pub struct SendHistory {
    /// The newest sends, oldest first.
    exact: Vec<RecentSend>,
    /// The hour (since the epoch) of the first of `all`.
    first_hour: i64,
    /// Older sends, hour by hour from `first_hour`, up to [`MAX_DAILY_CAP`] each.
    all: Vec<u32>,
    /// The newest older marketing sends, oldest first, rounded up to the second.
    marketing: Vec<DateTime<Utc>>,
}

/// Some sends taken to have happened at one moment.
#[derive(Debug, Clone, Copy)]
struct Tally {
    at: DateTime<Utc>,
    all: u32,
    marketing: u32,
}

impl SendHistory {
    /// Whether nothing is counted.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.all.is_empty()
    }

    /// Counts a firm message sent at `at`, forgetting what left the day before it.
    pub fn count(&mut self, at: DateTime<Utc>, marketing: bool) {
        let since = at - CAP_WINDOW;
        self.exact.retain(|s| s.at > since);
        let place = self.exact.partition_point(|s| s.at <= at);
        self.exact.insert(place, RecentSend { at, marketing });
        while self.exact.len() > EXACT_SENDS {
            let oldest = self.exact.remove(0);
            self.count_in_hour(oldest);
        }
        self.forget_hours_before(since);
    }

    /// Gives back the count of a message allowed at `at` that the provider refused. Once it is
    /// only in an hour's count (three newer sends came in between) it stays counted: that
    /// count may stand for sends already forgotten, so lowering it could count too few.
    pub fn uncount(&mut self, at: DateTime<Utc>) {
        if let Some(index) = self.exact.iter().rposition(|s| s.at == at) {
            self.exact.remove(index);
        }
    }

    /// Firm messages counted in the 24 hours before `now` (marketing ones only, if asked). Past
    /// the highest cap of each kind the answer is a floor: older sends are forgotten.
    pub fn within_day(&self, now: DateTime<Utc>, marketing_only: bool) -> usize {
        self.counted(now, marketing_only)
            .map(|(_, count)| count as usize)
            .sum()
    }

    /// When a cap of `cap` firm messages a day (marketing ones only, if asked) has room again
    /// for one more, if it has none at `now`: the moment the `cap`-th newest counted send
    /// leaves the day. `None` when there is room at `now`. A cap of 0 never has room.
    pub fn cap_frees_at(
        &self,
        now: DateTime<Utc>,
        cap: usize,
        marketing_only: bool,
    ) -> Option<DateTime<Utc>> {
        if cap == 0 {
            return Some(DateTime::<Utc>::MAX_UTC);
        }
        let mut counted: Vec<(DateTime<Utc>, u32)> = self.counted(now, marketing_only).collect();
        counted.sort_unstable_by_key(|(at, _)| std::cmp::Reverse(*at));
        let mut newer = 0usize;
        for (at, count) in counted {
            newer += count as usize;
            if newer >= cap {
                return Some(at + CAP_WINDOW);
            }
        }
        None
    }

    /// The moments counted at `now` with how many sends (of the kind asked) each stands for.
    fn counted(
        &self,
        now: DateTime<Utc>,
        marketing_only: bool,
    ) -> impl Iterator<Item = (DateTime<Utc>, u32)> + '_ {
        let since = now - CAP_WINDOW;
        self.tallies()
            .filter(move |t| t.at > since)
            .map(move |t| (t.at, if marketing_only { t.marketing } else { t.all }))
            .filter(|(_, count)| *count > 0)
    }

    /// Every counted moment: each exact send, and each hour's count at the hour's end.
    fn tallies(&self) -> impl Iterator<Item = Tally> + '_ {
        let exact = self.exact.iter().map(|s| Tally {
            at: s.at,
            all: 1,
            marketing: u32::from(s.marketing),
        });
        let hourly = self.all.iter().enumerate().map(|(index, all)| Tally {
            at: hour_end(self.first_hour + index as i64),
            all: *all,
            marketing: 0,
        });
        let marketing = self.marketing.iter().map(|at| Tally {
            at: *at,
            all: 0,
            marketing: 1,
        });
        exact.chain(hourly).chain(marketing)
    }

    /// Adds a send no longer kept exactly to its hour's count (and a marketing one to the
    /// older marketing sends).
    fn count_in_hour(&mut self, send: RecentSend) {
        let hour = hour_of(send.at);
        if send.marketing {
            let at = second_after(send.at);
            let place = self.marketing.partition_point(|m| *m <= at);
            self.marketing.insert(place, at);
            let excess = self
                .marketing
                .len()
                .saturating_sub(STATUTORY_DAILY_CAP as usize);
            self.marketing.drain(..excess);
        }
        if self.all.is_empty() {
            self.first_hour = hour;
        }
        if hour < self.first_hour {
            let missing = usize::try_from(self.first_hour - hour).unwrap_or(usize::MAX);
            if missing > hours_in_window() {
                return; // far older than anything a cap asks about
            }
            self.all.splice(0..0, std::iter::repeat_n(0, missing));
            self.first_hour = hour;
        }
        let Ok(index) = usize::try_from(hour - self.first_hour) else {
            return;
        };
        if index >= self.all.len() {
            self.all.resize(index + 1, 0);
        }
        self.all[index] = (self.all[index] + 1).min(MAX_DAILY_CAP);
    }

    /// Drops the hours whose sends left the day before `since` ended, and the oldest hours once
    /// the newer sends alone reach the highest cap.
    fn forget_hours_before(&mut self, since: DateTime<Utc>) {
        self.marketing.retain(|at| *at > since);
        let gone = (0..self.all.len())
            .take_while(|index| hour_end(self.first_hour + *index as i64) <= since)
            .count();
        self.drop_oldest_hours(gone);
        let mut newer =
            self.exact.len() as u64 + self.all.iter().map(|c| u64::from(*c)).sum::<u64>();
        let mut beyond = 0;
        for count in &self.all {
            newer -= u64::from(*count);
            if newer < u64::from(MAX_DAILY_CAP) {
                break;
            }
            beyond += 1;
        }
        self.drop_oldest_hours(beyond);
        self.trim();
    }

    /// Forgets the `count` oldest hours.
    fn drop_oldest_hours(&mut self, count: usize) {
        self.all.drain(..count);
        self.first_hour += count as i64;
    }

    /// Drops empty hours at either end, so the stored form holds only hours with sends.
    fn trim(&mut self) {
        let leading = self.all.iter().take_while(|c| **c == 0).count();
        self.drop_oldest_hours(leading);
        let kept = self.all.iter().rposition(|c| *c > 0).map_or(0, |i| i + 1);
        self.all.truncate(kept);
        if self.all.is_empty() {
            self.first_hour = 0;
        }
    }
}

/// The hour since the epoch `at` falls in.
fn hour_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(HOUR.num_seconds())
}

/// `at` rounded up to the whole second.
fn second_after(at: DateTime<Utc>) -> DateTime<Utc> {
    let second = at.timestamp() + i64::from(at.timestamp_subsec_nanos() > 0);
    DateTime::from_timestamp(second, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The end of an hour since the epoch.
fn hour_end(hour: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(hour.saturating_add(1).saturating_mul(HOUR.num_seconds()), 0)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// How many hours one cap window spans.
fn hours_in_window() -> usize {
    usize::try_from(CAP_WINDOW.num_hours()).unwrap_or(usize::MAX) + 1
}

/// The history as stored: the newest sends as `[instant, 1 if marketing else 0]`, then the
/// hourly counts from hour `h` (since the epoch) in `a`, and the newest older marketing sends
/// in `m`, in seconds from the start of hour `h`.
#[derive(Serialize, Deserialize, Default)]
struct CompactHistory {
    #[serde(rename = "n", default, skip_serializing_if = "Vec::is_empty")]
    exact: Vec<(StoredInstant, u8)>,
    #[serde(rename = "h", default, skip_serializing_if = "is_zero")]
    first_hour: i64,
    #[serde(rename = "a", default, skip_serializing_if = "Vec::is_empty")]
    all: Vec<u32>,
    #[serde(rename = "m", default, skip_serializing_if = "Vec::is_empty")]
    marketing: Vec<i64>,
}

/// Either stored form: the compact one, or the list of every send that records kept before it.
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredHistory {
    Legacy(Vec<RecentSend>),
    Compact(CompactHistory),
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

impl From<SendHistory> for CompactHistory {
    fn from(history: SendHistory) -> Self {
        let base = match (history.all.is_empty(), history.marketing.first()) {
            (true, Some(at)) => hour_of(*at),
            _ => history.first_hour,
        };
        let start = base.saturating_mul(HOUR.num_seconds());
        Self {
            exact: history
                .exact
                .iter()
                .map(|s| (StoredInstant(s.at), u8::from(s.marketing)))
                .collect(),
            first_hour: base,
            all: history.all,
            marketing: history
                .marketing
                .iter()
                .map(|at| at.timestamp().saturating_sub(start))
                .collect(),
        }
    }
}

impl From<StoredHistory> for SendHistory {
    fn from(stored: StoredHistory) -> Self {
        match stored {
            StoredHistory::Compact(compact) => {
                let mut history = Self {
                    exact: compact
                        .exact
                        .into_iter()
                        .map(|(at, marketing)| RecentSend {
                            at: at.0,
                            marketing: marketing != 0,
                        })
                        .collect(),
                    first_hour: compact.first_hour,
                    all: compact.all,
                    marketing: compact
                        .marketing
                        .iter()
                        .filter_map(|offset| {
                            let start = compact.first_hour.saturating_mul(HOUR.num_seconds());
                            DateTime::from_timestamp(start.saturating_add(*offset), 0)
                        })
                        .collect(),
                };
                // A stored form is input: hold it to the shape the methods rely on.
                history.exact.sort_by_key(|s| s.at);
                history.marketing.sort_unstable();
                history
                    .all
                    .iter_mut()
                    .for_each(|c| *c = (*c).min(MAX_DAILY_CAP));
                history.trim();
                history
            }
            StoredHistory::Legacy(mut sends) => {
                sends.sort_by_key(|s| s.at);
                let mut history = Self::default();
                for send in sends {
                    history.count(send.at, send.marketing);
                }
                history
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(text: &str) -> DateTime<Utc> {
        text.parse().expect("an instant")
    }

    fn minutes(base: DateTime<Utc>, n: i64) -> DateTime<Utc> {
        base + TimeDelta::minutes(n)
    }

    #[test]
    fn the_newest_sends_answer_a_cap_to_the_nanosecond() {
        let mut history = SendHistory::default();
        let first = t("2026-12-05T10:15:00.000000001Z");
        history.count(first, true);
        history.count(first + TimeDelta::hours(1), true);
        history.count(first + TimeDelta::hours(2), true);
        let now = first + TimeDelta::hours(3);
        assert_eq!(history.within_day(now, true), 3);
        assert_eq!(history.cap_frees_at(now, 3, true), Some(first + CAP_WINDOW));
        assert_eq!(history.cap_frees_at(now, 4, true), None);
        assert_eq!(
            history.cap_frees_at(now, 0, false),
            Some(DateTime::<Utc>::MAX_UTC)
        );
    }

    #[test]
    fn an_older_send_counts_as_sent_at_the_end_of_its_hour() {
        let mut history = SendHistory::default();
        let base = t("2026-12-05T10:15:00Z");
        for n in 0..4 {
            history.count(minutes(base, n * 10), false);
        }
        // The oldest (10:15) is now counted in the hour 10:00-11:00, as if sent at 11:00: the
        // newest as far as a cap can tell.
        let now = minutes(base, 60);
        assert_eq!(history.within_day(now, false), 4);
        assert_eq!(
            history.cap_frees_at(now, 1, false),
            Some(t("2026-12-06T11:00:00Z"))
        );
        assert_eq!(
            history.cap_frees_at(now, 4, false),
            Some(t("2026-12-06T10:25:00Z"))
        );
        // Still counted a little past its true day, never less.
        assert_eq!(history.within_day(t("2026-12-06T10:30:00Z"), false), 3);
        assert_eq!(history.within_day(t("2026-12-06T10:50:00Z"), false), 1);
        assert_eq!(history.within_day(t("2026-12-06T11:00:00Z"), false), 0);
    }

    #[test]
    fn a_statutory_cap_is_answered_to_the_second_after_newer_sends() {
        let mut history = SendHistory::default();
        let first = t("2026-12-01T14:00:00Z");
        for n in 0..3 {
            history.count(first + TimeDelta::hours(n), true);
        }
        // Transactional sends push the marketing ones out of the newest three.
        for n in 0..3 {
            history.count(first + TimeDelta::hours(3) + TimeDelta::minutes(n), false);
        }
        let now = first + TimeDelta::hours(4);
        assert_eq!(history.cap_frees_at(now, 3, true), Some(first + CAP_WINDOW));
    }

    #[test]
    fn a_runaway_sender_leaves_at_most_a_day_of_hours() {
        let mut history = SendHistory::default();
        let base = t("2026-12-01T00:00:00Z");
        for n in 0..(3 * 24 * 60) {
            history.count(minutes(base, n), n % 7 == 0);
        }
        let now = minutes(base, 3 * 24 * 60);
        // 60 an hour: the newest hours that hold the highest cap's sends, and three marketing
        // hours.
        assert_eq!(history.all.len(), 2, "{:?}", history.all);
        assert_eq!(history.marketing.len(), STATUTORY_DAILY_CAP as usize);
        // Every cap still sees itself reached.
        assert!(history.within_day(now, false) >= MAX_DAILY_CAP as usize);
        assert!(history.within_day(now, true) >= STATUTORY_DAILY_CAP as usize);
        assert!(
            history
                .cap_frees_at(now, MAX_DAILY_CAP as usize, false)
                .is_some()
        );
        let stored = serde_json::to_string(&history).expect("written");
        assert!(stored.len() < 150, "{} bytes: {stored}", stored.len());
        let read: SendHistory = serde_json::from_str(&stored).expect("read");
        assert_eq!(read, history);
    }

    #[test]
    fn a_refused_send_is_given_back() {
        let mut history = SendHistory::default();
        let base = t("2026-12-05T10:15:00Z");
        for n in 0..5 {
            history.count(minutes(base, n), true);
        }
        history.uncount(minutes(base, 4));
        assert_eq!(history.within_day(minutes(base, 5), false), 4);
        // One only in its hour's count stays counted.
        history.uncount(base);
        assert_eq!(history.within_day(minutes(base, 5), false), 4);
        assert_eq!(history.within_day(minutes(base, 5), true), 4);
    }

    #[test]
    fn the_list_of_sends_records_kept_before_reads_as_a_history() {
        let legacy = json!([
            {"at": "2026-12-05T10:15:00Z", "marketing": true},
            {"at": "2026-12-05T11:15:00Z", "marketing": false},
        ]);
        let history: SendHistory = serde_json::from_value(legacy).expect("read");
        let now = t("2026-12-05T12:00:00Z");
        assert_eq!(history.within_day(now, false), 2);
        assert_eq!(history.within_day(now, true), 1);
        assert_eq!(
            serde_json::to_value(&history).expect("written"),
            json!({"n": [[1_796_465_700_000_000_000_i64, 1], [1_796_469_300_000_000_000_i64, 0]]})
        );
    }

    #[test]
    fn a_stored_history_out_of_shape_is_put_back_in_shape() {
        let stored = json!({"n": [[2, 0], [1, 1]], "h": 5, "a": [0, 500, 0], "m": [9, 7]});
        let history: SendHistory = serde_json::from_value(stored).expect("read");
        assert_eq!(history.exact[0].at.timestamp_nanos_opt(), Some(1));
        assert_eq!(
            (history.first_hour, history.all.clone()),
            (6, vec![MAX_DAILY_CAP])
        );
        let seconds: Vec<i64> = history.marketing.iter().map(DateTime::timestamp).collect();
        assert_eq!(seconds, vec![5 * 3600 + 7, 5 * 3600 + 9]);
    }

    /// Every send kept exactly: what the compact history must never answer more freely than.
    fn exact_frees_at(
        sends: &[RecentSend],
        now: DateTime<Utc>,
        cap: usize,
        marketing_only: bool,
    ) -> Option<DateTime<Utc>> {
        let mut times: Vec<DateTime<Utc>> = sends
            .iter()
            .filter(|s| s.at > now - CAP_WINDOW && (s.marketing || !marketing_only))
            .map(|s| s.at)
            .collect();
        times.sort_unstable_by(|a, b| b.cmp(a));
        times.get(cap.checked_sub(1)?).map(|at| *at + CAP_WINDOW)
    }

    proptest::proptest! {
        #[test]
        fn a_cap_is_never_answered_more_freely_than_from_every_send(
            gaps in proptest::collection::vec((0i64..5_400, proptest::bool::ANY), 1..400),
            cap in 1usize..=MAX_DAILY_CAP as usize,
            marketing_cap in 1usize..=STATUTORY_DAILY_CAP as usize,
            later in 0i64..100_000,
        ) {
            let mut history = SendHistory::default();
            let mut sends = Vec::new();
            let mut at = t("2026-12-01T00:00:00Z");
            for (gap, marketing) in gaps {
                at += TimeDelta::seconds(gap);
                history.count(at, marketing);
                sends.push(RecentSend { at, marketing });
            }
            let stored: SendHistory =
                serde_json::from_str(&serde_json::to_string(&history).expect("written"))
                    .expect("read");
            proptest::prop_assert_eq!(&stored, &history);
            let now = at + TimeDelta::seconds(later);
            for (cap, marketing_only) in [(cap, false), (marketing_cap, true)] {
                let exact = exact_frees_at(&sends, now, cap, marketing_only);
                let kept = history.cap_frees_at(now, cap, marketing_only);
                proptest::prop_assert!(
                    kept >= exact,
                    "cap {} (marketing only: {}): {:?} < {:?}", cap, marketing_only, kept, exact
                );
                // And never more than an hour more strictly; a second for the statutory caps.
                let slack = if marketing_only { TimeDelta::seconds(1) } else { HOUR };
                if let (Some(kept), Some(exact)) = (kept, exact) {
                    proptest::prop_assert!(kept - exact <= slack);
                }
            }
        }
    }
}
