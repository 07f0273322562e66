//! The laws of the consent model, as properties over random sequences of events:
//!
//! (a) after an opt-out that no later opt-in followed, the gate blocks every message except the
//!     one opt-out confirmation (at most once per opt-out) and HELP replies;
//! (b) applying an event twice equals applying it once;
//! (c) a number never gets a second opt-in request.
//!
//! Each is checked on the pure model (`transition::apply` + `gate::decide`, driven the way the
//! flows drive them) against a reference model (docs/architecture.md §5), then end to end through
//! `Services` on the in-memory adapters, reading what actually left through the outbox.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use common::{FIRM_ID, Harness, SentKind, contact_with_email, firm_message, inbound, phone, t};
use consent::evidence::token::ConfirmationClaims;
use consent::flows::email_confirm::ConfirmResult;
use consent::flows::send::SendOutcome;
use consent::limits::OPT_OUT_CONFIRMATION_WINDOW;
use consent::model::gate::{BlockReason, GateDecision, GateQuestion, MessageKind, decide};
use consent::model::keywords::{Classification, classify};
use consent::model::phone::PhoneNumber;
use consent::model::quiet_hours::SendWindow;
use consent::model::record::{ConsentRecord, ConsentStatus, Delivery};
use consent::model::transition::{ConsentEvent, Effect, Reply, apply};
use consent::ports::ConsentStore;
use proptest::prelude::*;

/// Replies people send: opt-ins, opt-outs (keywords and plain language), help, and texts that
/// must change nothing.
const TEXTS: &[&str] = &[
    "YES",
    "Yes!",
    "y",
    "START",
    "unstop",
    "yes please",
    "STOP",
    "stop",
    "Stop!!!",
    "UNSUBSCRIBE",
    "cancel",
    "END",
    "please stop texting me",
    "remove me",
    "don't text me",
    "wrong number",
    "no más",
    "ARRET",
    "yes stop",
    "HELP",
    "info",
    "Who is this?",
    "ok",
    "Yes I'll call you tomorrow",
    "Yes?",
    "I need to cancel my appointment",
];

const ALL_KINDS: [MessageKind; 5] = [
    MessageKind::OptInRequest,
    MessageKind::OptInConfirmation,
    MessageKind::OptOutConfirmation,
    MessageKind::HelpReply,
    MessageKind::FirmMessage,
];

fn reply_kind(reply: Reply) -> MessageKind {
    match reply {
        Reply::OptInConfirmation => MessageKind::OptInConfirmation,
        Reply::OptOutConfirmation => MessageKind::OptOutConfirmation,
        Reply::Help => MessageKind::HelpReply,
    }
}

// --- the reference model -----------------------------------------------------------------------

/// A number's consent per docs/architecture.md §5.1, written independently of `transition.rs`.
#[derive(Debug, Clone, Default)]
struct Spec {
    /// Status and the time of the event that set it; `None` before any record.
    state: Option<(ConsentStatus, DateTime<Utc>)>,
    /// Opt-out episodes so far (each gets at most one confirmation).
    episodes: usize,
    /// Opt-out confirmations owed so far: one per episode by SMS handled within five minutes
    /// of the STOP's receipt.
    confirmations: usize,
    /// Whether the current episode came from an SMS (so our confirmation is owed).
    episode_by_sms: bool,
    /// Whether a pending record was created (so the one opt-in request is due).
    requested: bool,
    /// Whether the current opt-in is the firm's attestation (double opt-in off).
    firm_attested: bool,
}

/// What an event did, by the spec: the messages it calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Nothing,
    Request,
    OptInConfirmation,
    OptOutConfirmation,
    Help,
}

impl Spec {
    fn status(&self) -> Option<ConsentStatus> {
        self.state.map(|(s, _)| s)
    }

    fn set(&mut self, status: ConsentStatus, at: DateTime<Utc>) {
        let at = match self.state {
            Some((_, since)) => at.max(since),
            None => at,
        };
        self.state = Some((status, at));
        self.firm_attested = false;
    }

