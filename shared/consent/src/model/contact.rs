//! A contact as the CRM created it: the CRM's id pointing at a number.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::phone::PhoneNumber;

/// A contact as the CRM created it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// The firm.
    pub firm_id: String,
    /// The CRM's id.
    pub contact_id: String,
    /// The number, E.164.
    pub phone: PhoneNumber,
    /// Email, if given.
    pub email: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Where the contact came from.
    pub source: Option<String>,
    /// The contact's own time zone (IANA), if the CRM knows it.
    pub time_zone: Option<String>,
    /// Created at.
    pub created_at: DateTime<Utc>,
}
