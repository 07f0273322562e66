//! The gate policy: the one decision every outbound SMS passes (docs/architecture.md §5.3).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::limits::OPT_OUT_CONFIRMATION_WINDOW;
use crate::model::caps::{MAX_CAP_HOLD, SendLimits};
use crate::model::quiet_hours::SendWindow;
use crate::model::record::{ConsentRecord, ConsentStatus};
use crate::model::state_rules::RuleId;

/// What an outbound SMS is, which decides the rules it meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// The one opt-in request to a new contact.
    OptInRequest,
    /// The answer to an opt-in (YES or the email button).
    OptInConfirmation,
    /// The one answer to an opt-out.
    OptOutConfirmation,
    /// The answer to HELP.
    HelpReply,
    /// Anything the firm sends (the CRM's messages).
    FirmMessage,
}

impl MessageKind {
    /// Replies to the contact's own message are answers, not solicitations: they go out at
    /// once whatever the hour and count toward no cap.
    pub fn is_reply(self) -> bool {
        matches!(
            self,
            Self::OptInConfirmation | Self::OptOutConfirmation | Self::HelpReply
        )
    }
}

/// Marketing or transactional, as the caller declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageCategory {
    /// Promotional or general (the default: the stricter reading).
    #[default]
    Marketing,
    /// About a matter the contact is party to.
    Transactional,
}

/// Why the gate refused a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BlockReason {
    /// The firm has no record of this number.
    UnknownRecipient,
    /// The number opted out.
    OptedOut,
    /// The number has not confirmed (or the one opt-in request already went out).
    NotOptedIn,
    /// Too many messages to this number in 24 hours.
    FrequencyCap,
    /// The opt-out confirmation is owed only within five minutes of the revocation's receipt.
    ConfirmationWindowPassed,
}

impl BlockReason {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownRecipient => "unknown_recipient",
            Self::OptedOut => "opted_out",
            Self::NotOptedIn => "not_opted_in",
            Self::FrequencyCap => "frequency_cap",
            Self::ConfirmationWindowPassed => "confirmation_window_passed",
        }
    }
}

/// What the gate says about one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum GateDecision {
    /// Send now.
    Allow,
    /// Hold until the recipient's window opens (or a cap has room again), then ask the gate
    /// again.
    Defer {
        /// When it may go.
        not_before: DateTime<Utc>,
        /// The calling rule whose hours held it, or the cap that did.
        rule: RuleId,
    },
    /// Never send.
    Block {
        /// The rule that blocked it.
        reason: BlockReason,
        /// The calling rule or cap behind the block, where one is (a frequency cap).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<RuleId>,
    },
}

/// Everything the gate looks at for one message.
#[derive(Debug, Clone, Copy)]
pub struct GateQuestion<'a> {
    /// The recipient's consent record, read consistently; `None` when the firm never saw the number.
    pub record: Option<&'a ConsentRecord>,
    /// The firm's double opt-in setting.
    pub double_opt_in: bool,
    /// What the message is.
    pub kind: MessageKind,
    /// The recipient's local sending window.
    pub window: &'a SendWindow,
    /// The moment the gate decides at (windows and caps are measured from it).
    pub now: DateTime<Utc>,
    /// Marketing or transactional.
    pub category: MessageCategory,
    /// The firm's limits.
    pub limits: SendLimits,
}