    fn created(&mut self, double_opt_in: bool, now: DateTime<Utc>) -> Expect {
        if self.state.is_some() {
            return Expect::Nothing;
        }
        if double_opt_in {
            self.set(ConsentStatus::Pending, now);
            self.requested = true;
            Expect::Request
        } else {
            self.set(ConsentStatus::OptedIn, now);
            self.firm_attested = true;
            Expect::Nothing
        }
    }

    /// A text not seen before, received at `received_at` and handled at `now`.
    fn text(&mut self, text: &str, received_at: DateTime<Utc>, now: DateTime<Utc>) -> Expect {
        let older = self.state.is_some_and(|(_, since)| received_at < since);
        let classification = classify(text);
        // A revocation is outranked only by a newer opt-in.
        let stale = match classification {
            Classification::OptOut { .. } => {
                older && self.status() == Some(ConsentStatus::OptedIn) && !self.firm_attested
            }
            _ => older,
        };
        match (classification, self.status()) {
            (Classification::OptOut { .. } | Classification::OptIn { .. }, _) if stale => {
                Expect::Nothing
            }
            // The contact's own YES replaces the firm's attestation.
            (Classification::OptIn { .. }, Some(ConsentStatus::OptedIn)) if self.firm_attested => {
                self.set(ConsentStatus::OptedIn, received_at);
                Expect::OptInConfirmation
            }
            (Classification::OptOut { .. }, Some(ConsentStatus::OptedOut)) => Expect::Nothing,
            (Classification::OptOut { .. }, _) => {
                self.set(ConsentStatus::OptedOut, received_at);
                self.episodes += 1;
                self.episode_by_sms = true;
                // The confirmation is owed only within five minutes of the revocation.
                let since = self.state.map_or(received_at, |(_, since)| since);
                if now - since <= OPT_OUT_CONFIRMATION_WINDOW {
                    self.confirmations += 1;
                    Expect::OptOutConfirmation
                } else {
                    Expect::Nothing
                }
            }
            (
                Classification::OptIn { .. },
                Some(ConsentStatus::Pending | ConsentStatus::OptedOut),
            ) => {
                self.set(ConsentStatus::OptedIn, received_at);
                Expect::OptInConfirmation
            }
            (Classification::OptIn { .. }, _) => Expect::Nothing,
            // Every HELP is answered, from a number with no record too (rule 1).
            (Classification::Help { .. }, _) => Expect::Help,
            (Classification::Other, _) => Expect::Nothing,
        }
    }

    fn email_confirmed(&mut self, now: DateTime<Utc>) -> Expect {
        if self.status() == Some(ConsentStatus::Pending) {
            self.set(ConsentStatus::OptedIn, now);
            Expect::OptInConfirmation
        } else {
            Expect::Nothing
        }
    }

    fn carrier_opt_out(&mut self, now: DateTime<Utc>) -> Expect {
        if self.status() != Some(ConsentStatus::OptedOut) {
            self.set(ConsentStatus::OptedOut, now);
            self.episodes += 1;
            self.episode_by_sms = false;
        }
        Expect::Nothing
    }
}

// --- the pure model, driven as the flows drive it ---------------------------------------------

#[derive(Debug, Clone)]
enum Event {
    Created,
    /// The firm switches double opt-in.
    SwitchDoubleOptIn(bool),
    Text {
        id: u8,
        text: &'static str,
        offset_secs: i64,
    },
    EmailConfirmed,
    CarrierOptOut,
    /// Someone asks the gate to send this kind of message.
    Ask(MessageKind),
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        2 => Just(Event::Created),
        1 => any::<bool>().prop_map(Event::SwitchDoubleOptIn),
        8 => (0u8..10, proptest::sample::select(TEXTS), -7_200i64..7_200)
            .prop_map(|(id, text, offset_secs)| Event::Text { id, text, offset_secs }),
        2 => Just(Event::EmailConfirmed),
        1 => Just(Event::CarrierOptOut),
        3 => proptest::sample::select(ALL_KINDS.to_vec()).prop_map(Event::Ask),
    ]
}

fn always_open() -> SendWindow {
    SendWindow {
        zones: vec![chrono_tz::UTC],
        opens_hour: 0,
        closes_hour: 24,
        rules: Vec::new(),
    }
}

/// A window that is never open: allowed solicitations are deferred, never sent.
fn never_open() -> SendWindow {
    SendWindow {
        zones: vec![chrono_tz::UTC],
        opens_hour: 23,
        closes_hour: 23,
        rules: Vec::new(),
    }
}

