//! What consent is: numbers, firms, consent records and their transitions, reply keywords, the
//! gate's policy, calling windows and caps. Pure: no store, no clock, no I/O.

pub mod area_codes;
pub mod caps;
pub mod consent_capture;
pub mod contact;
pub mod deferred;
pub mod feed;
pub mod firm;
pub mod gate;
pub mod https_url;
pub mod keywords;
pub mod language;
pub mod phone;
pub mod quiet_hours;
pub mod record;
pub mod state_rules;
pub mod transition;
