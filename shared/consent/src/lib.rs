//! The consent model of the SMS double opt-in service: states, transitions, keywords, phone
//! numbers, templates, tokens, gate policy and audit events, with ports as traits and in-memory
//! adapters. No I/O and no AWS types live here.

pub mod area_codes;
pub mod audit;
pub mod audit_canonical;
pub mod canonical;
pub mod chain;
pub mod firm;
pub mod flows;
pub mod gate;
pub mod keywords;
pub mod memory;
pub mod phone;
pub mod ports;
pub mod proof;
pub mod quiet_hours;
pub mod record;
pub mod sms_segments;
pub mod template_syntax;
pub mod templates;
pub mod token;
pub mod transition;
