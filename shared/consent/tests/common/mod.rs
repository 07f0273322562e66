//! Shared by the flow tests: the service wired to the in-memory adapters, and helpers to read
//! the outbox.
#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, Utc};
use consent::adapters::memory::{MemoryOutbox, MemoryStore, SentSms, SettableClock};
use consent::evidence::token::TokenKeyring;
use consent::flows::admin::FirmSettings;
use consent::flows::inbound::InboundSms;
use consent::flows::onboarding::NewContact;
use consent::flows::send::SendRequest;
use consent::flows::{ServiceConfig, Services, firm_vars};
use consent::messages::templates::{TemplateName, render_sms};
use consent::model::firm::Firm;
use consent::model::gate::{MessageCategory, MessageKind};
use consent::model::language::Language;
use consent::model::phone::PhoneNumber;
use consent::ports::{CarrierOptIn, Clock, OptedOutPage, OutgoingSms, SendError, SmsSender};

pub const FIRM_ID: &str = "firm-1";
pub const FIRM_NUMBER: &str = "+12125550100";
/// 10:00 in San Francisco, 13:00 in New York: inside every US window.
pub const DAYTIME: &str = "2026-12-01T18:00:00Z";
/// Bytes 0..32, base64.
pub const TOKEN_SECRET_SPEC: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

pub fn t(text: &str) -> DateTime<Utc> {
    text.parse().expect("a valid RFC 3339 instant")
}

pub fn phone(number: &str) -> PhoneNumber {
    PhoneNumber::parse(number).expect("a valid number")
}

/// The service on in-memory adapters, with one registered firm.
pub struct Harness {
    pub services: Services,
    pub store: Arc<MemoryStore>,
    pub outbox: Arc<MemoryOutbox>,
    pub clock: Arc<SettableClock>,
    pub firm: Firm,
}

impl Harness {
    /// A fresh service with its clock frozen at `now` and the firm registered.
    pub async fn at(now: DateTime<Utc>) -> Self {
        Self::with_sender(now, |_, outbox| outbox).await
    }

    /// Like [`Harness::at`], with the SMS sender the gate holds built by `sender` around the
    /// store and the outbox.
    pub async fn with_sender(
        now: DateTime<Utc>,
        sender: impl FnOnce(Arc<MemoryStore>, Arc<MemoryOutbox>) -> Arc<dyn SmsSender>,
    ) -> Self {
        let clock = Arc::new(SettableClock::frozen(now));
        let store = Arc::new(MemoryStore::new());
        let outbox = Arc::new(MemoryOutbox::new(clock.clone() as Arc<dyn Clock>));
        let services = Services::new(
            store.clone(),
            sender(store.clone(), outbox.clone()),
            outbox.clone(),
            clock.clone(),
            Some(TokenKeyring::from_secret_spec(TOKEN_SECRET_SPEC).expect("a valid key spec")),
            ServiceConfig {
                confirm_base_url: "https://consent.example.com".to_string(),
                ..ServiceConfig::default()
            },
        );
        let (firm, created) = services
            .put_firm(
                FIRM_ID,
                FirmSettings {
                    name: "Hartwell & Pine LLP".to_string(),
                    sms_number: FIRM_NUMBER.to_string(),
                    support_email: "help@hartwellpine.example".to_string(),
                    support_phone: "(555) 010-0199".to_string(),
                    website: "https://hartwellpine.example".to_string(),
                    time_zone: None,
                    ..Default::default()
                },
            )
            .await
            .expect("the firm registers");
        assert!(created);
        Self {
            services,
            store,
            outbox,
            clock,
            firm,
        }
    }

    /// Like [`Harness::with_sender`], also handing back the sender built, for the test to read
    /// what it saw.
    pub async fn with_own_sender<S: SmsSender + 'static>(
        now: DateTime<Utc>,
        sender: impl FnOnce(Arc<MemoryStore>, Arc<MemoryOutbox>) -> S,
    ) -> (Self, Arc<S>) {
        let slot: Arc<std::sync::Mutex<Option<Arc<S>>>> = Arc::default();
        let filled = slot.clone();
        let h = Self::with_sender(now, move |store, outbox| {
            let built = Arc::new(sender(store, outbox));
            *filled.lock().expect("the slot") = Some(built.clone());
            built
        })
        .await;
        let built = slot
            .lock()
            .expect("the slot")
            .take()
            .expect("the sender was built");
        (h, built)
    }

    pub async fn daytime() -> Self {
        Self::at(t(DAYTIME)).await
    }

    /// Moves the frozen clock.
    pub fn set_now(&self, now: DateTime<Utc>) {
        self.clock.set(Some(now));
    }

    /// The firm as stored now (after settings changes).
    pub async fn firm(&self) -> Firm {
        self.services.firm(FIRM_ID).await.expect("the firm exists")
    }

    /// The SMS sent to `to`, each with what it is.
    pub fn sms_kinds(&self, to: &str) -> Vec<SentKind> {
        self.outbox
            .sms_to(to)
            .iter()
            .map(|s| sent_kind(&self.firm, s))
            .collect()
    }

    pub fn count(&self, to: &str, kind: SentKind) -> usize {
        self.sms_kinds(to)
            .into_iter()
            .filter(|k| *k == kind)
            .count()
    }
}