/// The fields that make up a number's consent (everything but bookkeeping).
fn consent_of(r: &ConsentRecord) -> impl PartialEq + std::fmt::Debug + use<> {
    (
        r.status,
        r.basis,
        r.status_changed_at,
        r.opt_out_confirmation_sent,
        r.opt_in_sms.clone(),
        r.opt_in_email.clone(),
        r.recent_inbound_ids.clone(),
    )
}

/// One number at one firm: the record as stored, the store's inbound ids, and the spec.
struct PureWorld {
    firm: &'static str,
    phone: PhoneNumber,
    double_opt_in: bool,
    record: Option<ConsentRecord>,
    store_inbound_ids: HashSet<String>,
    seen_ids: HashSet<String>,
    spec: Spec,
    /// Messages the gate let through, with the opt-out episode they went out in.
    allowed: Vec<(MessageKind, usize)>,
}

impl PureWorld {
    fn new(double_opt_in: bool) -> Self {
        Self {
            firm: "firm-1",
            phone: PhoneNumber::parse("+14155550134").unwrap(),
            double_opt_in,
            record: None,
            store_inbound_ids: HashSet::new(),
            seen_ids: HashSet::new(),
            spec: Spec::default(),
            allowed: Vec::new(),
        }
    }

    fn decide(&self, kind: MessageKind, window: &SendWindow, now: DateTime<Utc>) -> GateDecision {
        decide(GateQuestion {
            record: self.record.as_ref(),
            double_opt_in: self.double_opt_in,
            kind,
            window,
            now,
            category: consent::model::gate::MessageCategory::Marketing,
            limits: consent::model::caps::SendLimits::default(),
        })
    }

    /// The gate's send path: decide, and on allow claim the one-time messages (as
    /// `SendGate::claim` does) under a new version.
    fn send(&mut self, kind: MessageKind, now: DateTime<Utc>) -> GateDecision {
        let decision = self.decide(kind, &always_open(), now);
        if decision == GateDecision::Allow {
            let Some(record) = self.record.as_mut() else {
                // Only HELP goes to a number with no record, and it claims nothing.
                assert_eq!(
                    kind,
                    MessageKind::HelpReply,
                    "the gate allowed {kind:?} to a stranger"
                );
                self.allowed.push((kind, self.spec.episodes));
                return decision;
            };
            record.version += 1;
            match kind {
                MessageKind::OptInRequest => {
                    record.opt_in_sms = Delivery::Sent {
                        provider_message_id: format!("m-{}", record.version),
                        at: now,
                    };
                }
                MessageKind::OptOutConfirmation => record.opt_out_confirmation_sent = true,
                _ => {}
            }
            self.allowed.push((kind, self.spec.episodes));
        }
        decision
    }

