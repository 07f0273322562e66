//! Bursts over the account's sending rate: a provider that refuses `n` of every `m` SMS
//! publishes and email sends with throttling (`SendError::Provider { retryable: true }`, as the
//! AWS adapters classify SNS `Throttling` and SES `TooManyRequestsException` once the SDK's own
//! retries are spent), and keeps who was refused, so a test can match the trail against it.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use consent::model::phone::PhoneNumber;
use consent::ports::{
    CarrierOptIn, Mailer, OptedOutPage, OutgoingEmail, OutgoingSms, SendError, SmsSender,
};

use crate::faults::{Fault, Injected, Op};

/// How much of the traffic is refused: the first `throttled` of every `every` calls of each
/// operation (SMS and email counted apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Refused per period.
    pub throttled: usize,
    /// The period, in calls.
    pub every: usize,
}

#[derive(Debug, Default)]
struct BurstState {
    rate: Option<Rate>,
    calls: HashMap<Op, usize>,
    /// Who each refused call was for (phone number or email address), by operation.
    refused: HashMap<Op, Vec<String>>,
}

/// An SMS sender and mailer that throttle at a [`Rate`], around any pair.
pub struct ThrottlingProvider {
    sms: Arc<dyn SmsSender>,
    mailer: Arc<dyn Mailer>,
    state: Mutex<BurstState>,
}

impl fmt::Debug for ThrottlingProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThrottlingProvider").finish_non_exhaustive()
    }
}

impl ThrottlingProvider {
    /// Wraps a sender and a mailer; nothing is throttled until [`Self::throttle`].
    pub fn new(sms: Arc<dyn SmsSender>, mailer: Arc<dyn Mailer>) -> Arc<Self> {
        Arc::new(Self {
            sms,
            mailer,
            state: Mutex::new(BurstState::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, BurstState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Refuses the first `throttled` of every `every` calls from now on (counting from 0).
    pub fn throttle(&self, throttled: usize, every: usize) {
        let mut state = self.lock();
        state.rate = Some(Rate {
            throttled,
            every: every.max(1),
        });
        state.calls.clear();
    }

    /// Stops refusing; what was refused is kept.
    pub fn calm(&self) {
        self.lock().rate = None;
    }

    /// Who the refused calls of `op` were for, in order.
    pub fn refused(&self, op: Op) -> Vec<String> {
        self.lock().refused.get(&op).cloned().unwrap_or_default()
    }

    /// Whether this call of `op`, for `to`, is refused; counts it.
    fn refuses(&self, op: Op, to: &str) -> bool {
        let mut state = self.lock();
        let Some(rate) = state.rate else {
            return false;
        };
        let calls = state.calls.entry(op).or_default();
        let refused = *calls % rate.every < rate.throttled;
        *calls += 1;
        if refused {
            state.refused.entry(op).or_default().push(to.to_string());
        }
        refused
    }

    fn throttled(op: Op) -> SendError {
        Injected {
            fault: Fault::Throttle,
            op,
        }
        .send_error()
    }
}

#[async_trait]
impl SmsSender for ThrottlingProvider {
    async fn send_sms(&self, sms: &OutgoingSms) -> Result<String, SendError> {
        if self.refuses(Op::SendSms, sms.to.as_str()) {
            return Err(Self::throttled(Op::SendSms));
        }
        self.sms.send_sms(sms).await
    }

    async fn is_opted_out(&self, phone: &PhoneNumber) -> Result<bool, SendError> {
        self.sms.is_opted_out(phone).await
    }

    async fn opted_out_numbers(&self, next_token: Option<&str>) -> Result<OptedOutPage, SendError> {
        self.sms.opted_out_numbers(next_token).await
    }

    async fn opt_in_number(&self, phone: &PhoneNumber) -> Result<CarrierOptIn, SendError> {
        self.sms.opt_in_number(phone).await
    }
}

#[async_trait]
impl Mailer for ThrottlingProvider {
    async fn send_email(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        if self.refuses(Op::SendEmail, &email.to) {
            return Err(Self::throttled(Op::SendEmail));
        }
        self.mailer.send_email(email).await
    }
}
