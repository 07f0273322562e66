//! Consent transitions: the table of docs/architecture.md §5.1 as one pure function.

use chrono::{DateTime, Utc};

use crate::evidence::audit::{AuditEvent, AuditKind, OptInEvidence, OptOutEvidence, ReplyNote};
use crate::model::consent_capture::ConsentCapture;
use crate::model::keywords::{Classification, classify};
use crate::model::language::Language;
use crate::model::phone::PhoneNumber;
use crate::model::record::{ConsentBasis, ConsentRecord, ConsentStatus, Delivery, StaffChannel};

/// Something that happened to a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentEvent {
    /// The CRM created a contact with this number.
    ContactCreated {
        /// The CRM's id.
        contact_id: String,
        /// Where the contact came from.
        source: Option<String>,
        /// The contact's email, if any.
        email: Option<String>,
        /// The firm's double opt-in setting now.
        double_opt_in: bool,
        /// The contact's own time zone (IANA), if known.
        time_zone: Option<String>,
    },
    /// The contact texted the firm's number.
    SmsReceived {
        /// The carrier's id (duplicates are applied once).
        inbound_message_id: String,
        /// The text.
        text: String,
        /// When the carrier received it (older than the current state: recorded, no override).
        received_at: DateTime<Utc>,
    },
    /// The contact pressed the button behind the email link.
    EmailConfirmed {
        /// Client address.
        ip: Option<String>,
        /// Browser user agent.
        user_agent: Option<String>,
    },
    /// The contact pressed "this isn't me / no thanks" behind the email link.
    EmailDeclined {
        /// Client address.
        ip: Option<String>,
        /// Browser user agent.
        user_agent: Option<String>,
    },
    /// The carrier reports the number opted out.
    CarrierOptOut,
    /// The firm's staff record a revocation the contact made to them.
    StaffOptOut {
        /// How the contact told them.
        channel: StaffChannel,
        /// Who recorded it (free text, as the caller gives it).
        recorded_by: String,
        /// What was said, if noted.
        note: Option<String>,
        /// When the contact said it, if not just now.
        occurred_at: Option<DateTime<Utc>>,
        /// Whether the contact asked for the one opt-out confirmation by text.
        send_confirmation: bool,
    },
}

/// A message the contact's own action calls for; it still passes the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// "You're subscribed."
    OptInConfirmation,
    /// "You're unsubscribed." (exactly one per opt-out)
    OptOutConfirmation,
    /// The help text.
    Help,
}

/// What the event did to the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// A record was created with this status.
    Created(ConsentStatus),
    /// The status moved.
    Changed {
        /// The status before the event.
        from: ConsentStatus,
        /// The status after it.
        to: ConsentStatus,
    },
    /// Recorded; the status stays as it was (or there is still no record).
    Recorded,
    /// Already applied: nothing to write.
    Duplicate,
    /// Nothing to record: the event needs a record that does not exist.
    NoRecord,
}

/// The outcome of one event: the record to write, the replies to send, the events to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The record to write (version already incremented); `None` when no record is written.
    pub record: Option<ConsentRecord>,
    /// The version the write must find (`None`: the record must not exist).
    pub expected_version: Option<u64>,
    /// Messages to send, through the gate.
    pub replies: Vec<Reply>,
    /// Audit events to append in the same write.
    pub events: Vec<AuditEvent>,
    /// What happened.
    pub effect: Effect,
    /// How an inbound text was read, when the event was one.
    pub classification: Option<Classification>,
}

impl Transition {
    /// Whether there is anything to write.
    pub fn is_write(&self) -> bool {
        self.record.is_some() || !self.events.is_empty()
    }

    /// Keeps how the number was first collected on the `contact_created` event of this
    /// transition. Evidence only, it changes no state; a step of its own so that
    /// [`ConsentEvent::ContactCreated`] keeps its shape for its many callers.
    /// The transition with the contact's state (as the CRM last gave it) on the record it
    /// writes, so the gate applies that state's calling rules too.
    pub fn with_resident_state(mut self, state: Option<&str>) -> Self {
        if let (Some(state), Some(record)) = (state, self.record.as_mut()) {
            record.state = Some(state.to_string());
        }
        self
    }

