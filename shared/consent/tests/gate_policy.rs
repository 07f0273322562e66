//! The ordered gate policy (docs/architecture.md §5.3), rule by rule, through `gate::decide`.

use chrono::{DateTime, Utc};
use consent::model::gate::{BlockReason, GateDecision, GateQuestion, MessageKind, decide};
use consent::model::phone::PhoneNumber;
use consent::model::quiet_hours::SendWindow;
use consent::model::record::{ConsentBasis, ConsentRecord, ConsentStatus, Delivery};
use consent::model::state_rules::RuleId;
use consent::model::transition::{ConsentEvent, apply};

const ALL_KINDS: [MessageKind; 5] = [
    MessageKind::OptInRequest,
    MessageKind::OptInConfirmation,
    MessageKind::OptOutConfirmation,
    MessageKind::HelpReply,
    MessageKind::FirmMessage,
];

fn t(text: &str) -> DateTime<Utc> {
    text.parse().expect("a valid RFC 3339 instant")
}

fn phone() -> PhoneNumber {
    PhoneNumber::parse("+14155550134").expect("a valid number")
}

/// Daytime in San Francisco (10:00 PST).
fn day() -> DateTime<Utc> {
    t("2026-12-01T18:00:00Z")
}

/// Night in San Francisco (06:00 PST).
fn night() -> DateTime<Utc> {
    t("2026-12-01T14:00:00Z")
}

fn always_open() -> SendWindow {
    SendWindow {
        zones: vec![chrono_tz::UTC],
        opens_hour: 0,
        closes_hour: 24,
        rules: Vec::new(),
    }
}

fn san_francisco() -> SendWindow {
    SendWindow {
        zones: vec![chrono_tz::America::Los_Angeles],
        opens_hour: 8,
        closes_hour: 21,
        rules: Vec::new(),
    }
}

/// A record in `status` with `basis`, built from a new record so fields added later keep their
/// defaults.
fn record(status: ConsentStatus, basis: ConsentBasis) -> ConsentRecord {
    let created = ConsentEvent::ContactCreated {
        contact_id: "c-1".to_string(),
        source: None,
        email: None,
        double_opt_in: true,
        time_zone: None,
    };
    let mut record = apply(None, "firm-1", &phone(), created, t("2026-11-01T12:00:00Z"))
        .record
        .expect("a new contact creates a record");
    record.status = status;
    record.basis = basis;
    record.version = 3;
    record.status_changed_at = t("2026-11-02T12:00:00Z");
    record.updated_at = t("2026-11-02T12:00:00Z");
    record
}

fn ask(
    record: Option<&ConsentRecord>,
    double_opt_in: bool,
    kind: MessageKind,
    window: &SendWindow,
    now: DateTime<Utc>,
) -> GateDecision {
    decide(GateQuestion {
        record,
        double_opt_in,
        kind,
        window,
        now,
        category: consent::model::gate::MessageCategory::Marketing,
        limits: consent::model::caps::SendLimits::default(),
    })
}

/// Asks at daytime with an always-open window and double opt-in on.
fn ask_simple(record: Option<&ConsentRecord>, kind: MessageKind) -> GateDecision {
    ask(record, true, kind, &always_open(), day())
}

fn blocked(reason: BlockReason) -> GateDecision {
    GateDecision::Block { reason, rule: None }
}

// --- rule 1: unknown -----------------------------------------------------------------------------

#[test]
fn unknown_number_is_blocked_for_every_kind_but_help() {
    for kind in ALL_KINDS
        .into_iter()
        .filter(|k| *k != MessageKind::HelpReply)
    {
        for double_opt_in in [true, false] {
            for (window, now) in [(always_open(), day()), (san_francisco(), night())] {
                assert_eq!(
                    ask(None, double_opt_in, kind, &window, now),
                    blocked(BlockReason::UnknownRecipient),
                    "{kind:?}"
                );
            }
        }
    }
}

#[test]
fn help_from_an_unknown_number_is_answered_at_any_hour() {
    for (window, now) in [(always_open(), day()), (san_francisco(), night())] {
        assert_eq!(
            ask(None, true, MessageKind::HelpReply, &window, now),
            GateDecision::Allow
        );
    }
}

