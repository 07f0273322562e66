//! Every size limit on what callers send, in one place: handlers, flows and templates refer to
//! these names, so a limit and the message that states it cannot drift apart.

/// Longest SMS body, in characters: ten GSM-7 segments of 153, the most a carrier reliably
/// reassembles into one message. Applies to the gate's callers and to rendered templates.
pub const MAX_SMS_CHARS: usize = 1_530;

/// Longest identifier or short setting a caller gives (contact ids, names, idempotency keys,
/// inbound message ids, firm settings), in bytes: enough for any real one, small enough that
/// a key or an item built from it stays far below a store's limits.
pub const MAX_FIELD_LEN: usize = 256;

/// Longest free-text note a firm's staff attach to what they record, in characters.
pub const MAX_NOTE_LEN: usize = 2_000;

/// Longest web address kept or shown (a firm's privacy and terms pages, the form a number was
/// collected on), in bytes: real ones are far shorter; browsers balk past a few thousand.
pub const MAX_URL_LEN: usize = 2_048;

/// Longest browser user agent kept as evidence, in characters (real ones are a few hundred).
pub const MAX_USER_AGENT_LEN: usize = 512;

/// Longest confirmation-link token looked at, in bytes: real ones are a few hundred, so
/// anything longer is junk and not worth decoding.
pub const MAX_TOKEN_LEN: usize = 2_048;

/// Most messages in one batch send.
pub const MAX_BATCH: usize = 1_000;

/// Most events one page of a firm's feed returns (and the most a poller may ask for).
pub const MAX_FEED_PAGE: usize = 1_000;

/// Events a page of a firm's feed returns when the poller does not say.
pub const DEFAULT_FEED_PAGE: usize = 100;

/// Most CRM contact ids a consent record remembers for its number (the feed's `contact_ids`);
/// past it the oldest is forgotten, so a record stays small.
pub const MAX_CONTACT_IDS: usize = 10;

/// Most bytes of CRM contact ids a consent record remembers together (the newest is kept
/// whatever its length), so the record stays under 1 KB (DESIGN §5).
pub const CONTACT_IDS_BYTES: usize = 64;

/// How long after a revocation's receipt its one opt-out confirmation may still go out (the
/// FCC allows that one text within five minutes: 47 CFR 64.1200(a)(12)).
pub const OPT_OUT_CONFIRMATION_WINDOW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