    /// The transition with the contact's language: in its `contact_created` event, and on the
    /// record when this step creates it or the CRM said which (`given`; `None`: the CRM did not
    /// say, so a new record is written to in English and an existing one keeps its language).
    pub fn with_language(mut self, given: Option<Language>) -> Self {
        let created = matches!(self.effect, Effect::Created(_));
        if let Some(record) = self.record.as_mut()
            && (created || given.is_some())
        {
            record.language = given.unwrap_or_default();
        }
        let spoken = given.unwrap_or_default();
        for event in &mut self.events {
            if let AuditKind::ContactCreated { language, .. } = &mut event.kind {
                *language = Some(spoken);
            }
        }
        self
    }

    /// The transition with the contact's prior consent in its `contact_created` event.
    pub fn with_consent_capture(mut self, capture: Option<ConsentCapture>) -> Self {
        for event in &mut self.events {
            if let AuditKind::ContactCreated {
                consent_capture, ..
            } = &mut event.kind
            {
                consent_capture.clone_from(&capture);
            }
        }
        self
    }
}

/// Applies one event to the current record (if any) at `now`.
pub fn apply(
    current: Option<&ConsentRecord>,
    firm_id: &str,
    phone: &PhoneNumber,
    event: ConsentEvent,
    now: DateTime<Utc>,
) -> Transition {
    let mut step = Step::new(current, now);
    match event {
        ConsentEvent::ContactCreated {
            contact_id,
            source,
            email,
            double_opt_in,
            time_zone,
        } => {
            step.push(AuditKind::ContactCreated {
                contact_id: contact_id.clone(),
                source,
                email,
                double_opt_in,
                existing_status: current.map(|r| r.status),
                consent_capture: None,
                language: None,
            });
            if current.is_none() {
                if double_opt_in {
                    step.create(
                        firm_id,
                        phone,
                        ConsentStatus::Pending,
                        ConsentBasis::OptInRequested,
                    );
                } else {
                    step.create(
                        firm_id,
                        phone,
                        ConsentStatus::OptedIn,
                        ConsentBasis::FirmAttested,
                    );
                    step.push(AuditKind::OptedIn {
                        from: None,
                        basis: ConsentBasis::FirmAttested,
                        evidence: OptInEvidence::FirmAttested {
                            contact_id: contact_id.clone(),
                        },
                    });
                }
                if let Some(record) = step.record.as_mut() {
                    record.time_zone = time_zone;
                }
            }
            if let Some(record) = step.record.as_mut() {
                record.remember_contact(&contact_id);
            }
        }
        ConsentEvent::SmsReceived {
            inbound_message_id,
            text,
            received_at,
        } => {
            if current.is_some_and(|r| r.has_applied(&inbound_message_id)) {
                return step.duplicate();
            }
            let classification = classify(&text);
            step.classification = Some(classification.clone());
            // An older text does not override a newer state, with one exception: a revocation
            // is outranked only by the contact's own newer opt-in. A STOP older than a pending or
            // firm-attested record (sent before the CRM created the contact) still revokes.
            let older = current.is_some_and(|r| received_at < r.status_changed_at);
            let stale = match classification {
                Classification::OptOut { .. } => {
                    older
                        && current.is_some_and(|r| {
                            r.status == ConsentStatus::OptedIn
                                && r.basis != ConsentBasis::FirmAttested
                        })
                }
                _ => older,
            };
            let note = |note| AuditKind::ReplyReceived {
                text: text.clone(),
                inbound_message_id: inbound_message_id.clone(),
                classification: classification.clone(),
                received_at,
                note,
            };
            match (&classification, current.map(|r| r.status)) {
                (Classification::OptOut { .. } | Classification::OptIn { .. }, _) if stale => {
                    step.push(note(ReplyNote::Superseded));
                }
                (Classification::OptOut { .. }, Some(ConsentStatus::OptedOut)) => {
                    step.push(note(ReplyNote::AlreadyOptedOut));
                    // The one confirmation may still be owed (e.g. its send failed); the gate
                    // lets it through only if it has not gone out.
                    if current.is_some_and(|r| !r.opt_out_confirmation_sent) {
                        step.replies.push(Reply::OptOutConfirmation);
                    }
                }
                (Classification::OptOut { matched }, from) => {
                    step.push(AuditKind::OptedOut {
                        from,
                        basis: ConsentBasis::SmsReply,
                        text: Some(text.clone()),
                        matched: Some(matched.clone()),
                        inbound_message_id: Some(inbound_message_id.clone()),
                        evidence: None,
                    });
                    step.set_status(
                        firm_id,
                        phone,
                        ConsentStatus::OptedOut,
                        ConsentBasis::SmsReply,
                        received_at,
                    );
                    step.replies.push(Reply::OptOutConfirmation);
                }
                // YES from a firm-attested number is the contact's own confirmation: it turns
                // the firm's word into the contact's, which stays valid with double opt-in on.
                (Classification::OptIn { .. }, Some(ConsentStatus::OptedIn))
                    if current.is_some_and(|r| r.basis == ConsentBasis::FirmAttested) =>
                {
                    step.push(AuditKind::OptedIn {
                        from: Some(ConsentStatus::OptedIn),
                        basis: ConsentBasis::SmsReply,
                        evidence: OptInEvidence::Sms {
                            text: text.clone(),
                            inbound_message_id: inbound_message_id.clone(),
                            received_at,
                        },
                    });
                    step.set_status(
                        firm_id,
                        phone,
                        ConsentStatus::OptedIn,
                        ConsentBasis::SmsReply,
                        received_at,
                    );
                    step.replies.push(Reply::OptInConfirmation);
                }
                (
                    Classification::OptIn { .. },
                    Some(from @ (ConsentStatus::Pending | ConsentStatus::OptedOut)),
                ) => {
                    step.push(AuditKind::OptedIn {
                        from: Some(from),
                        basis: ConsentBasis::SmsReply,
                        evidence: OptInEvidence::Sms {
                            text: text.clone(),
                            inbound_message_id: inbound_message_id.clone(),
                            received_at,
                        },
                    });
                    step.set_status(
                        firm_id,
                        phone,
                        ConsentStatus::OptedIn,
                        ConsentBasis::SmsReply,
                        received_at,
                    );
                    step.replies.push(Reply::OptInConfirmation);
                }
                // Opt-in with no request to answer, or while already opted in: consent must be
                // unambiguous, so an unsolicited YES does not create consent.
                (Classification::OptIn { .. }, _) => step.push(note(ReplyNote::NoEffect)),
                (Classification::Help { .. }, _) => {
                    step.push(note(ReplyNote::Help));
                    step.replies.push(Reply::Help);
                }
                (Classification::Other, _) => step.push(note(ReplyNote::Unrecognized)),
            }
            if let Some(record) = step.record.as_mut() {
                record.remember_inbound(&inbound_message_id);
            }
        }
        ConsentEvent::EmailConfirmed { ip, user_agent } => match current.map(|r| r.status) {
            None => return step.no_record(),
            Some(ConsentStatus::Pending) => {
                step.push(AuditKind::OptedIn {
                    from: Some(ConsentStatus::Pending),
                    basis: ConsentBasis::EmailConfirmation,
                    evidence: OptInEvidence::Email {
                        ip,
                        user_agent,
                        confirmed_at: now,
                    },
                });
                step.set_status(
                    firm_id,
                    phone,
                    ConsentStatus::OptedIn,
                    ConsentBasis::EmailConfirmation,
                    now,
                );
                step.replies.push(Reply::OptInConfirmation);
            }
            // After a STOP only a text re-subscribes (carriers block the number until then);
            // a second confirmation changes nothing.
            Some(status) => step.push(AuditKind::EmailConfirmationIgnored {
                status,
                ip,
                user_agent,
            }),
        },
        // A revocation by the contact through the email page, whether the number was pending
        // or opted in (any reasonable means revokes). The page is the answer: no text is owed.
        ConsentEvent::EmailDeclined { ip, user_agent } => match current.map(|r| r.status) {
            None => return step.no_record(),
            Some(status @ ConsentStatus::OptedOut) => step.push(AuditKind::EmailDeclineIgnored {
                status,
                ip,
                user_agent,
            }),
            Some(from) => {
                step.push(AuditKind::OptedOut {
                    from: Some(from),
                    basis: ConsentBasis::EmailDecline,
                    text: None,
                    matched: None,
                    inbound_message_id: None,
                    evidence: Some(OptOutEvidence::Email {
                        ip,
                        user_agent,
                        declined_at: now,
                    }),
                });
                step.set_status(
                    firm_id,
                    phone,
                    ConsentStatus::OptedOut,
                    ConsentBasis::EmailDecline,
                    now,
                );
                if let Some(record) = step.record.as_mut() {
                    record.opt_out_confirmation_sent = true;
                }
            }
        },
        ConsentEvent::StaffOptOut {
            channel,
            recorded_by,
            note,
            occurred_at,
            send_confirmation,
        } => {
            let from = current.map(|r| r.status);
            step.push(AuditKind::OptOutRecorded {
                from,
                channel,
                recorded_by,
                note,
                occurred_at,
                confirmation_requested: send_confirmation,
                // The flow names the authenticated caller; the model knows none.
                actor: None,
            });
            // An earlier revocation stays the one on record; this one is kept beside it.
            if from != Some(ConsentStatus::OptedOut) {
                step.set_status(
                    firm_id,
                    phone,
                    ConsentStatus::OptedOut,
                    ConsentBasis::StaffRecorded,
                    now,
                );
                if send_confirmation {
                    step.replies.push(Reply::OptOutConfirmation);
                } else if let Some(record) = step.record.as_mut() {
                    // Not asked for: the confirmation is not owed, so nothing sends it later.
                    record.opt_out_confirmation_sent = true;
                }
            }
        }
        ConsentEvent::CarrierOptOut => match current.map(|r| r.status) {
            Some(ConsentStatus::OptedOut) => return step.duplicate(),
            from => {
                step.push(AuditKind::OptedOut {
                    from,
                    basis: ConsentBasis::Carrier,
                    text: None,
                    matched: None,
                    inbound_message_id: None,
                    evidence: None,
                });
                step.set_status(
                    firm_id,
                    phone,
                    ConsentStatus::OptedOut,
                    ConsentBasis::Carrier,
                    now,
                );
                // The carrier has answered the contact already; ours would be blocked anyway.
                if let Some(record) = step.record.as_mut() {
                    record.opt_out_confirmation_sent = true;
                }
            }
        },
    }
    step.finish()
}

