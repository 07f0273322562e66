//! A message over a frequency cap is held, not refused (DESIGN §3 gate policy item 5): until the
//! cap has room again (the oldest send it counts leaves the 24 hours) and the calling window is
//! open then, naming the cap's rule; refused `frequency_cap` only when that is more than a day
//! away.

use chrono::{DateTime, Duration, Utc};
use consent::model::caps::SendLimits;
use consent::model::gate::{
    BlockReason, GateDecision, GateQuestion, MessageCategory, MessageKind, decide,
};
use consent::model::phone::PhoneNumber;
use consent::model::quiet_hours::SendWindow;
use consent::model::record::{ConsentBasis, ConsentRecord, ConsentStatus};
use consent::model::state_rules::RuleId;
use consent::model::transition::{ConsentEvent, apply};

fn t(text: &str) -> DateTime<Utc> {
    text.parse().expect("a valid RFC 3339 instant")
}

/// An opted-in record on `number`, built from a new record so later fields keep their defaults.
fn opted_in_on(number: &str) -> ConsentRecord {
    let phone = PhoneNumber::parse(number).expect("a valid number");
    let created = ConsentEvent::ContactCreated {
        contact_id: "c-1".to_string(),
        source: None,
        email: None,
        double_opt_in: false,
        time_zone: None,
    };
    let mut record = apply(None, "firm-1", &phone, created, t("2026-11-01T12:00:00Z"))
        .record
        .expect("a new record");
    assert_eq!(
        (record.status, record.basis),
        (ConsentStatus::OptedIn, ConsentBasis::FirmAttested)
    );
    record.basis = ConsentBasis::SmsReply;
    record
}

fn firm_message(
    record: &ConsentRecord,
    category: MessageCategory,
    limits: SendLimits,
    now: DateTime<Utc>,
) -> GateDecision {
    decide(GateQuestion {
        record: Some(record),
        double_opt_in: true,
        kind: MessageKind::FirmMessage,
        window: &SendWindow::for_recipient(&record.phone, None, None),
        now,
        category,
        limits,
    })
}

#[test]
fn the_cap_frees_when_the_oldest_counted_send_leaves_the_day() {
    let mut r = opted_in_on("+14105550134"); // Maryland
    let now = t("2026-12-01T20:00:00Z"); // 15:00 EST
    for at in [
        "2026-12-01T14:30:00Z",
        "2026-12-01T16:00:00Z",
        "2026-12-01T19:00:00Z",
    ] {
        r.recent_sends.count(t(at), true);
    }
    let marketing = |r: &ConsentRecord, now| {
        firm_message(r, MessageCategory::Marketing, SendLimits::default(), now)
    };
    assert_eq!(
        marketing(&r, now),
        GateDecision::Defer {
            not_before: t("2026-12-02T14:30:00Z"),
            rule: RuleId::Maryland,
        }
    );
    // At that moment there is room: released, it goes.
    assert_eq!(
        marketing(&r, t("2026-12-02T14:30:00Z")),
        GateDecision::Allow
    );
    // A moment before, it would still be held (to the same moment).
    assert_eq!(
        marketing(&r, t("2026-12-02T14:29:59Z")),
        GateDecision::Defer {
            not_before: t("2026-12-02T14:30:00Z"),
            rule: RuleId::Maryland,
        }
    );
}

#[test]
fn a_place_that_frees_at_night_waits_for_the_window_too() {
    let mut r = opted_in_on("+14105550134"); // Maryland, 8:00 to 20:00
    // Three marketing texts late on Tuesday evening (19:30, 19:40, 19:50 EST).
    for at in [
        "2026-12-02T00:30:00Z",
        "2026-12-02T00:40:00Z",
        "2026-12-02T00:50:00Z",
    ] {
        r.recent_sends.count(t(at), true);
    }
    // Wednesday 07:00 EST (closed, and at the cap): room comes at 19:30, inside the window.
    assert_eq!(
        firm_message(
            &r,
            MessageCategory::Marketing,
            SendLimits::default(),
            t("2026-12-02T12:00:00Z")
        ),
        GateDecision::Defer {
            not_before: t("2026-12-03T00:30:00Z"),
            rule: RuleId::Maryland,
        }
    );
    // A firm cap of 2 counts transactional texts too: two sent at 22:00 and 23:00 EST (the firm
    // exempts nothing; these are hand-built) leave room at 22:00 EST, when the window is
    // closed; the message waits for 08:00.
    let mut r = opted_in_on("+14105550134");
    for at in ["2026-12-02T03:00:00Z", "2026-12-02T04:00:00Z"] {
        r.recent_sends.count(t(at), false);
    }
    let capped = SendLimits {
        daily_cap: Some(2),
        transactional_exempt: false,
    };
    assert_eq!(
        firm_message(
            &r,
            MessageCategory::Transactional,
            capped,
            t("2026-12-02T15:00:00Z")
        ),
        GateDecision::Defer {
            not_before: t("2026-12-03T13:00:00Z"),
            rule: RuleId::FirmDailyCap,
        }
    );
}

