//! Quiet hours: the recipient's local sending window, and when it next opens.

use chrono::{DateTime, Utc};

use crate::phone::PhoneNumber;

/// The hours a recipient may receive solicitations, in their local time zone(s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendWindow {
    /// The recipient's zone(s); an area code spanning zones lists each, and the window must be
    /// open in all of them.
    pub zones: Vec<chrono_tz::Tz>,
    /// First hour allowed (8).
    pub opens_hour: u32,
    /// Hour at which sending stops (21, or 20 in Florida and Oklahoma).
    pub closes_hour: u32,
}

impl SendWindow {
    /// The window for a recipient: the contact's own zone if known, else the area code's;
    /// numbers outside North America use the firm's zone.
    pub fn for_recipient(
        phone: &PhoneNumber,
        contact_zone: Option<chrono_tz::Tz>,
        firm_zone: Option<chrono_tz::Tz>,
    ) -> Self {
        let _ = (phone, contact_zone, firm_zone);
        todo!("quiet_hours::for_recipient")
    }

    /// `None` when sending is allowed at `now`; otherwise the next instant it is.
    pub fn next_open(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let _ = now;
        todo!("quiet_hours::next_open")
    }
}