/// The transition being built.
struct Step {
    record: Option<ConsentRecord>,
    expected_version: Option<u64>,
    replies: Vec<Reply>,
    events: Vec<AuditEvent>,
    before: Option<ConsentStatus>,
    created: bool,
    classification: Option<Classification>,
    now: DateTime<Utc>,
}

impl Step {
    fn new(current: Option<&ConsentRecord>, now: DateTime<Utc>) -> Self {
        let record = current.map(|r| r.next_version(now));
        Self {
            expected_version: current.map(|r| r.version),
            before: current.map(|r| r.status),
            record,
            replies: Vec::new(),
            events: Vec::new(),
            created: false,
            classification: None,
            now,
        }
    }

    fn push(&mut self, kind: AuditKind) {
        self.events.push(AuditEvent::new(self.now, kind));
    }

    fn create(
        &mut self,
        firm_id: &str,
        phone: &PhoneNumber,
        status: ConsentStatus,
        basis: ConsentBasis,
    ) {
        self.created = true;
        self.record = Some(ConsentRecord {
            firm_id: firm_id.to_string(),
            phone: phone.clone(),
            status,
            basis,
            version: 1,
            created_at: self.now,
            status_changed_at: self.now,
            updated_at: self.now,
            opt_in_sms: Delivery::NotSent,
            opt_in_email: Delivery::NotSent,
            opt_out_confirmation_sent: false,
            recent_inbound_ids: Vec::new(),
            recent_sends: Default::default(),
            time_zone: None,
            audit_head: None,
            state: None,
            language: Language::En,
            contact_ids: Vec::new(),
        });
    }