    /// Applies one event as the flows would; checks law (b) on the way.
    fn step(&mut self, event: &Event, now: DateTime<Utc>) -> Result<(), TestCaseError> {
        let (consent_event, inbound_id) = match event {
            Event::Ask(kind) => {
                self.send(*kind, now);
                return Ok(());
            }
            Event::SwitchDoubleOptIn(enabled) => {
                self.double_opt_in = *enabled;
                return Ok(());
            }
            Event::Created => (
                ConsentEvent::ContactCreated {
                    contact_id: "c-1".to_string(),
                    source: None,
                    email: Some("c@example.com".to_string()),
                    double_opt_in: self.double_opt_in,
                    time_zone: None,
                },
                None,
            ),
            Event::Text {
                id,
                text,
                offset_secs,
            } => {
                let id = format!("in-{id}");
                (
                    ConsentEvent::SmsReceived {
                        inbound_message_id: id.clone(),
                        text: (*text).to_string(),
                        received_at: now + Duration::seconds(*offset_secs),
                    },
                    Some(id),
                )
            }
            Event::EmailConfirmed => (
                ConsentEvent::EmailConfirmed {
                    ip: Some("203.0.113.7".to_string()),
                    user_agent: None,
                },
                None,
            ),
            Event::CarrierOptOut => (ConsentEvent::CarrierOptOut, None),
        };

        // The spec's view.
        let expect = match event {
            Event::Created => self.spec.created(self.double_opt_in, now),
            Event::Text {
                text, offset_secs, ..
            } => {
                let id = inbound_id.clone().unwrap_or_default();
                if self.seen_ids.insert(id) {
                    self.spec
                        .text(text, now + Duration::seconds(*offset_secs), now)
                } else {
                    Expect::Nothing
                }
            }
            Event::EmailConfirmed => self.spec.email_confirmed(now),
            Event::CarrierOptOut => self.spec.carrier_opt_out(now),
            Event::Ask(_) | Event::SwitchDoubleOptIn(_) => unreachable!(),
        };

        let step = apply(
            self.record.as_ref(),
            self.firm,
            &self.phone,
            consent_event.clone(),
            now,
        );

        // Law (b): the same event again on the record it produced changes nothing more.
        if let Some(after) = &step.record {
            let again = apply(Some(after), self.firm, &self.phone, consent_event, now);
            prop_assert!(
                again.replies.is_empty(),
                "second application replied: {again:?}"
            );
            if inbound_id.is_some() {
                prop_assert_eq!(again.effect, Effect::Duplicate);
                prop_assert!(!again.is_write(), "a duplicate text wrote {:?}", again);
            } else {
                let consent_again = again.record.as_ref().map(consent_of);
                prop_assert!(
                    consent_again.is_none() || consent_again == Some(consent_of(after)),
                    "second application changed consent: {:?} then {:?}",
                    after,
                    again.record
                );
            }
        }

        // The store: version condition (always met here) and inbound de-duplication.
        let duplicate = step.effect == Effect::Duplicate
            || inbound_id
                .as_ref()
                .is_some_and(|id| self.store_inbound_ids.contains(id));
        let mut replies = Vec::new();
        if duplicate {
            // A redelivery sends only an opt-out confirmation still owed.
            if self.record.as_ref().is_some_and(|r| {
                r.status == ConsentStatus::OptedOut && !r.opt_out_confirmation_sent
            }) {
                replies.push(Reply::OptOutConfirmation);
            }
        } else {
            if let Some(record) = &step.record {
                prop_assert_eq!(
                    record.version,
                    self.record.as_ref().map_or(1, |r| r.version + 1),
                    "one write, one version"
                );
            }
            if step.record.is_some() {
                self.record = step.record.clone();
            }
            if let Some(id) = &inbound_id {
                self.store_inbound_ids.insert(id.clone());
            }
            replies.extend(step.replies.iter().copied());
        }

        // What went out, through the gate.
        let mut sent = Vec::new();
        if step.effect == Effect::Created(ConsentStatus::Pending)
            && self.send(MessageKind::OptInRequest, now) == GateDecision::Allow
        {
            sent.push(MessageKind::OptInRequest);
        }
        for reply in replies {
            let kind = reply_kind(reply);
            if self.send(kind, now) == GateDecision::Allow {
                sent.push(kind);
            }
        }
        let expected: Vec<MessageKind> = match expect {
            Expect::Nothing => vec![],
            Expect::Request => vec![MessageKind::OptInRequest],
            Expect::OptInConfirmation => vec![MessageKind::OptInConfirmation],
            Expect::OptOutConfirmation => vec![MessageKind::OptOutConfirmation],
            Expect::Help => vec![MessageKind::HelpReply],
        };
        prop_assert_eq!(&sent, &expected, "after {:?}", event);
        prop_assert_eq!(
            self.record.as_ref().map(|r| r.status),
            self.spec.status(),
            "status after {:?}",
            event
        );
        Ok(())
    }

