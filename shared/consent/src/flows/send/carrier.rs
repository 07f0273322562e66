//! The carrier's own opt-out list, through the gate's SMS sender (the only one there is): read
//! page by page when reconciling, and a number's opt-out lifted when its contact opts in again.

use super::SendGate;
use crate::model::phone::PhoneNumber;
use crate::ports::{CarrierOptIn, OptedOutPage, SendError};

impl SendGate {
    /// One page of the numbers the provider holds as opted out.
    pub async fn carrier_opted_out_page(
        &self,
        next_token: Option<&str>,
    ) -> Result<OptedOutPage, SendError> {
        self.sms.opted_out_numbers(next_token).await
    }

    /// Asks the provider to lift its opt-out of `phone`.
    pub async fn carrier_opt_in(&self, phone: &PhoneNumber) -> Result<CarrierOptIn, SendError> {
        self.sms.opt_in_number(phone).await
    }
}
