//! A consent write being put together: a flow's state change and the gate's decisions on the
//! messages that change calls for, gathered so that they reach the store as one write.

use chrono::{DateTime, Utc};

use crate::evidence::audit::AuditEvent;
use crate::model::contact::Contact;
use crate::model::deferred::DeferredSend;
use crate::model::phone::PhoneNumber;
use crate::model::record::ConsentRecord;
use crate::ports::{Completion, ConsentWrite};

/// A write of one number's partition not yet sealed into its hash chain: everything added to
/// it is committed together or not at all.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    /// The firm whose consent partition is written.
    pub firm_id: String,
    /// The number whose record and trail are written.
    pub phone: PhoneNumber,
    /// The version the stored record must have (`None`: it must not exist).
    pub expected_version: Option<u64>,
    /// The record as the write leaves it (`None`: append events only).
    pub record: Option<ConsentRecord>,
    /// The events, in the order they happened.
    pub events: Vec<AuditEvent>,
    /// A contact stored with the write.
    pub contact: Option<Contact>,
    /// A send held for later, stored with the write.
    pub deferred: Option<DeferredSend>,
    /// The id of the deferred send this write takes off the queue (a release's decision).
    pub takes_deferred: Option<String>,
    /// The inbound message the write applies, marked so that it is applied once.
    pub inbound_message_id: Option<String>,
    /// The response of the keyed request the write finishes.
    pub completes: Option<Completion>,
}

impl Draft {
    /// A write over `current` (as read): its next version, with nothing changed yet.
    pub fn over(
        firm_id: &str,
        phone: &PhoneNumber,
        current: Option<&ConsentRecord>,
        now: DateTime<Utc>,
    ) -> Self {
        Self::new(
            firm_id,
            phone,
            current.map(|r| r.version),
            current.map(|r| r.next_version(now)),
            Vec::new(),
        )
    }

    /// A write of `record` and `events` under `expected_version`.
    pub fn new(
        firm_id: &str,
        phone: &PhoneNumber,
        expected_version: Option<u64>,
        record: Option<ConsentRecord>,
        events: Vec<AuditEvent>,
    ) -> Self {
        Self {
            firm_id: firm_id.to_string(),
            phone: phone.clone(),
            expected_version,
            record,
            events,
            contact: None,
            deferred: None,
            takes_deferred: None,
            inbound_message_id: None,
            completes: None,
        }
    }

    /// Seals the events into the number's chain: the write to commit.
    pub fn seal(self) -> ConsentWrite {
        let mut write = ConsentWrite::new(
            &self.firm_id,
            &self.phone,
            self.expected_version,
            self.record,
            self.events,
        );
        write.contact = self.contact;
        write.deferred = self.deferred;
        write.takes_deferred = self.takes_deferred;
        write.inbound_message_id = self.inbound_message_id;
        write.completes = self.completes;
        write
    }
}
