//! The AWS side of the bench: an SDK interceptor that counts every request (and estimates the
//! DynamoDB capacity units it consumes), the flows on counted clients against moto, and
//! seeding helpers that write consent records straight through the store port.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use chrono::{DateTime, Utc};
use consent::adapters::memory::SettableClock;
use consent::evidence::token::TokenKeyring;
use consent::flows::admin::FirmSettings;
use consent::flows::{ServiceConfig, Services};
use consent::model::firm::Firm;
use consent::model::phone::PhoneNumber;
use consent::model::transition::{self, ConsentEvent};
use consent::ports::{ConsentWrite, Store};
use consent_aws::{DynamoStore, SesMailer, SnsSmsSender, ensure_sender_identity};
use consent_tests::emulator::Moto;
use serde_json::Value;

/// The sender address every bench service uses.
pub const FROM_ADDRESS: &str = "noreply@consent-bench.example";
/// The confirmation page's base URL.
pub const CONFIRM_BASE_URL: &str = "https://consent.example.com";

/// What the SDK sent: requests per `Service.Operation`, and estimated DynamoDB capacity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Requests (attempts) per `Service.Operation`.
    pub calls: BTreeMap<String, u64>,
    /// Items read: one per GetItem, per key of a BatchGetItem, per Query.
    pub read_items: u64,
    /// Estimated read request units (strongly consistent: 1 per 4 KB item, at least 1).
    pub read_units: u64,
    /// Estimated write request units (1 per KB item, 2 in a transaction).
    pub write_units: u64,
}

impl Tally {
    /// Requests to one service (`DynamoDB`, `SNS`, `SESv2`).
    pub fn service(&self, service: &str) -> u64 {
        self.calls
            .iter()
            .filter(|(k, _)| k.split('.').next() == Some(service))
            .map(|(_, n)| n)
            .sum()
    }

    /// Requests of one operation (`GetItem`, ...), whatever the service.
    pub fn op(&self, operation: &str) -> u64 {
        self.calls
            .iter()
            .filter(|(k, _)| k.rsplit('.').next() == Some(operation))
            .map(|(_, n)| n)
            .sum()
    }

    /// DynamoDB write requests (TransactWriteItems, PutItem, UpdateItem, DeleteItem,
    /// BatchWriteItem).
    pub fn write_requests(&self) -> u64 {
        [
            "TransactWriteItems",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "BatchWriteItem",
        ]
        .iter()
        .map(|op| self.op(op))
        .sum()
    }

