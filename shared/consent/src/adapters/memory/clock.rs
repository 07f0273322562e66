//! A clock tests and the local server can set, running on from the instant set or standing still.

use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};

use crate::ports::Clock;

/// What a [`SettableClock`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClockSetting {
    /// The real time.
    Real,
    /// The real time moved by an offset: set to an instant, the clock keeps running from it.
    Offset(Duration),
    /// Standing still at an instant.
    Frozen(DateTime<Utc>),
}

/// A clock that can be set to an instant, from which it keeps running (or stands still).
#[derive(Debug)]
pub struct SettableClock {
    setting: Mutex<ClockSetting>,
    frozen: bool,
}

impl Default for SettableClock {
    fn default() -> Self {
        Self::new()
    }
}

impl SettableClock {
    /// A clock on real time until set.
    pub fn new() -> Self {
        Self::with_offset(None)
    }

    /// A running clock `offset` ahead of real time (`None`: real time), as [`Self::offset`]
    /// reported it, so a set clock survives a restart.
    pub fn with_offset(offset: Option<Duration>) -> Self {
        Self {
            setting: Mutex::new(offset.map_or(ClockSetting::Real, ClockSetting::Offset)),
            frozen: false,
        }
    }

    /// A clock standing still at `at` until set again (for deterministic tests).
    pub fn frozen(at: DateTime<Utc>) -> Self {
        Self {
            setting: Mutex::new(ClockSetting::Frozen(at)),
            frozen: true,
        }
    }

    /// Sets now to `at` (`None`: back to real time).
    pub fn set(&self, at: Option<DateTime<Utc>>) {
        let setting = match at {
            None => ClockSetting::Real,
            Some(at) if self.frozen => ClockSetting::Frozen(at),
            Some(at) => ClockSetting::Offset(at - Utc::now()),
        };
        *self.lock() = setting;
    }

    /// How far a running clock is from real time (`None`: on real time, or frozen).
    pub fn offset(&self) -> Option<Duration> {
        match *self.lock() {
            ClockSetting::Offset(offset) => Some(offset),
            ClockSetting::Real | ClockSetting::Frozen(_) => None,
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let now = self.now();
        self.set(Some(now + by));
    }

    fn lock(&self) -> MutexGuard<'_, ClockSetting> {
        self.setting.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Clock for SettableClock {
    fn now(&self) -> DateTime<Utc> {
        match *self.lock() {
            ClockSetting::Real => Utc::now(),
            ClockSetting::Offset(offset) => Utc::now() + offset,
            ClockSetting::Frozen(at) => at,
        }
    }
}