// --- rule 2: opted out -----------------------------------------------------------------------

#[test]
fn opted_out_blocks_everything_but_the_confirmation_and_help() {
    for basis in [ConsentBasis::SmsReply, ConsentBasis::Carrier] {
        for sent in [false, true] {
            let mut r = record(ConsentStatus::OptedOut, basis);
            r.opt_out_confirmation_sent = sent;
            for kind in [
                MessageKind::OptInRequest,
                MessageKind::OptInConfirmation,
                MessageKind::FirmMessage,
            ] {
                for double_opt_in in [true, false] {
                    assert_eq!(
                        ask(Some(&r), double_opt_in, kind, &always_open(), day()),
                        blocked(BlockReason::OptedOut),
                        "{basis:?} {kind:?}"
                    );
                }
            }
            assert_eq!(
                ask_simple(Some(&r), MessageKind::HelpReply),
                GateDecision::Allow
            );
        }
    }
}

#[test]
fn opted_out_lets_the_one_confirmation_through_once() {
    let mut r = record(ConsentStatus::OptedOut, ConsentBasis::SmsReply);
    r.status_changed_at = day() - chrono::Duration::minutes(1);
    assert_eq!(
        ask_simple(Some(&r), MessageKind::OptOutConfirmation),
        GateDecision::Allow
    );
    r.opt_out_confirmation_sent = true;
    assert_eq!(
        ask_simple(Some(&r), MessageKind::OptOutConfirmation),
        blocked(BlockReason::OptedOut),
        "a second confirmation is blocked"
    );
}

#[test]
fn the_opt_out_confirmation_is_owed_only_within_five_minutes_of_the_revocation() {
    let mut r = record(ConsentStatus::OptedOut, ConsentBasis::SmsReply);
    r.status_changed_at = day() - chrono::Duration::minutes(5);
    assert_eq!(
        ask_simple(Some(&r), MessageKind::OptOutConfirmation),
        GateDecision::Allow,
        "five minutes to the second still counts"
    );
    r.status_changed_at = day() - chrono::Duration::minutes(5) - chrono::Duration::seconds(1);
    assert_eq!(
        ask_simple(Some(&r), MessageKind::OptOutConfirmation),
        blocked(BlockReason::ConfirmationWindowPassed)
    );
    assert_eq!(
        ask_simple(Some(&r), MessageKind::HelpReply),
        GateDecision::Allow,
        "HELP is answered whenever it comes"
    );
}

#[test]
fn opted_out_blocks_even_with_an_opt_in_request_never_sent() {
    // A STOP that came before the contact: the request must never go.
    let r = record(ConsentStatus::OptedOut, ConsentBasis::SmsReply);
    assert_eq!(r.opt_in_sms, Delivery::NotSent);
    assert_eq!(
        ask_simple(Some(&r), MessageKind::OptInRequest),
        blocked(BlockReason::OptedOut)
    );
}

// --- rule 3: pending -------------------------------------------------------------------------

#[test]
fn pending_lets_the_one_opt_in_request_through_until_it_is_claimed() {
    let not_yet = [Delivery::NotSent, Delivery::Deferred { not_before: day() }];
    for delivery in not_yet {
        let mut r = record(ConsentStatus::Pending, ConsentBasis::OptInRequested);
        r.opt_in_sms = delivery.clone();
        assert_eq!(
            ask_simple(Some(&r), MessageKind::OptInRequest),
            GateDecision::Allow,
            "{delivery:?}"
        );
    }
    let done = [
        Delivery::Claimed { at: day() },
        Delivery::Sent {
            provider_message_id: "m-1".to_string(),
            at: day(),
        },
        Delivery::Skipped,
    ];
    for delivery in done {
        let mut r = record(ConsentStatus::Pending, ConsentBasis::OptInRequested);
        r.opt_in_sms = delivery.clone();
        assert_eq!(
            ask_simple(Some(&r), MessageKind::OptInRequest),
            blocked(BlockReason::NotOptedIn),
            "{delivery:?}: no second opt-in request"
        );
    }
}