/// What a test's SMS sender does as the provider gets each message, before the outbox takes it.
#[async_trait::async_trait]
pub trait BeforeSend: Send + Sync {
    /// Runs as the provider gets `sms`.
    async fn before_send(&self, sms: &OutgoingSms);
}

/// An SMS sender that runs a test's [`BeforeSend`] on each message and leaves the rest to the
/// outbox; it derefs to the hook, so a test reads what its hook saw.
pub struct Hooked<H> {
    outbox: Arc<MemoryOutbox>,
    hook: H,
}

impl<H> Hooked<H> {
    /// `hook` before `outbox`.
    pub fn new(outbox: Arc<MemoryOutbox>, hook: H) -> Self {
        Self { outbox, hook }
    }
}

impl<H> std::ops::Deref for Hooked<H> {
    type Target = H;

    fn deref(&self) -> &H {
        &self.hook
    }
}

#[async_trait::async_trait]
impl<H: BeforeSend> SmsSender for Hooked<H> {
    async fn send_sms(&self, sms: &OutgoingSms) -> Result<String, SendError> {
        self.hook.before_send(sms).await;
        self.outbox.send_sms(sms).await
    }

    async fn is_opted_out(&self, phone: &PhoneNumber) -> Result<bool, SendError> {
        self.outbox.is_opted_out(phone).await
    }

    async fn opted_out_numbers(&self, next_token: Option<&str>) -> Result<OptedOutPage, SendError> {
        self.outbox.opted_out_numbers(next_token).await
    }

    async fn opt_in_number(&self, phone: &PhoneNumber) -> Result<CarrierOptIn, SendError> {
        self.outbox.opt_in_number(phone).await
    }
}

/// A contact with no email and no name.
pub fn contact(contact_id: &str, number: &str) -> NewContact {
    NewContact {
        contact_id: contact_id.to_string(),
        phone: number.to_string(),
        ..NewContact::default()
    }
}

/// A contact with an email address.
pub fn contact_with_email(contact_id: &str, number: &str, email: &str) -> NewContact {
    NewContact {
        email: Some(email.to_string()),
        ..contact(contact_id, number)
    }
}

pub fn inbound(from: &str, id: &str, body: &str, received_at: DateTime<Utc>) -> InboundSms {
    InboundSms {
        from: from.to_string(),
        to: FIRM_NUMBER.to_string(),
        body: body.to_string(),
        inbound_message_id: id.to_string(),
        received_at,
    }
}

/// A message the firm sends (the CRM's), marked so the outbox can tell it apart.
pub fn firm_message(to: &str, body: &str) -> SendRequest {
    SendRequest {
        to: phone(to),
        kind: MessageKind::FirmMessage,
        category: MessageCategory::Marketing,
        body: format!("{FIRM_MESSAGE_MARK}{body}"),
        idempotency_key: None,
    }
}

pub const FIRM_MESSAGE_MARK: &str = "[firm] ";

/// What an SMS in the outbox is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentKind {
    OptInRequest,
    OptInConfirmation,
    OptOutConfirmation,
    Help,
    FirmMessage,
    Unknown,
}

/// The firm's template `name` as sent to an English-speaking contact (every contact here is).
fn rendered(firm: &Firm, name: TemplateName, first_name: Option<&str>) -> String {
    render_sms(
        name,
        Language::En,
        firm.template(name, Language::En),
        &firm_vars(firm, first_name, ""),
    )
    .expect("the template renders")
    .body
}

/// Tells an outbox SMS apart by comparing it with the firm's rendered templates.
pub fn sent_kind(firm: &Firm, sms: &SentSms) -> SentKind {
    let body = sms.body.as_str();
    if body.starts_with(FIRM_MESSAGE_MARK) {
        return SentKind::FirmMessage;
    }
    let requests = [
        rendered(firm, TemplateName::SmsOptInRequest, None),
        rendered(firm, TemplateName::SmsOptInRequest, Some("Maria")),
    ];
    if requests.iter().any(|r| r == body) {
        SentKind::OptInRequest
    } else if body == rendered(firm, TemplateName::SmsOptInConfirmation, None) {
        SentKind::OptInConfirmation
    } else if body == rendered(firm, TemplateName::SmsOptOutConfirmation, None) {
        SentKind::OptOutConfirmation
    } else if body == rendered(firm, TemplateName::SmsHelp, None) {
        SentKind::Help
    } else {
        SentKind::Unknown
    }
}

/// The confirmation token in an opt-in request email's text.
pub fn token_in(text: &str) -> String {
    let line = text
        .lines()
        .find(|line| line.contains("/confirm/"))
        .expect("the email holds a confirmation link");
    let (_, token) = line
        .trim()
        .split_once("/confirm/")
        .expect("a /confirm/ link");
    token.to_string()
}
