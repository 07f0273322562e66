//! The invariants the fault and race tests check, as functions returning every violation found
//! (empty: all hold). They read only what they need of each audit event (its type and a few
//! fields), so new fields and new event types do not break them.
//!
//! - [`check_trail`]: one number's audit trail, replayed in id order: every status event
//!   matches the status before it (`from`), the replayed status is the record's, every
//!   `message_sent` / `message_failed` refers to an earlier `message_allowed`, no firm message
//!   is allowed unless opted in, no opt-in request unless pending and at most one ever, no
//!   opt-out confirmation unless opted out and at most one per opt-out episode (none owed once
//!   `opt_out_confirmation_skipped` says the five minutes passed), and a
//!   `carrier_opt_in_requested` only after an opt-in from a carrier opt-out, once for each.
//! - [`check_journal`]: the writes a store accepted, in order: a status changes exactly when the
//!   write carries the event saying so, a status or basis changes exactly when the write
//!   carries one `consent.changed` feed event saying so, and every write moves the version by
//!   one.
//! - [`check_sent_against_trail`]: every SMS the provider took was allowed by the gate first.

use std::collections::{BTreeMap, HashMap};

use consent::evidence::audit::{AuditEvent, AuditKind};
use consent::model::feed::FeedChange;
use consent::model::gate::MessageKind;
use consent::model::record::{ConsentBasis, ConsentStatus};
use consent::ports::ConsentWrite;

/// What a number's trail says happened, for the checks and for the tests' own assertions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrailSummary {
    /// The status replayed from the status events.
    pub status: Option<ConsentStatus>,
    /// Opt-out episodes (each `opted_out` starts one; the next `opted_in` ends it), with the
    /// number of opt-out confirmations allowed (and not failed) in each.
    pub opt_out_episodes: Vec<usize>,
    /// Opt-in requests allowed and not failed.
    pub opt_in_requests: usize,
    /// Message kind of every allowed body (for reading what the provider took).
    pub kinds_by_body: HashMap<String, MessageKind>,
}