    /// `GetItem 3, TransactWriteItems 2, ...` for one service.
    pub fn breakdown(&self, service: &str) -> String {
        let parts: Vec<String> = self
            .calls
            .iter()
            .filter(|(k, _)| k.split('.').next() == Some(service))
            .map(|(k, n)| format!("{} {n}", k.rsplit('.').next().unwrap_or(k)))
            .collect();
        if parts.is_empty() {
            "-".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// An interceptor that counts every attempt at the SDK (so retries count too), registered on
/// each client's config.
#[derive(Debug, Clone, Default)]
pub struct CallCounter {
    tally: Arc<Mutex<Tally>>,
}

impl CallCounter {
    /// Everything counted since the last take, and a fresh start.
    pub fn take(&self) -> Tally {
        std::mem::take(&mut *self.tally.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// What the request of the current attempt asked for: its estimated write units and, for a
/// batch read, how many keys (a missing key still costs a read).
#[derive(Debug, Clone, Copy, Default)]
struct RequestCost {
    write_units: u64,
    keys: u64,
}

impl Storable for RequestCost {
    type Storer = StoreReplace<Self>;
}

fn operation_of(cfg: &ConfigBag) -> (String, String) {
    cfg.load::<Metadata>()
        .map(|m| (canonical_service(m.service()), m.name().to_string()))
        .unwrap_or_else(|| ("?".to_string(), "?".to_string()))
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "consent-bench call counter"
    }

    // The request body is readable before it is sent (not always after).
    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = operation_of(cfg);
        if service == "DynamoDB" {
            let request = context.request().body().bytes();
            cfg.interceptor_state()
                .store_put(request_cost(&operation, request));
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = operation_of(cfg);
        let cost = cfg.load::<RequestCost>().copied().unwrap_or_default();
        let response = context.response().and_then(|r| r.body().bytes());
        let read = if service == "DynamoDB" {
            read_units(&operation, cost.keys, response)
        } else {
            0
        };
        let mut tally = self.tally.lock().unwrap_or_else(|p| p.into_inner());
        *tally
            .calls
            .entry(format!("{service}.{operation}"))
            .or_default() += 1;
        tally.read_units += read;
        tally.read_items += match operation.as_str() {
            "GetItem" | "Query" | "Scan" => 1,
            "BatchGetItem" => cost.keys,
            _ => 0,
        };
        tally.write_units += cost.write_units;
        Ok(())
    }
}

fn canonical_service(name: &str) -> String {
    match name.to_ascii_lowercase().as_str() {
        "dynamodb" => "DynamoDB".to_string(),
        "sns" => "SNS".to_string(),
        "sesv2" | "ses" => "SESv2".to_string(),
        other => other.to_string(),
    }
}

/// DynamoDB's item size: attribute names plus values (numbers roughly by digits).
fn item_size(item: &Value) -> u64 {
    item.as_object()
        .map(|attrs| {
            attrs
                .iter()
                .map(|(name, value)| name.len() as u64 + value_size(value))
                .sum()
        })
        .unwrap_or(0)
}

fn value_size(value: &Value) -> u64 {
    let Some((kind, inner)) = value.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    match kind.as_str() {
        "S" => inner.as_str().map_or(0, |s| s.len() as u64),
        // Binary travels as base64; DynamoDB counts the bytes.
        "B" => inner.as_str().map_or(0, base64_bytes),
        "N" => inner.as_str().map_or(1, |s| s.len() as u64 / 2 + 1),
        "M" => 3 + item_size(inner),
        "L" => {
            3 + inner
                .as_array()
                .map_or(0, |l| l.iter().map(value_size).sum())
        }
        "SS" | "NS" | "BS" => inner.as_array().map_or(0, |l| {
            l.iter()
                .filter_map(|s| s.as_str())
                .map(|s| s.len() as u64)
                .sum()
        }),
        _ => 1,
    }
}

/// The bytes a base64 text stands for.
fn base64_bytes(text: &str) -> u64 {
    let padding = text.bytes().rev().take_while(|&c| c == b'=').count();
    (text.len() / 4 * 3).saturating_sub(padding) as u64
}

fn units(size: u64, unit: u64) -> u64 {
    size.div_ceil(unit).max(1)
}

fn parse(bytes: Option<&[u8]>) -> Value {
    bytes
        .and_then(|b| serde_json::from_slice::<Value>(b).ok())
        .unwrap_or(Value::Null)
}

/// The estimated write units of a DynamoDB request, and the keys a batch read asks for.
fn request_cost(operation: &str, request: Option<&[u8]>) -> RequestCost {
    let request = parse(request);
    match operation {
        "TransactWriteItems" => RequestCost {
            write_units: request["TransactItems"].as_array().map_or(0, |items| {
                items
                    .iter()
                    .map(|item| {
                        let size = item.get("Put").map_or(0, |put| item_size(&put["Item"]));
                        2 * units(size, 1024)
                    })
                    .sum()
            }),
            keys: 0,
        },
        "PutItem" => RequestCost {
            write_units: units(item_size(&request["Item"]), 1024),
            keys: 0,
        },
        "UpdateItem" => RequestCost {
            write_units: units(item_size(&request["ExpressionAttributeValues"]), 1024),
            keys: 0,
        },
        "DeleteItem" => RequestCost {
            write_units: 1,
            keys: 0,
        },
        "BatchWriteItem" => RequestCost {
            write_units: request["RequestItems"].as_object().map_or(0, |tables| {
                tables
                    .values()
                    .flat_map(|r| r.as_array().cloned().unwrap_or_default())
                    .map(|r| units(item_size(&r["PutRequest"]["Item"]), 1024))
                    .sum()
            }),
            keys: 0,
        },
        "BatchGetItem" => RequestCost {
            write_units: 0,
            keys: request["RequestItems"].as_object().map_or(0, |tables| {
                tables
                    .values()
                    .map(|k| k["Keys"].as_array().map_or(0, |a| a.len() as u64))
                    .sum()
            }),
        },
        _ => RequestCost::default(),
    }
}

/// The estimated read units of a DynamoDB response (strongly consistent reads).
fn read_units(operation: &str, requested_keys: u64, response: Option<&[u8]>) -> u64 {
    let response = parse(response);
    match operation {
        "GetItem" => units(item_size(&response["Item"]), 4096),
        "BatchGetItem" => {
            let found: Vec<u64> = response["Responses"]
                .as_object()
                .map(|t| {
                    t.values()
                        .flat_map(|items| items.as_array().cloned().unwrap_or_default())
                        .map(|item| units(item_size(&item), 4096))
                        .collect()
                })
                .unwrap_or_default();
            let missing = requested_keys.saturating_sub(found.len() as u64);
            found.iter().sum::<u64>() + missing
        }
        "Query" | "Scan" => {
            let size: u64 = response["Items"]
                .as_array()
                .map_or(0, |items| items.iter().map(item_size).sum());
            units(size, 4096)
        }
        _ => 0,
    }
}

/// The flows on SDK clients that count their calls, against one moto table.
pub struct AwsBench {
    /// The flows.
    pub services: Services,
    /// The store (for seeding).
    pub store: Arc<dyn Store>,
    /// The clock the flows use.
    pub clock: Arc<SettableClock>,
    /// What the clients sent.
    pub counter: CallCounter,
}

/// Counted clients of `sdk`.
pub fn counted_clients(
    sdk: &SdkConfig,
    counter: &CallCounter,
) -> (
    aws_sdk_dynamodb::Client,
    aws_sdk_sns::Client,
    aws_sdk_sesv2::Client,
) {
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(sdk)
            .interceptor(counter.clone())
            .build(),
    );
    let sns = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(sdk)
            .interceptor(counter.clone())
            .build(),
    );
    let ses = aws_sdk_sesv2::Client::from_conf(
        aws_sdk_sesv2::config::Builder::from(sdk)
            .interceptor(counter.clone())
            .build(),
    );
    (dynamodb, sns, ses)
}

impl AwsBench {
    /// A new table on `moto` with its SES sender, and the flows over counted clients.
    pub async fn new(
        moto: &Moto,
        table: &str,
        clock: Arc<SettableClock>,
        keys: TokenKeyring,
    ) -> Self {
        moto.store(table).await;
        let counter = CallCounter::default();
        let (dynamodb, sns, ses) = counted_clients(&moto.sdk(), &counter);
        if let Err(e) = ensure_sender_identity(&ses, FROM_ADDRESS).await {
            panic!("SES identity on moto: {e}");
        }
        let store: Arc<dyn Store> = Arc::new(DynamoStore::new(dynamodb, table));
        let services = Services::new(
            store.clone(),
            Arc::new(SnsSmsSender::new(sns)),
            Arc::new(SesMailer::new(ses, FROM_ADDRESS, None)),
            clock.clone(),
            Some(keys),
            ServiceConfig {
                confirm_base_url: CONFIRM_BASE_URL.to_string(),
                ..ServiceConfig::default()
            },
        );
        counter.take();
        Self {
            services,
            store,
            clock,
            counter,
        }
    }
}

/// Registers a firm through the flow.
pub async fn register_firm(services: &Services, firm_id: &str, sms_number: &str) -> Firm {
    match services
        .put_firm(
            firm_id,
            FirmSettings {
                name: "Bench & Partners LLP".to_string(),
                sms_number: sms_number.to_string(),
                support_email: "help@bench-law.example".to_string(),
                support_phone: "(202) 555-0199".to_string(),
                website: "https://bench-law.example".to_string(),
                ..FirmSettings::default()
            },
        )
        .await
    {
        Ok((firm, _)) => firm,
        Err(e) => panic!("registering firm {firm_id}: {e}"),
    }
}

static NEXT_PHONE: AtomicU64 = AtomicU64::new(0);

/// A fresh California (415) number, unique in this run, never ending in 99 (moto reports those
/// as opted out at the carrier).
pub fn fresh_phone() -> PhoneNumber {
    loop {
        let n = NEXT_PHONE.fetch_add(1, Ordering::Relaxed);
        let exchange = 230 + n / 9_000;
        let line = 1_000 + n % 9_000;
        if line % 100 == 99 {
            continue;
        }
        let text = format!("+1415{exchange:03}{line:04}");
        match PhoneNumber::parse(&text) {
            Ok(phone) => return phone,
            Err(e) => panic!("{text} is not a valid number: {e}"),
        }
    }
}

/// `n` fresh numbers.
pub fn fresh_phones(n: usize) -> Vec<PhoneNumber> {
    (0..n).map(|_| fresh_phone()).collect()
}

/// What seeded records should look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    /// A new contact's pending record (opt-in request not sent).
    Pending,
    /// Opted in by an SMS YES.
    OptedIn,
}

/// Writes consent records for `phones` straight through the store port (one conditional
/// write each, as the model's transitions would make them), one after another (moto's
/// `TransactWriteItems` is not safe to call concurrently).
pub async fn seed(
    store: &Arc<dyn Store>,
    firm: &Firm,
    phones: &[PhoneNumber],
    seed: Seed,
    time_zone: Option<&str>,
    now: DateTime<Utc>,
) {
    for (i, phone) in phones.iter().enumerate() {
        let created = transition::apply(
            None,
            &firm.firm_id,
            phone,
            ConsentEvent::ContactCreated {
                contact_id: format!("seed-{i}-{}", phone.as_str()),
                source: Some("consent-bench".to_string()),
                email: None,
                double_opt_in: firm.double_opt_in,
                time_zone: time_zone.map(str::to_string),
            },
            now,
        );
        let mut record = created.record;
        let mut events = created.events;
        if seed == Seed::OptedIn {
            let yes = transition::apply(
                record.as_ref(),
                &firm.firm_id,
                phone,
                ConsentEvent::SmsReceived {
                    inbound_message_id: format!("seed-yes-{}", phone.as_str()),
                    text: "YES".to_string(),
                    received_at: now,
                },
                now,
            );
            if yes.record.is_some() {
                record = yes.record;
            }
            events.extend(yes.events);
        }
        let write = ConsentWrite::new(&firm.firm_id, phone, None, record, events);
        if let Err(e) = store.commit(write).await {
            panic!("seeding {}: {e:?}", phone.masked());
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_items_size_counts_binary_by_its_bytes_not_its_base64() {
        // "aGVsbG8=" is base64 for the 5 bytes "hello"; "doc" 3 + 5, "ab" 2 + 2.
        let item = json!({"doc": {"B": "aGVsbG8="}, "ab": {"S": "cd"}});
        assert_eq!(item_size(&item), 12);
        assert_eq!(base64_bytes("aGVsbG8h"), 6);
    }
}