    /// Law (a), asked of the gate for every kind, in and out of quiet hours.
    fn check_opt_out_law(&self, now: DateTime<Utc>) -> Result<(), TestCaseError> {
        if self.spec.status() != Some(ConsentStatus::OptedOut) {
            return Ok(());
        }
        let record = self
            .record
            .as_ref()
            .expect("an opted-out number has a record");
        for window in [always_open(), never_open()] {
            for kind in ALL_KINDS {
                let decision = self.decide(kind, &window, now);
                let in_time = now - record.status_changed_at <= OPT_OUT_CONFIRMATION_WINDOW;
                let may_pass = match kind {
                    MessageKind::HelpReply => true,
                    MessageKind::OptOutConfirmation => !record.opt_out_confirmation_sent,
                    _ => false,
                };
                if may_pass && kind == MessageKind::OptOutConfirmation && !in_time {
                    prop_assert_eq!(
                        decision,
                        GateDecision::Block {
                            reason: BlockReason::ConfirmationWindowPassed,
                            rule: None,
                        },
                        "a confirmation five minutes after the revocation"
                    );
                } else if may_pass {
                    prop_assert_eq!(decision, GateDecision::Allow, "{:?}", kind);
                } else {
                    prop_assert_eq!(
                        decision,
                        GateDecision::Block {
                            reason: BlockReason::OptedOut,
                            rule: None,
                        },
                        "{:?} after an opt-out",
                        kind
                    );
                }
            }
        }
        Ok(())
    }