fn kind_name(kind: MessageKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Replays one number's audit trail (any order; it is sorted by id here) against the record's
/// final status. `lossy_final_episode`: the caller accepts that the opt-out confirmation of a
/// still-open episode was lost in a documented at-most-once window (otherwise exactly one is
/// required).
pub fn check_trail(
    label: &str,
    events: &[AuditEvent],
    final_status: Option<ConsentStatus>,
    lossy_final_episode: bool,
) -> (TrailSummary, Vec<String>) {
    let mut problems = Vec::new();
    let mut events: Vec<&AuditEvent> = events.iter().collect();
    events.sort_by(|a, b| a.id.cmp(&b.id));
    for pair in events.windows(2) {
        if pair[0].id == pair[1].id {
            problems.push(format!("{label}: event id {} appears twice", pair[0].id));
        }
    }
    let mut summary = TrailSummary::default();
    let mut status: Option<ConsentStatus> = None;
    // allowed event id -> (kind, failed?, sent?)
    let mut allowed: HashMap<&str, (MessageKind, bool, bool)> = HashMap::new();
    let mut episode_open = false;
    // Whether the last opt-out was the carrier's, and whether the last opt-in re-subscribed
    // from it without the carrier being asked yet to lift it.
    let (mut carrier_opted_out, mut carrier_opt_in_owed) = (false, false);
    for event in &events {
        let at = format!("{label}: {} {}", event.type_name(), event.id);
        match &event.kind {
            AuditKind::ContactCreated {
                existing_status,
                double_opt_in,
                ..
            } => {
                if *existing_status != status {
                    problems.push(format!(
                        "{at}: says the status was {existing_status:?}, the trail says {status:?}"
                    ));
                }
                if status.is_none() && *double_opt_in {
                    status = Some(ConsentStatus::Pending);
                }
            }
            AuditKind::OptedIn { from, .. } => {
                if *from != status {
                    problems.push(format!(
                        "{at}: opted in from {from:?}, the trail says {status:?}"
                    ));
                }
                if status == Some(ConsentStatus::OptedIn) {
                    problems.push(format!("{at}: opted in while already opted in"));
                }
                carrier_opt_in_owed = *from == Some(ConsentStatus::OptedOut) && carrier_opted_out;
                status = Some(ConsentStatus::OptedIn);
                episode_open = false;
            }
            AuditKind::CarrierOptInRequested { .. } => {
                if !carrier_opt_in_owed {
                    problems.push(format!(
                        "{at}: the carrier was asked to lift an opt-out, but no opt-in from a \
                         carrier opt-out is waiting for it"
                    ));
                }
                carrier_opt_in_owed = false;
            }
            AuditKind::OptedOut { from, basis, .. } => {
                if *from != status {
                    problems.push(format!(
                        "{at}: opted out from {from:?}, the trail says {status:?}"
                    ));
                }
                if status == Some(ConsentStatus::OptedOut) {
                    problems.push(format!("{at}: opted out while already opted out"));
                }
                status = Some(ConsentStatus::OptedOut);
                summary.opt_out_episodes.push(0);
                carrier_opted_out = *basis == ConsentBasis::Carrier;
                // The carrier has answered, and a decline on the email page is its own answer:
                // neither owes the opt-out confirmation.
                episode_open = !matches!(basis, ConsentBasis::Carrier | ConsentBasis::EmailDecline);
            }
            AuditKind::OptOutRecorded {
                from,
                confirmation_requested,
                ..
            } => {
                if *from != status {
                    problems.push(format!(
                        "{at}: recorded an opt-out from {from:?}, the trail says {status:?}"
                    ));
                }
                // Recorded beside an earlier revocation, it changes nothing. A confirmation is
                // owed only when the contact asked the staff for one.
                if status != Some(ConsentStatus::OptedOut) {
                    status = Some(ConsentStatus::OptedOut);
                    summary.opt_out_episodes.push(0);
                    episode_open = *confirmation_requested;
                    carrier_opted_out = false;
                }
            }
            AuditKind::OptOutConfirmationSkipped { .. } => {
                if status != Some(ConsentStatus::OptedOut) {
                    problems.push(format!(
                        "{at}: an opt-out confirmation skipped while the status was {status:?}"
                    ));
                }
                // Skipped past the five minutes: the episode owes nothing any more.
                episode_open = false;
            }
            AuditKind::MessageAllowed { kind, body, .. } => {
                summary.kinds_by_body.insert(body.clone(), *kind);
                allowed.insert(event.id.as_str(), (*kind, false, false));
                let ok = match kind {
                    MessageKind::FirmMessage => status == Some(ConsentStatus::OptedIn),
                    MessageKind::OptInRequest => status == Some(ConsentStatus::Pending),
                    MessageKind::OptOutConfirmation => {
                        status == Some(ConsentStatus::OptedOut) && episode_open
                    }
                    MessageKind::OptInConfirmation => status == Some(ConsentStatus::OptedIn),
                    // HELP is answered in every state, even with no record (CTIA).
                    MessageKind::HelpReply => true,
                };
                if !ok {
                    problems.push(format!(
                        "{at}: a {} was allowed while the status was {status:?}",
                        kind_name(*kind)
                    ));
                }
                match kind {
                    MessageKind::OptInRequest => summary.opt_in_requests += 1,
                    MessageKind::OptOutConfirmation => {
                        if let Some(count) = summary.opt_out_episodes.last_mut() {
                            *count += 1;
                        }
                    }
                    _ => {}
                }
            }
            AuditKind::MessageSent {
                allowed_event_id, ..
            }
            | AuditKind::MessageFailed {
                allowed_event_id, ..
            }
            | AuditKind::MessageUnconfirmed {
                allowed_event_id, ..
            } => {
                // An unconfirmed send may have gone out: it keeps its one-time claim.
                let sent = !matches!(event.kind, AuditKind::MessageFailed { .. });
                match allowed.get_mut(allowed_event_id.as_str()) {
                    None => problems.push(format!(
                        "{at}: refers to {allowed_event_id}, which is no earlier message_allowed"
                    )),
                    Some((kind, failed, was_sent)) => {
                        if *failed || *was_sent {
                            problems.push(format!(
                                "{at}: {allowed_event_id} already had its outcome recorded"
                            ));
                        }
                        if sent {
                            *was_sent = true;
                        } else {
                            *failed = true;
                            // A failed send gives a one-time message back.
                            match kind {
                                MessageKind::OptInRequest => {
                                    summary.opt_in_requests =
                                        summary.opt_in_requests.saturating_sub(1)
                                }
                                MessageKind::OptOutConfirmation => {
                                    if let Some(count) = summary.opt_out_episodes.last_mut() {
                                        *count = count.saturating_sub(1);
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    summary.status = status;
    if status != final_status {
        problems.push(format!(
            "{label}: the trail replays to {status:?}, the record says {final_status:?}"
        ));
    }
    if summary.opt_in_requests > 1 {
        problems.push(format!(
            "{label}: {} opt-in requests allowed",
            summary.opt_in_requests
        ));
    }
    let episodes = summary.opt_out_episodes.len();
    for (index, count) in summary.opt_out_episodes.iter().enumerate() {
        let last = index + 1 == episodes;
        if *count > 1 {
            problems.push(format!(
                "{label}: opt-out episode {index} has {count} opt-out confirmations"
            ));
        }
        // An episode that a later opt-in ended may have had its confirmation blocked by it (the
        // contact said YES before the confirmation's turn); the open one must have it.
        if last && episode_open && *count == 0 && !lossy_final_episode {
            problems.push(format!(
                "{label}: the current opt-out has no opt-out confirmation"
            ));
        }
    }
    (summary, problems)
}

/// One accepted write's feed: one `consent.changed` exactly when the status or its basis
/// changed, saying from what to what.
fn check_feed(
    label: &str,
    write: &ConsentWrite,
    before: Option<(ConsentStatus, ConsentBasis)>,
    after: Option<(ConsentStatus, ConsentBasis)>,
) -> Vec<String> {
    let changes: Vec<_> = write
        .feed
        .iter()
        .filter_map(|e| match e.change {
            FeedChange::ConsentChanged {
                status,
                previous_status,
                basis,
                ..
            } => Some((previous_status, status, basis)),
            FeedChange::ReplyReceived { .. } => None,
        })
        .collect();
    match (before == after, after) {
        (true, _) if changes.is_empty() => Vec::new(),
        (true, _) => vec![format!(
            "{label}: no change of status or basis, but the feed says {changes:?}"
        )],
        (false, Some((status, basis))) => {
            let expected = (before.map(|(s, _)| s), status, basis);
            if changes == [expected] {
                Vec::new()
            } else {
                vec![format!(
                    "{label}: changed {before:?} -> {after:?}, but the feed says {changes:?}"
                )]
            }
        }
        (false, None) => vec![format!("{label}: a record disappeared")],
    }
}

/// Checks a store's accepted writes: per number, a status changes exactly when the write
/// carries the event that says so (`contact_created` for a new pending record, `opted_in`,
/// `opted_out`), with `from` equal to the status before, its feed says so
/// ([`check_feed`]), and each write moves the version by
/// exactly one. The writes are put in the order the store applied them by their versions (a
/// journal kept by concurrent callers lists them roughly in that order); writes without a
/// record (events only) go before the write that moved the version they were conditioned on.
pub fn check_journal(journal: &[ConsentWrite]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut records: BTreeMap<String, (ConsentStatus, u64)> = BTreeMap::new();
    let mut bases: BTreeMap<String, ConsentBasis> = BTreeMap::new();
    let mut ordered: Vec<&ConsentWrite> = journal.iter().collect();
    ordered.sort_by(|a, b| {
        (&a.firm_id, &a.phone, a.expected_version, a.record.is_some()).cmp(&(
            &b.firm_id,
            &b.phone,
            b.expected_version,
            b.record.is_some(),
        ))
    });
    for (index, write) in ordered.into_iter().enumerate() {
        let key = format!("{}#{}", write.firm_id, write.phone.masked());
        let before = records.get(&key).copied();
        let label = format!("write {index} to {key}");
        if write.expected_version != before.map(|(_, v)| v) {
            problems.push(format!(
                "{label}: accepted with expected version {:?}, the record was at {:?}",
                write.expected_version,
                before.map(|(_, v)| v)
            ));
        }
        let after = match &write.record {
            Some(record) => {
                let expected = before.map_or(1, |(_, v)| v + 1);
                if record.version != expected {
                    problems.push(format!(
                        "{label}: version {} written, {expected} expected",
                        record.version
                    ));
                }
                Some((record.status, record.version))
            }
            None => before,
        };
        let basis_before = bases.get(&key).copied();
        let basis_after = write.record.as_ref().map(|r| r.basis).or(basis_before);
        problems.extend(check_feed(
            &label,
            write,
            before.map(|(s, _)| s).zip(basis_before),
            after.map(|(s, _)| s).zip(basis_after),
        ));
        if let Some(basis) = basis_after {
            bases.insert(key.clone(), basis);
        }
        let types: Vec<&str> = write.events.iter().map(|e| e.type_name()).collect();
        let opted_in = write
            .events
            .iter()
            .filter(|e| matches!(e.kind, AuditKind::OptedIn { .. }))
            .count();
        let opted_out = write
            .events
            .iter()
            .filter(|e| match &e.kind {
                AuditKind::OptedOut { .. } => true,
                // Recorded beside an earlier revocation, it is no change of status.
                AuditKind::OptOutRecorded { from, .. } => *from != Some(ConsentStatus::OptedOut),
                _ => false,
            })
            .count();
        let status_before = before.map(|(s, _)| s);
        let status_after = after.map(|(s, _)| s);
        let changed = status_before != status_after;
        match status_after {
            _ if !changed => {
                if opted_in + opted_out > 0 {
                    problems.push(format!(
                        "{label}: carries {types:?} but the status stays {status_before:?}"
                    ));
                }
            }
            Some(ConsentStatus::Pending) => {
                if status_before.is_some() || !types.contains(&"contact_created") {
                    problems.push(format!(
                        "{label}: became pending from {status_before:?} with {types:?}"
                    ));
                }
            }
            Some(ConsentStatus::OptedIn) => {
                if opted_in != 1 || opted_out != 0 {
                    problems.push(format!(
                        "{label}: became opted in from {status_before:?} with {types:?}"
                    ));
                }
            }
            Some(ConsentStatus::OptedOut) => {
                if opted_out != 1 || opted_in != 0 {
                    problems.push(format!(
                        "{label}: became opted out from {status_before:?} with {types:?}"
                    ));
                }
            }
            None => problems.push(format!("{label}: a record disappeared")),
        }
        for event in &write.events {
            let from = match &event.kind {
                AuditKind::OptedIn { from, .. }
                | AuditKind::OptedOut { from, .. }
                | AuditKind::OptOutRecorded { from, .. } => from,
                _ => continue,
            };
            if *from != status_before {
                problems.push(format!(
                    "{label}: {} says from {from:?}, the record was {status_before:?}",
                    event.type_name()
                ));
            }
        }
        if let Some(after) = after {
            records.insert(key, after);
        }
    }
    problems
}

/// Checks that every SMS the provider took for a number (`bodies`) was allowed by the gate
/// first: the bodies are a sub-multiset of the bodies of the `message_allowed` events.
pub fn check_sent_against_trail(
    label: &str,
    events: &[AuditEvent],
    bodies: &[String],
) -> Vec<String> {
    let mut allowed: HashMap<&str, usize> = HashMap::new();
    for event in events {
        if let AuditKind::MessageAllowed { body, .. } = &event.kind {
            *allowed.entry(body.as_str()).or_default() += 1;
        }
    }
    let mut problems = Vec::new();
    for body in bodies {
        match allowed.get_mut(body.as_str()) {
            Some(count) if *count > 0 => *count -= 1,
            _ => problems.push(format!(
                "{label}: an SMS went out with no message_allowed for it: {:?}",
                body.chars().take(60).collect::<String>()
            )),
        }
    }
    problems
}