#[test]
fn pending_lets_help_through_and_blocks_the_rest_as_not_opted_in() {
    for delivery in [
        Delivery::NotSent,
        Delivery::Sent {
            provider_message_id: "m-1".to_string(),
            at: day(),
        },
    ] {
        let mut r = record(ConsentStatus::Pending, ConsentBasis::OptInRequested);
        r.opt_in_sms = delivery;
        assert_eq!(
            ask_simple(Some(&r), MessageKind::HelpReply),
            GateDecision::Allow
        );
        for kind in [
            MessageKind::FirmMessage,
            MessageKind::OptInConfirmation,
            MessageKind::OptOutConfirmation,
        ] {
            for double_opt_in in [true, false] {
                assert_eq!(
                    ask(Some(&r), double_opt_in, kind, &always_open(), day()),
                    blocked(BlockReason::NotOptedIn),
                    "{kind:?}"
                );
            }
        }
    }
}

// --- rule 4: opted in ------------------------------------------------------------------------

#[test]
fn opted_in_allows_firm_messages_and_replies() {
    for basis in [ConsentBasis::SmsReply, ConsentBasis::EmailConfirmation] {
        let r = record(ConsentStatus::OptedIn, basis);
        for double_opt_in in [true, false] {
            for kind in [
                MessageKind::FirmMessage,
                MessageKind::OptInConfirmation,
                MessageKind::HelpReply,
            ] {
                assert_eq!(
                    ask(Some(&r), double_opt_in, kind, &always_open(), day()),
                    GateDecision::Allow,
                    "{basis:?} {kind:?}"
                );
            }
        }
    }
}

#[test]
fn opted_in_never_gets_an_opt_in_request_or_an_opt_out_confirmation() {
    let r = record(ConsentStatus::OptedIn, ConsentBasis::SmsReply);
    for kind in [MessageKind::OptInRequest, MessageKind::OptOutConfirmation] {
        assert_eq!(
            ask_simple(Some(&r), kind),
            blocked(BlockReason::NotOptedIn),
            "{kind:?}"
        );
    }
}

#[test]
fn firm_attested_is_allowed_only_while_double_opt_in_is_off() {
    let r = record(ConsentStatus::OptedIn, ConsentBasis::FirmAttested);
    assert_eq!(
        ask(
            Some(&r),
            false,
            MessageKind::FirmMessage,
            &always_open(),
            day()
        ),
        GateDecision::Allow
    );
    assert_eq!(
        ask(
            Some(&r),
            true,
            MessageKind::FirmMessage,
            &always_open(),
            day()
        ),
        blocked(BlockReason::NotOptedIn),
        "double opt-in back on: the attestation no longer counts"
    );
}

#[test]
fn help_reply_passes_for_a_firm_attested_number_after_double_opt_in_is_back_on() {
    // HELP is an answer that passes in every state with a record (rules 2 and 3); a
    // firm-attested number with double opt-in back on is in effect not opted in.
    let r = record(ConsentStatus::OptedIn, ConsentBasis::FirmAttested);
    assert_eq!(
        ask(
            Some(&r),
            true,
            MessageKind::HelpReply,
            &san_francisco(),
            night()
        ),
        GateDecision::Allow
    );
}

// --- rule 5: quiet hours ---------------------------------------------------------------------

#[test]
fn replies_ignore_quiet_hours() {
    let window = san_francisco();
    assert!(!window.is_open(night()));
    let opted_in = record(ConsentStatus::OptedIn, ConsentBasis::SmsReply);
    let mut opted_out = record(ConsentStatus::OptedOut, ConsentBasis::SmsReply);
    // A STOP just received at night: its confirmation goes at once.
    opted_out.status_changed_at = night();
    let pending = record(ConsentStatus::Pending, ConsentBasis::OptInRequested);
    let cases = [
        (&opted_in, MessageKind::OptInConfirmation),
        (&opted_in, MessageKind::HelpReply),
        (&opted_out, MessageKind::OptOutConfirmation),
        (&opted_out, MessageKind::HelpReply),
        (&pending, MessageKind::HelpReply),
    ];
    for (r, kind) in cases {
        assert_eq!(
            ask(Some(r), true, kind, &window, night()),
            GateDecision::Allow,
            "{:?} {kind:?}",
            r.status
        );
    }
}