/// The gate's rules, in order: unknown, opted out, pending, opted in; then caps and quiet hours.
pub fn decide(question: GateQuestion<'_>) -> GateDecision {
    let Some(record) = question.record else {
        // Every HELP gets the firm's help text (CTIA), even from a number the firm never had:
        // it is an answer, never a solicitation.
        if question.kind == MessageKind::HelpReply {
            return GateDecision::Allow;
        }
        return GateDecision::Block {
            reason: BlockReason::UnknownRecipient,
            rule: None,
        };
    };
    let kind = question.kind;
    if kind == MessageKind::OptOutConfirmation
        && record.status == ConsentStatus::OptedOut
        && !record.opt_out_confirmation_sent
        && question.now - record.status_changed_at > OPT_OUT_CONFIRMATION_WINDOW
    {
        return GateDecision::Block {
            reason: BlockReason::ConfirmationWindowPassed,
            rule: None,
        };
    }
    let consent_allows = match record.status {
        ConsentStatus::OptedOut => match kind {
            MessageKind::OptOutConfirmation => !record.opt_out_confirmation_sent,
            MessageKind::HelpReply => true,
            _ => false,
        },
        ConsentStatus::Pending => match kind {
            MessageKind::OptInRequest => !record.opt_in_sms.is_done(),
            MessageKind::HelpReply => true,
            _ => false,
        },
        ConsentStatus::OptedIn => match kind {
            // The one opt-in request is for pending numbers only.
            MessageKind::OptInRequest => false,
            // An opt-out confirmation answers an opt-out; while opted in there is none to answer.
            MessageKind::OptOutConfirmation => false,
            // HELP is an answer that passes in every state, including a firm-attested number
            // whose attestation stopped counting when double opt-in was switched back on.
            MessageKind::HelpReply => true,
            _ => record.allows_texting(question.double_opt_in),
        },
    };
    if !consent_allows {
        let reason = match record.status {
            ConsentStatus::OptedOut => BlockReason::OptedOut,
            _ => BlockReason::NotOptedIn,
        };
        return GateDecision::Block { reason, rule: None };
    }
    if kind.is_reply() {
        return GateDecision::Allow;
    }
    // The exemption is for the firm's own transactional messages; the opt-in request is a
    // solicitation to a number that has not consented yet, so it always waits for the window.
    let exempt = kind == MessageKind::FirmMessage
        && question.category == MessageCategory::Transactional
        && question.limits.transactional_exempt;
    if exempt {
        return GateDecision::Allow;
    }
    let window = question.window;
    if kind == MessageKind::FirmMessage
        && let Some((frees_at, rule)) = cap_frees_at(record, question)
    {
        // Over a cap: held until the cap has room again and the window is open then, and
        // released through the gate again; refused only when that is more than a day away.
        let within_hold = |at: DateTime<Utc>| at - question.now <= MAX_CAP_HOLD;
        let not_before = Some(frees_at)
            .filter(|at| within_hold(*at))
            .map(|at| window.next_open(at).unwrap_or(at))
            .filter(|at| within_hold(*at));
        return match not_before {
            Some(not_before) => GateDecision::Defer { not_before, rule },
            None => GateDecision::Block {
                reason: BlockReason::FrequencyCap,
                rule: Some(rule),
            },
        };
    }
    match (
        window.next_open(question.now),
        window.closed_by(question.now),
    ) {
        (Some(not_before), Some(rule)) => GateDecision::Defer { not_before, rule },
        _ => GateDecision::Allow,
    }
}

/// When one more firm message fits every cap it would exceed now, and the cap that holds it
/// longest (the statutory one of the recipient's state rules, for marketing only, or the
/// firm's own, for every firm message; the statutory one on a tie); `None` when it fits now.
fn cap_frees_at(
    record: &ConsentRecord,
    question: GateQuestion<'_>,
) -> Option<(DateTime<Utc>, RuleId)> {
    let now = question.now;
    let statutory = question
        .window
        .statutory_cap(now)
        .filter(|_| question.category == MessageCategory::Marketing)
        .and_then(|(cap, rule)| {
            record
                .recent_sends
                .cap_frees_at(now, cap as usize, true)
                .map(|at| (at, rule))
        });
    let firm = question.limits.daily_cap.and_then(|cap| {
        record
            .recent_sends
            .cap_frees_at(now, cap as usize, false)
            .map(|at| (at, RuleId::FirmDailyCap))
    });
    [statutory, firm]
        .into_iter()
        .flatten()
        .reduce(|held, other| if other.0 > held.0 { other } else { held })
}
