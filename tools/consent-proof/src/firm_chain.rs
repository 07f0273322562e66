//! The firm's own chain inside a proof (`firm_chain`): the firm's settings, its double opt-in
//! switches (who, when, whether the risk was acknowledged) and template changes, hash-chained
//! like a number's events from the firm's genesis. A proof carries it when the number's consent
//! rests on the firm's word (basis `firm_attested`, now or earlier in the trail), so the reader
//! sees who turned double opt-in off, and when.

use serde_json::Value;

use crate::chain;
use crate::problem::Problem;
use crate::trail::{check_chain, check_head, check_unchained, list};

/// The basis, and the opt-in evidence channel, of a consent that rests on the firm's word.
pub const FIRM_ATTESTED: &str = "firm_attested";

/// Whether the document's consent rests on the firm's attestation, now or at an opt-in of its
/// trail: then it should carry the firm's chain.
pub fn rests_on_firm_attestation(document: &Value) -> bool {
    let attested_now = document
        .get("consent")
        .and_then(|c| c.get("basis"))
        .and_then(Value::as_str)
        == Some(FIRM_ATTESTED);
    let attested_before = document
        .get("events")
        .and_then(Value::as_array)
        .is_some_and(|events| {
            events.iter().any(|e| {
                e.get("type").and_then(Value::as_str) == Some("opted_in")
                    && e.get("evidence")
                        .and_then(|v| v.get("channel"))
                        .and_then(Value::as_str)
                        == Some(FIRM_ATTESTED)
            })
        });
    attested_now || attested_before
}

/// Checks `document.firm_chain` when present: its genesis is the firm's, every event's hash and
/// link, its head and length, and its events from before the firm's chain existed. Problems are
/// given as [`Problem::FirmChain`]. Returns how many chained events it has (`None`: absent).
pub(crate) fn check_firm_chain(
    document: &Value,
    firm_id: &str,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<String>,
) -> Option<usize> {
    let Some(firm_chain) = document.get("firm_chain").filter(|c| !c.is_null()) else {
        // The signature covers its absence, so none was stripped: the document predates it.
        if rests_on_firm_attestation(document) {
            warnings.push(
                "consent rests on the firm's attestation, but the document carries no firm \
                 chain (it was made before firm chains existed): the firm's double opt-in \
                 history is not shown"
                    .to_string(),
            );
        }
        return None;
    };
    let mut found = Vec::new();
    let genesis = chain::firm_genesis(firm_id);
    if firm_chain.get("genesis").and_then(Value::as_str) != Some(genesis.as_str()) {
        found.push(Problem::FirmGenesisMismatch);
    }
    let events = list(firm_chain, "events", &mut found);
    // A firm's own events never hold a confirmation link: nothing in its chain may be withheld.
    let mut withheld = Vec::new();
    check_chain(events, &genesis, &mut found, &mut withheld);
    check_head(Some(firm_chain), "length", events, &mut found);
    let legacy = list(firm_chain, "unchained_events", &mut found);
    let hashless = check_unchained(legacy, &mut found, &mut withheld).len();
    found.extend(
        withheld
            .into_iter()
            .map(|event| Problem::Withholding { event }),
    );
    if hashless > 0 {
        warnings.push(format!(
            "the firm's chain: {hashless} event{} recorded before the firm's trail was \
             hash-chained: nothing but the signature shows {} unchanged",
            if hashless == 1 { " was" } else { "s were" },
            if hashless == 1 { "it" } else { "them" },
        ));
    }
    problems.extend(found.into_iter().map(|problem| {
        let problem = match problem {
            Problem::NotGenesis { id } => Problem::NotFirmGenesis { id },
            other => other,
        };
        Problem::FirmChain(Box::new(problem))
    }));
    Some(events.len())
}
