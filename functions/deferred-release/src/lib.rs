//! deferred-release: sends held for quiet hours go out once their window opens, each through the
//! gate again (an opt-out that came in between wins and is recorded as a block).

use consent::evidence::keys_used::KeysUsed;
use consent::flows::release::{RELEASE_BATCH, ReleaseReport};
use consent::flows::{FlowError, Services};

/// The keys this function reads at cold start: none (it signs no link and no proof).
pub const KEYS_USED: KeysUsed = KeysUsed::NONE;

/// Most passes one invocation makes, so a backlog drains over a few runs instead of one
/// invocation running into its timeout.
pub const MAX_PASSES: usize = 20;

/// Releases everything due now, in passes of `RELEASE_BATCH`.
pub async fn release_all(services: &Services) -> Result<ReleaseReport, FlowError> {
    let mut total = ReleaseReport::default();
    for _ in 0..MAX_PASSES {
        let pass = services.release_due().await?;
        total.taken += pass.taken;
        total.sent += pass.sent;
        total.deferred += pass.deferred;
        total.blocked += pass.blocked;
        total.failed += pass.failed;
        if pass.taken < RELEASE_BATCH {
            break;
        }
    }
    tracing::info!(
        taken = total.taken,
        sent = total.sent,
        deferred = total.deferred,
        blocked = total.blocked,
        failed = total.failed,
        "deferred sends released"
    );
    Ok(total)
}