#[test]
fn the_cap_that_holds_longest_is_named() {
    let mut r = opted_in_on("+14105550134"); // Maryland
    for at in ["2026-12-01T14:00:00Z", "2026-12-01T15:00:00Z"] {
        r.recent_sends.count(t(at), false);
    }
    for at in [
        "2026-12-01T16:00:00Z",
        "2026-12-01T17:00:00Z",
        "2026-12-01T18:00:00Z",
    ] {
        r.recent_sends.count(t(at), true);
    }
    let now = t("2026-12-01T19:00:00Z");
    // Maryland's 3 marketing texts free a place at 16:00 tomorrow; a firm cap of 4 (of every
    // text) at 15:00 tomorrow: the message waits for both, and Maryland's rule holds it last.
    let firm_cap = |cap| SendLimits {
        daily_cap: Some(cap),
        transactional_exempt: false,
    };
    assert_eq!(
        firm_message(&r, MessageCategory::Marketing, firm_cap(4), now),
        GateDecision::Defer {
            not_before: t("2026-12-02T16:00:00Z"),
            rule: RuleId::Maryland,
        }
    );
    // A firm cap of 2 frees later (17:00 tomorrow, a day after the 2nd newest send): the firm's
    // cap holds it last.
    assert_eq!(
        firm_message(&r, MessageCategory::Marketing, firm_cap(2), now),
        GateDecision::Defer {
            not_before: t("2026-12-02T17:00:00Z"),
            rule: RuleId::FirmDailyCap,
        }
    );
}

#[test]
fn a_window_that_cannot_open_within_a_day_blocks() {
    // Texas opens at noon on Sundays. A firm capping at one text a day sent one at 10:00 CST on
    // Saturday; at 10:05 the next place frees at 10:00 on Sunday, and the window only opens at
    // 12:00: more than a day away, so the message is refused, naming the firm's cap.
    let mut r = opted_in_on("+15125550134");
    r.recent_sends.count(t("2026-12-05T16:00:00Z"), false);
    let one_a_day = SendLimits {
        daily_cap: Some(1),
        transactional_exempt: false,
    };
    let now = t("2026-12-05T16:05:00Z");
    assert_eq!(
        firm_message(&r, MessageCategory::Marketing, one_a_day, now),
        GateDecision::Block {
            reason: BlockReason::FrequencyCap,
            rule: Some(RuleId::FirmDailyCap),
        }
    );
    // Sent at 13:00 instead, the place frees at 13:00 on Sunday, inside the window: held.
    let mut r = opted_in_on("+15125550134");
    r.recent_sends.count(t("2026-12-05T19:00:00Z"), false);
    assert_eq!(
        firm_message(
            &r,
            MessageCategory::Marketing,
            one_a_day,
            now + Duration::hours(3)
        ),
        GateDecision::Defer {
            not_before: t("2026-12-06T19:00:00Z"),
            rule: RuleId::FirmDailyCap,
        }
    );
    // A cap of 0 never has room.
    let none = SendLimits {
        daily_cap: Some(0),
        transactional_exempt: false,
    };
    assert!(matches!(
        firm_message(
            &opted_in_on("+15125550134"),
            MessageCategory::Marketing,
            none,
            now
        ),
        GateDecision::Block {
            reason: BlockReason::FrequencyCap,
            ..
        }
    ));
}
