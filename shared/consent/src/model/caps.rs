//! Caps on how many messages a number may receive: the statutory cap on marketing, the highest
//! cap a firm may set, and a firm's own limits. The gate applies them; the record keeps just
//! enough recent sends to answer them.

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

/// The window every cap counts over: the 24 hours before the moment of the decision.
pub const CAP_WINDOW: TimeDelta = TimeDelta::hours(24);

/// How long a message over a cap may be held for its release (DESIGN §3: deferred, or blocked
/// `frequency_cap` when the window cannot open within 24 h): the cap frees a place within a day,
/// so only a calling window that stays closed past then (a Texas Sunday morning) blocks.
pub const MAX_CAP_HOLD: TimeDelta = TimeDelta::hours(24);

/// The highest cap on marketing any state rule sets (3 per 24 h: FTSA, OTSA, Maryland): the
/// record keeps that many recent marketing sends. Each rule's own cap is in its row of
/// [`crate::model::state_rules`].
pub const STATUTORY_DAILY_CAP: u32 = 3;

/// The highest daily cap a firm may set. A record remembers only as many recent sends as the
/// caps can ask about, so that a runaway sender cannot grow it past what a store item holds
/// (a DynamoDB item is at most 400 KB) and leave the number unable to record a STOP.
pub const MAX_DAILY_CAP: u32 = 100;

/// A firm's own limits on top of the law's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SendLimits {
    /// At most this many solicitations per number per 24 hours, for every number.
    pub daily_cap: Option<u32>,
    /// Transactional messages skip quiet hours and the firm's cap (the statutory cap is for
    /// marketing only anyway).
    pub transactional_exempt: bool,
}