    fn set_status(
        &mut self,
        firm_id: &str,
        phone: &PhoneNumber,
        status: ConsentStatus,
        basis: ConsentBasis,
        at: DateTime<Utc>,
    ) {
        if self.record.is_none() {
            self.create(firm_id, phone, status, basis);
        }
        if let Some(record) = self.record.as_mut() {
            record.status = status;
            record.basis = basis;
            record.status_changed_at = if self.created {
                at
            } else {
                at.max(record.status_changed_at)
            };
            if status == ConsentStatus::OptedOut {
                // A new opt-out owes its own single confirmation.
                record.opt_out_confirmation_sent = false;
            }
        }
    }

    fn duplicate(self) -> Transition {
        self.empty(Effect::Duplicate)
    }

    fn no_record(self) -> Transition {
        self.empty(Effect::NoRecord)
    }

    fn empty(self, effect: Effect) -> Transition {
        Transition {
            record: None,
            expected_version: self.expected_version,
            replies: Vec::new(),
            events: Vec::new(),
            effect,
            classification: self.classification,
        }
    }

    fn finish(self) -> Transition {
        let after = self.record.as_ref().map(|r| r.status);
        let effect = match (self.before, after) {
            (None, Some(status)) if self.created => Effect::Created(status),
            (Some(from), Some(to)) if from != to => Effect::Changed { from, to },
            _ => Effect::Recorded,
        };
        Transition {
            record: self.record,
            expected_version: self.expected_version,
            replies: self.replies,
            events: self.events,
            effect,
            classification: self.classification,
        }
    }
}