#[test]
fn firm_message_inside_quiet_hours_is_deferred_to_the_window_opening() {
    let window = san_francisco();
    let r = record(ConsentStatus::OptedIn, ConsentBasis::SmsReply);
    let decision = ask(Some(&r), true, MessageKind::FirmMessage, &window, night());
    assert_eq!(
        decision,
        GateDecision::Defer {
            not_before: t("2026-12-01T16:00:00Z"),
            rule: RuleId::Tcpa,
        },
        "06:00 PST defers to 08:00 PST"
    );
    assert_eq!(
        Some(t("2026-12-01T16:00:00Z")),
        window.next_open(night()),
        "the same instant the window reports"
    );
    // After 21:00 local: the next morning.
    assert_eq!(
        ask(
            Some(&r),
            true,
            MessageKind::FirmMessage,
            &window,
            t("2026-12-02T05:30:00Z")
        ),
        GateDecision::Defer {
            not_before: t("2026-12-02T16:00:00Z"),
            rule: RuleId::Tcpa,
        }
    );
}

#[test]
fn the_window_edges_are_open_at_eight_and_closed_at_nine_pm() {
    let window = san_francisco();
    let r = record(ConsentStatus::OptedIn, ConsentBasis::SmsReply);
    let firm = |now| ask(Some(&r), true, MessageKind::FirmMessage, &window, now);
    assert_eq!(
        firm(t("2026-12-01T16:00:00Z")),
        GateDecision::Allow,
        "08:00"
    );
    assert_eq!(
        firm(t("2026-12-02T04:59:59Z")),
        GateDecision::Allow,
        "20:59:59"
    );
    assert!(
        matches!(firm(t("2026-12-02T05:00:00Z")), GateDecision::Defer { .. }),
        "21:00"
    );
}

#[test]
fn florida_numbers_defer_from_eight_pm() {
    let miami = PhoneNumber::parse("+13055550134").unwrap();
    let window = SendWindow::for_recipient(&miami, None, None);
    let mut r = record(ConsentStatus::OptedIn, ConsentBasis::SmsReply);
    r.phone = miami;
    // 20:30 EST on 1 Dec → 08:00 EST on 2 Dec.
    assert_eq!(
        ask(
            Some(&r),
            true,
            MessageKind::FirmMessage,
            &window,
            t("2026-12-02T01:30:00Z")
        ),
        GateDecision::Defer {
            not_before: t("2026-12-02T13:00:00Z"),
            rule: RuleId::Florida,
        }
    );
    assert_eq!(
        ask(
            Some(&r),
            true,
            MessageKind::FirmMessage,
            &window,
            t("2026-12-02T00:30:00Z")
        ),
        GateDecision::Allow,
        "19:30 EST"
    );
}

#[test]
fn the_opt_in_request_respects_quiet_hours() {
    let r = record(ConsentStatus::Pending, ConsentBasis::OptInRequested);
    assert_eq!(
        ask(
            Some(&r),
            true,
            MessageKind::OptInRequest,
            &san_francisco(),
            night()
        ),
        GateDecision::Defer {
            not_before: t("2026-12-01T16:00:00Z"),
            rule: RuleId::Tcpa,
        }
    );
}

#[test]
fn the_opt_in_request_waits_for_the_window_even_when_transactional_messages_are_exempt() {
    let pending = record(ConsentStatus::Pending, ConsentBasis::OptInRequested);
    let opted_in = record(ConsentStatus::OptedIn, ConsentBasis::SmsReply);
    let exempt = |record: &ConsentRecord, kind| {
        decide(GateQuestion {
            record: Some(record),
            double_opt_in: true,
            kind,
            window: &san_francisco(),
            now: night(),
            category: consent::model::gate::MessageCategory::Transactional,
            limits: consent::model::caps::SendLimits {
                transactional_exempt: true,
                ..Default::default()
            },
        })
    };
    assert_eq!(
        exempt(&pending, MessageKind::OptInRequest),
        GateDecision::Defer {
            not_before: t("2026-12-01T16:00:00Z"),
            rule: RuleId::Tcpa,
        }
    );
    assert_eq!(
        exempt(&opted_in, MessageKind::FirmMessage),
        GateDecision::Allow,
        "the firm's own transactional message is exempt"
    );
}

