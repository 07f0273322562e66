//! The checks every hash-chained trail in a proof gets, a number's and the firm's own: each
//! event's hash and its link, the head and the length, the unchained events, and the texts an
//! event withholds or discloses.

use serde_json::Value;

use crate::chain;
use crate::commitment::check_disclosed;
use crate::problem::{Problem, shown};

/// The member marking an event shown with part of its content withheld.
pub const WITHHELD: &str = "withheld";

/// The one reason content may be withheld: an `email_sent` event's confirmation link from
/// before v2 links, live until it expires, which the event's hash covers.
pub const LEGACY_CONFIRMATION_LINK: &str = "legacy_confirmation_link";

/// Checks that `chain.head` is the last event's hash and `chain.length` the number of events
/// (`length_name` names the length member in a problem).
pub(crate) fn check_head(
    chain: Option<&Value>,
    length_name: &str,
    events: &[Value],
    problems: &mut Vec<Problem>,
) {
    let last = events
        .last()
        .and_then(|e| e.get("hash"))
        .and_then(Value::as_str);
    let head = chain.and_then(|c| c.get("head"));
    let head_ok = match (head, last) {
        (Some(Value::String(head)), Some(last)) => head == last,
        (None | Some(Value::Null), None) => events.is_empty(),
        _ => false,
    };
    if !head_ok {
        problems.push(Problem::HeadMismatch);
    }
    match chain.and_then(|c| c.get("length")).and_then(Value::as_u64) {
        Some(declared) if usize::try_from(declared).is_ok_and(|d| d == events.len()) => {}
        Some(declared) => problems.push(Problem::LengthMismatch {
            declared,
            found: events.len(),
        }),
        None => problems.push(Problem::Malformed(format!(
            "{length_name} is missing or not a number"
        ))),
    }
}

/// Checks unchained events: no link, and a hash that matches. Returns the position and id of
/// each one without a hash (recorded before its trail was hash-chained).
pub(crate) fn check_unchained(
    unchained: &[Value],
    problems: &mut Vec<Problem>,
    withheld: &mut Vec<String>,
) -> Vec<(usize, String)> {
    let mut hashless = Vec::new();
    for (i, event) in unchained.iter().enumerate() {
        let position = i + 1;
        let id = event_id(event);
        if event.get("prev_hash").is_some_and(|p| !p.is_null()) {
            problems.push(Problem::UnchainedWithLink {
                position,
                id: id.clone(),
            });
        }
        disclosures(
            event,
            || format!("unchained event {position} ({id})"),
            problems,
        );
        let name = || format!("unchained event {position} ({id})");
        match (
            event.get("hash").and_then(Value::as_str),
            withholding(event),
        ) {
            (Some(_), Some(true)) => withheld.push(name()),
            (_, Some(false)) => problems.push(Problem::Withholding { event: name() }),
            (Some(hash), None) if hash == chain::event_hash(event) => {}
            (Some(_), None) => problems.push(Problem::UnchainedHashMismatch { position, id }),
            (None, _) => hashless.push((position, id)),
        }
    }
    hashless
}

/// Whether `event` is shown with content withheld (`Some`), and if so whether that is the one
/// allowed case: an `email_sent` event holding a confirmation link from before v2 links.
fn withholding(event: &Value) -> Option<bool> {
    let reason = event.get(WITHHELD)?;
    Some(
        reason.as_str() == Some(LEGACY_CONFIRMATION_LINK)
            && event.get("type").and_then(Value::as_str) == Some("email_sent"),
    )
}

/// Checks every chained event's hash and its link to the one before; the events shown with a
/// legacy link withheld, whose hash cannot be recomputed, are named in `withheld`.
pub(crate) fn check_chain(
    events: &[Value],
    genesis: &str,
    problems: &mut Vec<Problem>,
    withheld: &mut Vec<String>,
) {
    let hashes: Vec<Option<&str>> = events
        .iter()
        .map(|e| e.get("hash").and_then(Value::as_str))
        .collect();
    for (i, event) in events.iter().enumerate() {
        let position = i + 1;
        let id = event_id(event);
        disclosures(event, || format!("event {position} ({id})"), problems);
        match (hashes[i], withholding(event)) {
            (None, _) => problems.push(Problem::MissingHash {
                position,
                id: id.clone(),
            }),
            (Some(_), Some(true)) => withheld.push(format!("event {position} ({id})")),
            (Some(_), Some(false)) => problems.push(Problem::Withholding {
                event: format!("event {position} ({id})"),
            }),
            (Some(hash), None) if hash != chain::event_hash(event) => {
                problems.push(Problem::HashMismatch {
                    position,
                    id: id.clone(),
                });
            }
            (Some(_), None) => {}
        }
        let Some(prev) = event.get("prev_hash").and_then(Value::as_str) else {
            problems.push(Problem::MissingLink { position, id });
            continue;
        };
        let expected = if i == 0 { Some(genesis) } else { hashes[i - 1] };
        if expected == Some(prev) {
            continue;
        }
        let links_to = hashes.iter().position(|h| *h == Some(prev));
        problems.push(match (i, links_to) {
            (_, Some(j)) if i > 0 => Problem::OutOfOrder {
                position,
                id,
                previous: i,
                links_to: j + 1,
            },
            (0, _) => Problem::NotGenesis { id },
            _ => Problem::Gap {
                position,
                id,
                previous: i,
                previous_id: event_id(&events[i - 1]),
            },
        });
    }
}

/// Checks the texts an event discloses against its commitments (`name` names the event).
fn disclosures(event: &Value, name: impl Fn() -> String, problems: &mut Vec<Problem>) {
    for (member, reason) in check_disclosed(event) {
        problems.push(Problem::Disclosure {
            event: name(),
            member: shown(&member),
            reason,
        });
    }
}

/// `document[name]` as a list; a problem if it is missing or not a list.
pub(crate) fn list<'a>(
    document: &'a Value,
    name: &str,
    problems: &mut Vec<Problem>,
) -> &'a [Value] {
    match document.get(name) {
        Some(Value::Array(items)) => items,
        _ => {
            problems.push(Problem::Malformed(format!(
                "{name} is missing or not a list"
            )));
            &[]
        }
    }
}

pub(crate) fn event_id(event: &Value) -> String {
    event
        .get("id")
        .and_then(Value::as_str)
        .map_or_else(|| "no id".to_string(), shown)
}