    /// Laws (a) and (c) over everything that went out.
    fn check_totals(&self) -> Result<(), TestCaseError> {
        let requests = self
            .allowed
            .iter()
            .filter(|(k, _)| *k == MessageKind::OptInRequest)
            .count();
        prop_assert!(requests <= 1, "{} opt-in requests", requests);
        prop_assert_eq!(requests, usize::from(self.spec.requested));
        let mut per_episode: BTreeMap<usize, usize> = BTreeMap::new();
        for (kind, episode) in &self.allowed {
            if *kind == MessageKind::OptOutConfirmation {
                *per_episode.entry(*episode).or_default() += 1;
            }
        }
        prop_assert!(
            per_episode.values().all(|n| *n == 1),
            "confirmations per opt-out: {:?}",
            per_episode
        );
        prop_assert!(per_episode.len() <= self.spec.episodes);
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn pure_model_obeys_the_laws(
        double_opt_in in prop_oneof![4 => Just(true), 1 => Just(false)],
        events in proptest::collection::vec(event(), 1..40),
    ) {
        let mut world = PureWorld::new(double_opt_in);
        let start = t("2026-12-01T18:00:00Z");
        for (i, event) in events.iter().enumerate() {
            let now = start + Duration::minutes(i64::try_from(i).unwrap());
            world.step(event, now)?;
            world.check_opt_out_law(now)?;
            // Law (c), asked directly: once the request is out, never again.
            if let Some(record) = &world.record
                && record.opt_in_sms.is_done()
            {
                prop_assert_ne!(
                    world.decide(MessageKind::OptInRequest, &always_open(), now),
                    GateDecision::Allow
                );
            }
        }
        world.check_totals()?;
    }
}

// --- end to end, through Services ------------------------------------------------------------------

const NUMBERS: [&str; 3] = ["+14155550101", "+14155550102", "+12125550103"];

#[derive(Debug, Clone)]
enum Op {
    Create {
        contact: u8,
        number: u8,
    },
    Text {
        number: u8,
        id: u8,
        text: &'static str,
        offset_secs: i64,
    },
    ConfirmEmail {
        number: u8,
    },
    Send {
        number: u8,
    },
    Batch {
        numbers: Vec<u8>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let number = 0u8..3;
    prop_oneof![
        3 => (0u8..4, number.clone()).prop_map(|(contact, number)| Op::Create { contact, number }),
        8 => (number.clone(), 0u8..12, proptest::sample::select(TEXTS), -1_800i64..300)
            .prop_map(|(number, id, text, offset_secs)| Op::Text { number, id, text, offset_secs }),
        2 => number.clone().prop_map(|number| Op::ConfirmEmail { number }),
        3 => number.clone().prop_map(|number| Op::Send { number }),
        1 => proptest::collection::vec(number, 1..5).prop_map(|numbers| Op::Batch { numbers }),
    ]
}

/// What the spec says a firm message to a number in this state becomes.
fn expected_send(status: Option<ConsentStatus>) -> SendOutcome {
    match status {
        None => SendOutcome::Blocked {
            reason: BlockReason::UnknownRecipient,
            rule: None,
        },
        Some(ConsentStatus::Pending) => SendOutcome::Blocked {
            reason: BlockReason::NotOptedIn,
            rule: None,
        },
        Some(ConsentStatus::OptedOut) => SendOutcome::Blocked {
            reason: BlockReason::OptedOut,
            rule: None,
        },
        Some(ConsentStatus::OptedIn) => SendOutcome::Sent {
            message_id: String::new(),
        },
    }
}

fn same_decision(actual: &SendOutcome, expected: &SendOutcome) -> bool {
    match (actual, expected) {
        (SendOutcome::Sent { .. }, SendOutcome::Sent { .. }) => true,
        _ => actual == expected,
    }
}

async fn run_ops(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let h = Harness::daytime().await;
    let mut specs: HashMap<&str, Spec> = HashMap::new();
    let mut contacts: HashMap<u8, &str> = HashMap::new();
    let mut seen_ids: HashSet<String> = HashSet::new();
    let mut emails_expected = 0;

    for (i, op) in ops.iter().enumerate() {
        let now = t(common::DAYTIME) + Duration::minutes(i64::try_from(i).unwrap());
        h.set_now(now);
        let before: HashMap<&str, usize> = NUMBERS
            .iter()
            .map(|n| (*n, h.outbox.sms_to(n).len()))
            .collect();
        // The SMS kinds each number should receive during this op.
        let mut expected: HashMap<&str, Vec<SentKind>> = HashMap::new();

        match op {
            Op::Create { contact, number } => {
                let number = NUMBERS[usize::from(*number)];
                let same_again = contacts.get(contact) == Some(&number);
                let spec = specs.entry(number).or_default();
                let expect = if same_again {
                    Expect::Nothing
                } else {
                    spec.created(true, now)
                };
                contacts.insert(*contact, number);
                let email = format!("contact{contact}@example.com");
                let created = h
                    .services
                    .create_contact(
                        FIRM_ID,
                        contact_with_email(&format!("c-{contact}"), number, &email),
                    )
                    .await
                    .map_err(|e| TestCaseError::fail(format!("create failed: {e:?}")))?;
                prop_assert_eq!(Some(created.status), spec.status());
                if expect == Expect::Request {
                    expected.insert(number, vec![SentKind::OptInRequest]);
                    emails_expected += 1;
                }
            }
            Op::Text {
                number,
                id,
                text,
                offset_secs,
            } => {
                let number = NUMBERS[usize::from(*number)];
                let id = format!("in-{id}");
                let received_at = now + Duration::seconds(*offset_secs);
                let spec = specs.entry(number).or_default();
                let fresh = seen_ids.insert(id.clone());
                let expect = if fresh {
                    spec.text(text, received_at, now)
                } else {
                    Expect::Nothing
                };
                let outcome = h
                    .services
                    .receive_sms(inbound(number, &id, text, received_at))
                    .await
                    .map_err(|e| TestCaseError::fail(format!("inbound failed: {e:?}")))?;
                prop_assert_eq!(outcome.duplicate, !fresh, "{}", id);
                prop_assert_eq!(outcome.status, spec.status(), "{:?} {}", text, id);
                let kinds = match expect {
                    Expect::OptInConfirmation => vec![SentKind::OptInConfirmation],
                    Expect::OptOutConfirmation => vec![SentKind::OptOutConfirmation],
                    Expect::Help => vec![SentKind::Help],
                    Expect::Nothing | Expect::Request => vec![],
                };
                expected.insert(number, kinds);
            }
            Op::ConfirmEmail { number } => {
                let number = NUMBERS[usize::from(*number)];
                let spec = specs.entry(number).or_default();
                let had_record = spec.state.is_some();
                let was = spec.status();
                let expect = spec.email_confirmed(now);
                let token =
                    h.services
                        .token_keys()
                        .expect("token keys")
                        .sign(&ConfirmationClaims {
                            firm_id: FIRM_ID.to_string(),
                            phone: phone(number),
                            contact_id: "c-0".to_string(),
                            expires_at: now + Duration::days(14),
                        });
                let result = h.services.confirm_email(&token, None, None).await;
                match (had_record, result) {
                    (false, Err(_)) => {}
                    (true, Ok((view, result))) => {
                        prop_assert_eq!(Some(view.status), spec.status());
                        let expected_result = match was {
                            Some(ConsentStatus::Pending) => ConfirmResult::Confirmed,
                            Some(ConsentStatus::OptedOut) => ConfirmResult::OptedOut,
                            _ => ConfirmResult::AlreadyConfirmed,
                        };
                        prop_assert_eq!(result, expected_result);
                    }
                    (had, other) => {
                        return Err(TestCaseError::fail(format!(
                            "confirm with record={had}: {other:?}"
                        )));
                    }
                }
                if expect == Expect::OptInConfirmation {
                    expected.insert(number, vec![SentKind::OptInConfirmation]);
                }
            }
            Op::Send { number } => {
                let number = NUMBERS[usize::from(*number)];
                let want = expected_send(specs.entry(number).or_default().status());
                let outcome = h
                    .services
                    .gate
                    .send(&h.firm, &firm_message(number, &format!("op {i}")))
                    .await
                    .map_err(|e| TestCaseError::fail(format!("send failed: {e:?}")))?;
                prop_assert!(
                    same_decision(&outcome, &want),
                    "{:?} vs {:?}",
                    outcome,
                    want
                );
                if matches!(want, SendOutcome::Sent { .. }) {
                    expected.insert(number, vec![SentKind::FirmMessage]);
                }
            }
            Op::Batch { numbers } => {
                let numbers: Vec<&str> = numbers.iter().map(|n| NUMBERS[usize::from(*n)]).collect();
                let requests: Vec<_> = numbers
                    .iter()
                    .enumerate()
                    .map(|(j, n)| firm_message(n, &format!("op {i}.{j}")))
                    .collect();
                let results = h
                    .services
                    .gate
                    .send_batch(&h.firm, &requests)
                    .await
                    .map_err(|e| TestCaseError::fail(format!("batch failed: {e:?}")))?;
                prop_assert_eq!(results.len(), numbers.len());
                for (number, result) in numbers.iter().zip(results) {
                    let outcome =
                        result.map_err(|e| TestCaseError::fail(format!("batch item: {e:?}")))?;
                    let want = expected_send(specs.entry(number).or_default().status());
                    prop_assert!(
                        same_decision(&outcome, &want),
                        "{:?} vs {:?}",
                        outcome,
                        want
                    );
                    if matches!(want, SendOutcome::Sent { .. }) {
                        expected
                            .entry(number)
                            .or_default()
                            .push(SentKind::FirmMessage);
                    }
                }
            }
        }

        for number in NUMBERS {
            let sent: Vec<SentKind> = h.sms_kinds(number)[before[number]..].to_vec();
            let want = expected.remove(number).unwrap_or_default();
            prop_assert_eq!(&sent, &want, "to {} after {:?}", number, op);
            let stored = h
                .store
                .get_consent(FIRM_ID, &phone(number))
                .await
                .map_err(|e| TestCaseError::fail(e.to_string()))?
                .map(|r| r.status);
            prop_assert_eq!(
                stored,
                specs.entry(number).or_default().status(),
                "{}",
                number
            );
        }
    }

    // The laws over the whole outbox.
    for number in NUMBERS {
        let spec = specs.entry(number).or_default();
        let kinds = h.sms_kinds(number);
        let count = |kind| kinds.iter().filter(|k| **k == kind).count();
        prop_assert!(!kinds.contains(&SentKind::Unknown), "{:?}", kinds);
        // Exactly one opt-in request per number ever asked.
        prop_assert_eq!(
            count(SentKind::OptInRequest),
            usize::from(spec.requested),
            "{}",
            number
        );
        // Exactly one opt-out confirmation per opt-out episode handled in time.
        prop_assert_eq!(
            count(SentKind::OptOutConfirmation),
            spec.confirmations,
            "{}",
            number
        );
        // No firm message between an opt-out and the next opt-in.
        let mut opted_out = false;
        for kind in &kinds {
            match kind {
                SentKind::OptOutConfirmation => opted_out = true,
                SentKind::OptInConfirmation => opted_out = false,
                SentKind::FirmMessage => {
                    prop_assert!(!opted_out, "a firm message after an opt-out: {:?}", kinds);
                }
                _ => {}
            }
        }
    }
    prop_assert_eq!(h.outbox.contents().email.len(), emails_expected);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn flows_obey_the_laws(ops in proptest::collection::vec(op(), 1..30)) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(run_ops(ops))?;
    }
}