#[test]
fn a_block_wins_over_quiet_hours() {
    let window = san_francisco();
    let opted_out = record(ConsentStatus::OptedOut, ConsentBasis::SmsReply);
    let pending = record(ConsentStatus::Pending, ConsentBasis::OptInRequested);
    assert_eq!(
        ask(
            Some(&opted_out),
            true,
            MessageKind::FirmMessage,
            &window,
            night()
        ),
        blocked(BlockReason::OptedOut)
    );
    assert_eq!(
        ask(
            Some(&pending),
            true,
            MessageKind::FirmMessage,
            &window,
            night()
        ),
        blocked(BlockReason::NotOptedIn)
    );
    assert_eq!(
        ask(None, true, MessageKind::FirmMessage, &window, night()),
        blocked(BlockReason::UnknownRecipient)
    );
}

#[test]
fn the_contact_zone_decides_the_window() {
    // A San Francisco number whose contact lives in New York: 07:30 EST is closed, even
    // though it is 04:30 in California either way; at 08:00 EST it opens.
    let window = SendWindow::for_recipient(&phone(), Some(chrono_tz::America::New_York), None);
    let r = record(ConsentStatus::OptedIn, ConsentBasis::SmsReply);
    assert_eq!(
        ask(
            Some(&r),
            true,
            MessageKind::FirmMessage,
            &window,
            t("2026-12-01T12:30:00Z")
        ),
        GateDecision::Defer {
            not_before: t("2026-12-01T13:00:00Z"),
            rule: RuleId::Tcpa,
        }
    );
}

#[test]
fn block_reasons_have_their_wire_names() {
    assert_eq!(BlockReason::UnknownRecipient.as_str(), "unknown_recipient");
    assert_eq!(BlockReason::OptedOut.as_str(), "opted_out");
    assert_eq!(BlockReason::NotOptedIn.as_str(), "not_opted_in");
    assert_eq!(
        serde_json::to_value(blocked(BlockReason::OptedOut)).unwrap(),
        serde_json::json!({"decision": "block", "reason": "opted_out"})
    );
}

#[test]
fn only_answers_are_replies() {
    assert!(MessageKind::OptInConfirmation.is_reply());
    assert!(MessageKind::OptOutConfirmation.is_reply());
    assert!(MessageKind::HelpReply.is_reply());
    assert!(!MessageKind::OptInRequest.is_reply());
    assert!(!MessageKind::FirmMessage.is_reply());
}

// --- state calling rules (DESIGN §3) -------------------------------------------------------------

/// The gate's decision on a marketing firm message to `r` at `at`, double opt-in on.
fn firm_message_at(r: &ConsentRecord, window: &SendWindow, at: &str) -> GateDecision {
    ask(Some(r), true, MessageKind::FirmMessage, window, t(at))
}

/// An opted-in record on `number`.
fn opted_in_on(number: &str) -> ConsentRecord {
    let mut r = record(ConsentStatus::OptedIn, ConsentBasis::SmsReply);
    r.phone = PhoneNumber::parse(number).expect("a valid number");
    r
}

#[test]
fn a_texas_number_on_a_sunday_morning_waits_for_noon() {
    let r = opted_in_on("+15125550134");
    let window = SendWindow::for_recipient(&r.phone, None, None);
    // Sunday 6 Dec 2026, 10:30 CST → 12:00 CST, named by the Texas rule.
    assert_eq!(
        firm_message_at(&r, &window, "2026-12-06T16:30:00Z"),
        GateDecision::Defer {
            not_before: t("2026-12-06T18:00:00Z"),
            rule: RuleId::Texas,
        }
    );
    // Saturday 10:30 CST is open; Monday 08:30 CST waits for 09:00.
    assert_eq!(
        firm_message_at(&r, &window, "2026-12-05T16:30:00Z"),
        GateDecision::Allow
    );
    assert_eq!(
        firm_message_at(&r, &window, "2026-12-07T14:30:00Z"),
        GateDecision::Defer {
            not_before: t("2026-12-07T15:00:00Z"),
            rule: RuleId::Texas,
        }
    );
}

#[test]
fn a_connecticut_number_waits_for_nine_and_stops_at_eight() {
    let r = opted_in_on("+12035550134");
    let window = SendWindow::for_recipient(&r.phone, None, None);
    // Monday 7 Dec 2026, 08:30 EST → 09:00 EST, named by the Connecticut rule.
    assert_eq!(
        firm_message_at(&r, &window, "2026-12-07T13:30:00Z"),
        GateDecision::Defer {
            not_before: t("2026-12-07T14:00:00Z"),
            rule: RuleId::Connecticut,
        }
    );
    // 20:30 EST, open under the TCPA, waits for 09:00 the next day.
    assert_eq!(
        firm_message_at(&r, &window, "2026-12-08T01:30:00Z"),
        GateDecision::Defer {
            not_before: t("2026-12-08T14:00:00Z"),
            rule: RuleId::Connecticut,
        }
    );
    assert_eq!(
        firm_message_at(&r, &window, "2026-12-07T15:00:00Z"),
        GateDecision::Allow
    );
}

#[test]
fn the_texas_rule_applies_from_its_effective_date() {
    let r = opted_in_on("+15125550134");
    let window = SendWindow::for_recipient(&r.phone, None, None);
    // Sunday 31 Aug 2025, 10:30 CDT: the day before SB 140, only the TCPA's 8:00–21:00.
    assert_eq!(
        firm_message_at(&r, &window, "2025-08-31T15:30:00Z"),
        GateDecision::Allow
    );
}

#[test]
fn a_maryland_number_at_half_past_eight_pm_waits_for_the_morning() {
    let r = opted_in_on("+14105550134");
    let window = SendWindow::for_recipient(&r.phone, None, None);
    // 20:30 EST on Tuesday 1 Dec → 08:00 EST on 2 Dec.
    assert_eq!(
        firm_message_at(&r, &window, "2026-12-02T01:30:00Z"),
        GateDecision::Defer {
            not_before: t("2026-12-02T13:00:00Z"),
            rule: RuleId::Maryland,
        }
    );
}

#[test]
fn a_florida_resident_with_a_california_number_meets_the_florida_rule() {
    let r = opted_in_on("+14155550134");
    let window = SendWindow::for_resident(&r.phone, Some("FL"), None, None);
    // 20:30 PST: open under the TCPA, closed under the FTSA; 08:00 PST next day.
    assert_eq!(
        firm_message_at(&r, &window, "2026-12-02T04:30:00Z"),
        GateDecision::Defer {
            not_before: t("2026-12-02T16:00:00Z"),
            rule: RuleId::Florida,
        }
    );
    let californian = SendWindow::for_recipient(&r.phone, None, None);
    assert_eq!(
        firm_message_at(&r, &californian, "2026-12-02T04:30:00Z"),
        GateDecision::Allow
    );
}

#[test]
fn a_maryland_number_at_the_cap_waits_for_the_oldest_send_to_leave_the_day() {
    let mut r = opted_in_on("+14105550134");
    let window = SendWindow::for_recipient(&r.phone, None, None);
    let now = t("2026-12-01T17:00:00Z"); // 12:00 EST
    for hours_ago in [1, 2, 3] {
        r.recent_sends
            .count(now - chrono::Duration::hours(hours_ago), true);
    }
    let decide_as = |category| {
        decide(GateQuestion {
            record: Some(&r),
            double_opt_in: true,
            kind: MessageKind::FirmMessage,
            window: &window,
            now,
            category,
            limits: consent::model::caps::SendLimits::default(),
        })
    };
    // The oldest of the three went at 09:00 EST: a place frees at 09:00 EST tomorrow.
    assert_eq!(
        decide_as(consent::model::gate::MessageCategory::Marketing),
        GateDecision::Defer {
            not_before: t("2026-12-02T14:00:00Z"),
            rule: RuleId::Maryland,
        }
    );
    assert_eq!(
        decide_as(consent::model::gate::MessageCategory::Transactional),
        GateDecision::Allow,
        "the statutory cap is on marketing only"
    );
}

#[test]
fn a_cap_block_names_its_rule_on_the_wire() {
    let decision = GateDecision::Block {
        reason: BlockReason::FrequencyCap,
        rule: Some(RuleId::Maryland),
    };
    assert_eq!(
        serde_json::to_value(decision).unwrap(),
        serde_json::json!({"decision": "block", "reason": "frequency_cap", "rule": "md_14_4502"})
    );
}
