//! The DynamoDB store: the four store ports over one table (layout in [`crate::keys`]), with the
//! same conditions as the in-memory store, enforced by DynamoDB condition expressions.

use std::collections::{HashMap, HashSet};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use consent::audit::AuditEvent;
use consent::firm::Firm;
use consent::phone::PhoneNumber;
use consent::ports::{
    ConsentListPosition, ConsentStore, ConsentWrite, Contact, DeferredSend, DeferredStore,
    FirmStore, IdempotencyClaim, IdempotencyStore, StoreError, StoredResponse,
};
use consent::record::{ConsentRecord, ConsentStatus};

use crate::errors::{is_retryable, is_retryable_reason};
use crate::keys::{self, Key};

/// One DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// DynamoDB's limit on the items of one `TransactWriteItems`.
pub const MAX_TRANSACTION_ITEMS: usize = 100;
/// DynamoDB's limit on the keys of one `BatchGetItem`.
pub const BATCH_GET_KEYS: usize = 100;
/// How many times unprocessed batch keys are asked for again before giving up.
const BATCH_GET_ATTEMPTS: u32 = 8;
/// How many times a claim whose condition failed on an item that then looked claimable (it
/// changed in between) is tried again.
const CLAIM_ATTEMPTS: usize = 3;
/// How long an abandoned idempotency claim is kept after it lapsed, before the TTL sweeper
/// removes it (a lapsed claim can be taken over anyway, so this only bounds the table's size).
const ABANDONED_CLAIM_TTL_HOURS: i64 = 24;

/// Something in the table is not what this code writes, or a request cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ItemError {
    /// An attribute the item must have is missing or has the wrong type (keys not echoed, as
    /// they carry phone numbers).
    #[error("a {kind} item has no {attribute} attribute of the expected type")]
    MissingAttribute {
        /// The kind of item.
        kind: &'static str,
        /// The attribute.
        attribute: &'static str,
    },
    /// The item's JSON document does not read as its model type.
    #[error("a {kind} item's document is not valid")]
    Document {
        /// The kind of item.
        kind: &'static str,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A write needs more items than one transaction takes.
    #[error("the write needs {0} items; one transaction takes at most {MAX_TRANSACTION_ITEMS}")]
    TooManyItems(usize),
    /// DynamoDB kept returning some keys of a batch read as unprocessed.
    #[error("{0} keys were still unprocessed after {BATCH_GET_ATTEMPTS} attempts")]
    Unprocessed(usize),
    /// A request could not be built (a bug in this crate, not a backend failure).
    #[error("the request could not be built")]
    Build(#[source] aws_smithy_types::error::operation::BuildError),
}

/// The store over one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// A store on `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Reads one item, strongly consistent.
    async fn get_item(
        &self,
        operation: &'static str,
        key: &Key,
    ) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend(operation, e))?;
        Ok(output.item)
    }

    /// Every item of `pk` whose sort key starts with `prefix`, ascending, all pages.
    async fn query_prefix(
        &self,
        operation: &'static str,
        pk: &str,
        prefix: &str,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_names("#sk", keys::SK)
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true)
                .scan_index_forward(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend(operation, e))?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// Runs one transaction; a failed condition at index `i` becomes `conflicts[i]`'s error.
    async fn transact(
        &self,
        operation: &'static str,
        items: Vec<(TransactWriteItem, Conflict)>,
    ) -> Result<(), StoreError> {
        if items.len() > MAX_TRANSACTION_ITEMS {
            return Err(item_error(operation, ItemError::TooManyItems(items.len())));
        }
        let (items, conflicts): (Vec<_>, Vec<_>) = items.into_iter().unzip();
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) => Err(transaction_error(operation, error, &conflicts)),
        }
    }

    fn put(
        &self,
        operation: &'static str,
        item: Item,
        condition: Option<Condition>,
    ) -> Result<TransactWriteItem, StoreError> {
        let (expression, names, values) = Condition::parts(condition);
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .map_err(|e| item_error(operation, ItemError::Build(e)))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn check(
        &self,
        operation: &'static str,
        key: &Key,
        condition: Condition,
    ) -> Result<TransactWriteItem, StoreError> {
        let (expression, names, values) = Condition::parts(Some(condition));
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .set_condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .map_err(|e| item_error(operation, ItemError::Build(e)))?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    fn delete(
        &self,
        operation: &'static str,
        key: &Key,
        condition: Condition,
    ) -> Result<TransactWriteItem, StoreError> {
        let (expression, names, values) = Condition::parts(Some(condition));
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .set_condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .map_err(|e| item_error(operation, ItemError::Build(e)))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// The puts of audit events, each of which must be new (events are append-only).
    fn event_puts(
        &self,
        operation: &'static str,
        events: &[AuditEvent],
        key: impl Fn(&AuditEvent) -> Key,
    ) -> Result<Vec<(TransactWriteItem, Conflict)>, StoreError> {
        events
            .iter()
            .map(|event| {
                let mut item = doc_item(operation, &key(event), event)?;
                item.insert(keys::TYPE.into(), s(event.type_name()));
                let put = self.put(operation, item, Some(Condition::must_not_exist()))?;
                Ok((put, Conflict::Version))
            })
            .collect()
    }

    /// One attempt at a claim: `Ok(None)` when the condition failed on an item that no longer
    /// blocks a claim (it changed in between), so the caller tries again.
    async fn try_claim(
        &self,
        key: &Key,
        payload_hash: &str,
        now: DateTime<Utc>,
        in_progress_until: DateTime<Utc>,
    ) -> Result<Option<IdempotencyClaim>, StoreError> {
        const OP: &str = "claim_idempotency";
        let mut item = key_item(key);
        item.insert(keys::PAYLOAD_HASH.into(), s(payload_hash));
        item.insert(
            keys::IN_PROGRESS_UNTIL.into(),
            n(keys::micros(in_progress_until)),
        );
        item.insert(
            keys::TTL.into(),
            n(keys::ttl_seconds(
                in_progress_until + Duration::hours(ABANDONED_CLAIM_TTL_HOURS),
            )),
        );
        // The same test as the in-memory store, negated: absent, expired, or a lapsed claim
        // of the same payload that was never completed.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(#pk) OR #expires <= :now \
                 OR (#hash = :hash AND attribute_not_exists(#response) AND #until <= :now)",
            )
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#expires", keys::EXPIRES_AT)
            .expression_attribute_names("#hash", keys::PAYLOAD_HASH)
            .expression_attribute_names("#response", keys::RESPONSE)
            .expression_attribute_names("#until", keys::IN_PROGRESS_UNTIL)
            .expression_attribute_values(":now", n(keys::micros(now)))
            .expression_attribute_values(":hash", s(payload_hash))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(Some(IdempotencyClaim::Claimed)),
            Err(error) => error,
        };
        let Some(service) = error.as_service_error() else {
            return Err(backend(OP, error));
        };
        if !service.is_conditional_check_failed_exception() {
            return Err(backend(OP, error));
        }
        let returned = match service {
            aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(
                e,
            ) => e.item().cloned(),
            _ => None,
        };
        // Emulators may not return the old item; a consistent read gets it then.
        let existing = match returned {
            Some(item) => Some(item),
            None => self.get_item(OP, key).await?,
        };
        match existing {
            Some(item) => existing_claim(&item, payload_hash, now),
            None => Ok(None),
        }
    }
}

/// What a failed condition of a transaction item means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conflict {
    /// The item changed since it was read: re-read and re-decide.
    Version,
    /// The number route belongs to another firm.
    NumberInUse,
    /// The inbound message was applied before.
    DuplicateInbound,
    /// The item has no condition.
    None,
}

/// A condition expression with its placeholders.
#[derive(Debug, Clone, Default)]
struct Condition {
    expression: String,
    names: HashMap<String, String>,
    values: Item,
}

type ConditionParts = (
    Option<String>,
    Option<HashMap<String, String>>,
    Option<Item>,
);

impl Condition {
    fn new(expression: &str) -> Self {
        Self {
            expression: expression.to_string(),
            ..Self::default()
        }
    }

    fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.names.insert(placeholder.into(), attribute.into());
        self
    }

    fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.into(), value);
        self
    }

    /// The item must not exist yet.
    fn must_not_exist() -> Self {
        Self::new("attribute_not_exists(#pk)").name("#pk", keys::PK)
    }

    /// The item's version must be `expected` (`None`: the item must not exist).
    fn version(expected: Option<u64>) -> Self {
        match expected {
            None => Self::must_not_exist(),
            Some(version) => Self::new("#version = :expected")
                .name("#version", keys::VERSION)
                .value(":expected", n_u64(version)),
        }
    }

    /// Also: the item's chain head must be `head` (absent when `None`).
    fn and_head(self, head: Option<&str>) -> Self {
        let mut condition = match head {
            Some(head) => {
                let mut c = self.value(":head", s(head));
                c.expression = format!("({}) AND #head = :head", c.expression);
                c
            }
            None => {
                let mut c = self;
                c.expression = format!("({}) AND attribute_not_exists(#head)", c.expression);
                c
            }
        };
        condition
            .names
            .insert("#head".into(), keys::AUDIT_HEAD.into());
        condition
    }

    /// The item must not exist or must belong to `firm_id`.
    fn absent_or_owned_by(firm_id: &str) -> Self {
        Self::new("attribute_not_exists(#pk) OR #firm = :me")
            .name("#pk", keys::PK)
            .name("#firm", keys::FIRM_ID)
            .value(":me", s(firm_id))
    }

    /// The parts for a request builder; DynamoDB refuses empty maps, so they become `None`.
    fn parts(condition: Option<Self>) -> ConditionParts {
        match condition {
            None => (None, None, None),
            Some(c) => (
                Some(c.expression),
                (!c.names.is_empty()).then_some(c.names),
                (!c.values.is_empty()).then_some(c.values),
            ),
        }
    }
}

#[async_trait]
impl FirmStore for DynamoStore {
    async fn get_firm(&self, firm_id: &str) -> Result<Option<Firm>, StoreError> {
        const OP: &str = "get_firm";
        self.get_item(OP, &keys::firm(firm_id))
            .await?
            .map(|item| parse_doc(OP, "firm", &item))
            .transpose()
    }

    async fn put_firm(
        &self,
        firm: &Firm,
        expected_version: Option<u64>,
        previous_number: Option<&PhoneNumber>,
        events: &[AuditEvent],
    ) -> Result<(), StoreError> {
        const OP: &str = "put_firm";
        let firm_id = firm.firm_id.as_str();
        let mut firm_item = doc_item(OP, &keys::firm(firm_id), firm)?;
        firm_item.insert(keys::VERSION.into(), n_u64(firm.version));
        // Index order is the order of precedence: a version conflict is reported before a
        // number in use, as the in-memory store does.
        let mut items = vec![(
            self.put(OP, firm_item, Some(Condition::version(expected_version)))?,
            Conflict::Version,
        )];
        let mut route_item = key_item(&keys::route(&firm.sms_number));
        route_item.insert(keys::FIRM_ID.into(), s(firm_id));
        items.push((
            self.put(OP, route_item, Some(Condition::absent_or_owned_by(firm_id)))?,
            Conflict::NumberInUse,
        ));
        if let Some(previous) = previous_number.filter(|p| *p != &firm.sms_number) {
            // Only our own route is removed; another firm's would mean the read was stale.
            items.push((
                self.delete(
                    OP,
                    &keys::route(previous),
                    Condition::absent_or_owned_by(firm_id),
                )?,
                Conflict::Version,
            ));
        }
        items.extend(self.event_puts(OP, events, |e| keys::firm_event(firm_id, &e.id))?);
        self.transact(OP, items).await
    }

    async fn firm_for_number(
        &self,
        sms_number: &PhoneNumber,
    ) -> Result<Option<String>, StoreError> {
        const OP: &str = "firm_for_number";
        self.get_item(OP, &keys::route(sms_number))
            .await?
            .map(|item| string_attr(OP, "route", &item, keys::FIRM_ID))
            .transpose()
    }

    async fn firm_events(&self, firm_id: &str) -> Result<Vec<AuditEvent>, StoreError> {
        const OP: &str = "firm_events";
        self.query_prefix(OP, &keys::firm_partition(firm_id), keys::EVENT_PREFIX)
            .await?
            .iter()
            .map(|item| parse_doc(OP, "firm event", item))
            .collect()
    }
}

#[async_trait]
impl ConsentStore for DynamoStore {
    async fn get_consent(
        &self,
        firm_id: &str,
        phone: &PhoneNumber,
    ) -> Result<Option<ConsentRecord>, StoreError> {
        const OP: &str = "get_consent";
        self.get_item(OP, &keys::consent(firm_id, phone))
            .await?
            .map(|item| parse_doc(OP, "consent", &item))
            .transpose()
    }

    async fn get_consents(
        &self,
        firm_id: &str,
        phones: &[PhoneNumber],
    ) -> Result<HashMap<PhoneNumber, ConsentRecord>, StoreError> {
        const OP: &str = "get_consents";
        // BatchGetItem refuses a request that names one key twice.
        let mut by_pk: HashMap<String, PhoneNumber> = HashMap::new();
        let mut unique: Vec<&PhoneNumber> = Vec::new();
        let mut seen = HashSet::new();
        for phone in phones {
            if seen.insert(phone.as_str()) {
                by_pk.insert(keys::consent_partition(firm_id, phone), phone.clone());
                unique.push(phone);
            }
        }
        let mut found = HashMap::new();
        for chunk in unique.chunks(BATCH_GET_KEYS) {
            let keys: Vec<Item> = chunk
                .iter()
                .map(|phone| key_item(&keys::consent(firm_id, phone)))
                .collect();
            for item in self.batch_get(OP, keys).await? {
                let pk = string_attr(OP, "consent", &item, keys::PK)?;
                let record: ConsentRecord = parse_doc(OP, "consent", &item)?;
                if let Some(phone) = by_pk.get(&pk) {
                    found.insert(phone.clone(), record);
                }
            }
        }
        Ok(found)
    }

    async fn commit(&self, write: ConsentWrite) -> Result<(), StoreError> {
        const OP: &str = "commit";
        let firm_id = write.firm_id.as_str();
        let record_key = keys::consent(firm_id, &write.phone);
        let mut condition = Condition::version(write.expected_version);
        if write.checks_head() {
            condition = condition.and_head(write.chained_onto.as_deref());
        }
        // Index 0 is always the record, so its failed condition is found first: a version
        // conflict takes precedence over a duplicate inbound id, as in the in-memory store.
        let mut items = vec![(
            match &write.record {
                Some(record) => {
                    let mut item = doc_item(OP, &record_key, record)?;
                    item.insert(keys::VERSION.into(), n_u64(record.version));
                    item.insert(keys::STATUS.into(), s(record.status.as_str()));
                    if let Some(head) = &record.audit_head {
                        item.insert(keys::AUDIT_HEAD.into(), s(head));
                    }
                    // The sparse index of a firm's records by status (exports).
                    item.insert(keys::GSI2PK.into(), s(keys::consents_of_firm(firm_id)));
                    item.insert(
                        keys::GSI2SK.into(),
                        s(ConsentListPosition::of(record).sort_key()),
                    );
                    self.put(OP, item, Some(condition))?
                }
                None => self.check(OP, &record_key, condition)?,
            },
            Conflict::Version,
        )];
        let phone = &write.phone;
        items.extend(self.event_puts(OP, &write.events, |e| {
            keys::consent_event(firm_id, phone, &e.id)
        })?);
        if let Some(contact) = &write.contact {
            let key = keys::contact(&contact.firm_id, &contact.contact_id);
            let mut item = doc_item(OP, &key, contact)?;
            item.insert(keys::PHONE.into(), s(contact.phone.as_str()));
            items.push((self.put(OP, item, None)?, Conflict::None));
        }
        if let Some(deferred) = &write.deferred {
            items.push((
                self.put(OP, deferred_item(OP, deferred)?, None)?,
                Conflict::None,
            ));
        }
        if let Some(id) = &write.inbound_message_id {
            let mut item = key_item(&keys::inbound(firm_id, id));
            // Housekeeping only, so the wall clock is right here; the record also remembers
            // its recent inbound ids.
            let expires = Utc::now() + Duration::days(keys::INBOUND_MARKER_DAYS);
            item.insert(keys::TTL.into(), n(keys::ttl_seconds(expires)));
            items.push((
                self.put(OP, item, Some(Condition::must_not_exist()))?,
                Conflict::DuplicateInbound,
            ));
        }
        self.transact(OP, items).await
    }

    async fn events(
        &self,
        firm_id: &str,
        phone: &PhoneNumber,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        const OP: &str = "events";
        self.query_prefix(
            OP,
            &keys::consent_partition(firm_id, phone),
            keys::EVENT_PREFIX,
        )
        .await?
        .iter()
        .map(|item| parse_doc(OP, "consent event", item))
        .collect()
    }

    async fn get_contact(
        &self,
        firm_id: &str,
        contact_id: &str,
    ) -> Result<Option<Contact>, StoreError> {
        const OP: &str = "get_contact";
        self.get_item(OP, &keys::contact(firm_id, contact_id))
            .await?
            .map(|item| parse_doc(OP, "contact", &item))
            .transpose()
    }

    async fn list_consents(
        &self,
        firm_id: &str,
        status: Option<ConsentStatus>,
        after: Option<&ConsentListPosition>,
        limit: usize,
    ) -> Result<Vec<ConsentRecord>, StoreError> {
        const OP: &str = "list_consents";
        let after = after.map(ConsentListPosition::sort_key);
        // One sort key condition per query: a status is the range `<status>#` to `<status>$`
        // (`$` sorts right after `#`), resumed from the last key seen (inclusive, so that
        // one is dropped below); without a status, everything after it. The positions are
        // built from our own keys rather than passed as an ExclusiveStartKey, so a page
        // resumes correctly even when the last record has changed status since.
        let (condition, values): (&str, Vec<(&str, String)>) = match (status, &after) {
            (Some(status), Some(after)) => (
                "#gpk = :firm AND #gsk BETWEEN :from AND :to",
                vec![
                    (":from", after.clone()),
                    (":to", format!("{}$", status.as_str())),
                ],
            ),
            (Some(status), None) => (
                "#gpk = :firm AND begins_with(#gsk, :prefix)",
                vec![(":prefix", format!("{}#", status.as_str()))],
            ),
            (None, Some(after)) => (
                "#gpk = :firm AND #gsk > :from",
                vec![(":from", after.clone())],
            ),
            (None, None) => ("#gpk = :firm", Vec::new()),
        };
        let mut records = Vec::new();
        let mut start: Option<Item> = None;
        while records.len() < limit {
            // One more than needed: the inclusive lower bound may return the last one seen.
            let page = i32::try_from(limit - records.len() + 1).unwrap_or(i32::MAX);
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI2)
                .key_condition_expression(condition)
                .expression_attribute_names("#gpk", keys::GSI2PK)
                .expression_attribute_values(":firm", s(keys::consents_of_firm(firm_id)))
                .scan_index_forward(true)
                .limit(page)
                .set_exclusive_start_key(start.take());
            // DynamoDB refuses a name the expression does not use.
            if !values.is_empty() {
                query = query.expression_attribute_names("#gsk", keys::GSI2SK);
            }
            for (name, value) in &values {
                query = query.expression_attribute_values(*name, s(value.clone()));
            }
            let output = query.send().await.map_err(|e| backend(OP, e))?;
            for item in output.items.unwrap_or_default() {
                let key = string_attr(OP, "consent", &item, keys::GSI2SK)?;
                if after.as_ref().is_some_and(|after| &key <= after) {
                    continue;
                }
                records.push(parse_doc(OP, "consent", &item)?);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        records.truncate(limit);
        Ok(records)
    }
}

impl DynamoStore {
    /// Reads up to 100 keys, strongly consistent, asking again for unprocessed keys with a
    /// short, growing pause.
    async fn batch_get(
        &self,
        operation: &'static str,
        keys: Vec<Item>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut pending = keys;
        for attempt in 0..BATCH_GET_ATTEMPTS {
            if pending.is_empty() {
                return Ok(items);
            }
            if attempt > 0 {
                tracing::debug!(
                    unprocessed = pending.len(),
                    attempt,
                    "batch get: retrying unprocessed keys"
                );
                let millis = (25u64 << attempt).min(1_000);
                tokio::time::sleep(StdDuration::from_millis(millis)).await;
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(|e| item_error(operation, ItemError::Build(e)))?;
            let mut output = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| backend(operation, e))?;
            if let Some(mut responses) = output.responses.take() {
                items.extend(responses.remove(&self.table).unwrap_or_default());
            }
            pending = output
                .unprocessed_keys
                .take()
                .and_then(|mut unprocessed| unprocessed.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
        }
        if pending.is_empty() {
            Ok(items)
        } else {
            Err(StoreError::Backend {
                operation,
                retryable: true,
                source: Box::new(ItemError::Unprocessed(pending.len())),
            })
        }
    }
}

#[async_trait]
impl IdempotencyStore for DynamoStore {
    async fn claim(
        &self,
        key: &str,
        payload_hash: &str,
        now: DateTime<Utc>,
        in_progress_until: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StoreError> {
        let key = keys::idempotency(key);
        for _ in 0..CLAIM_ATTEMPTS {
            if let Some(claim) = self
                .try_claim(&key, payload_hash, now, in_progress_until)
                .await?
            {
                return Ok(claim);
            }
        }
        Err(StoreError::VersionConflict {
            operation: "claim_idempotency",
        })
    }

    async fn complete(
        &self,
        key: &str,
        payload_hash: &str,
        response: &StoredResponse,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const OP: &str = "complete_idempotency";
        let response = serde_json::to_string(response).map_err(|e| {
            item_error(
                OP,
                ItemError::Document {
                    kind: "idempotency",
                    source: e,
                },
            )
        })?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::idempotency(key))))
            .update_expression("SET #response = :response, #expires = :expires, #ttl = :ttl")
            .condition_expression(
                "attribute_exists(#pk) AND #hash = :hash AND attribute_not_exists(#response)",
            )
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#hash", keys::PAYLOAD_HASH)
            .expression_attribute_names("#response", keys::RESPONSE)
            .expression_attribute_names("#expires", keys::EXPIRES_AT)
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":response", s(response))
            .expression_attribute_values(":expires", n(keys::micros(expires_at)))
            .expression_attribute_values(":ttl", n(keys::ttl_seconds(expires_at)))
            .expression_attribute_values(":hash", s(payload_hash))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::VersionConflict { operation: OP })
            }
            Err(e) => Err(backend(OP, e)),
        }
    }

    async fn release(&self, key: &str) -> Result<(), StoreError> {
        const OP: &str = "release_idempotency";
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::idempotency(key))))
            .condition_expression("attribute_not_exists(#response)")
            .expression_attribute_names("#response", keys::RESPONSE)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // A completed key is kept: its response is what a retry must get.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(backend(OP, e)),
        }
    }
}

#[async_trait]
impl DeferredStore for DynamoStore {
    async fn due_deferred(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<DeferredSend>, StoreError> {
        const OP: &str = "due_deferred";
        let mut due: Vec<DeferredSend> = Vec::new();
        let mut start: Option<Item> = None;
        while due.len() < limit {
            let page = i32::try_from(limit - due.len()).unwrap_or(i32::MAX);
            // GSIs are eventually consistent: a send deferred a moment ago may show up on the
            // next pass, and one already taken may still show (take_deferred settles that).
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI1)
                .key_condition_expression("#gpk = :due AND #gsk < :upper")
                .expression_attribute_names("#gpk", keys::GSI1PK)
                .expression_attribute_names("#gsk", keys::GSI1SK)
                .expression_attribute_values(":due", s(keys::DUE_PARTITION))
                .expression_attribute_values(":upper", s(keys::due_upper_bound(now)))
                .scan_index_forward(true)
                .limit(page)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend(OP, e))?;
            for item in output.items.unwrap_or_default() {
                let send: DeferredSend = parse_doc(OP, "deferred send", &item)?;
                if send.not_before <= now {
                    due.push(send);
                }
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        due.truncate(limit);
        Ok(due)
    }

    async fn take_deferred(&self, send: &DeferredSend) -> Result<bool, StoreError> {
        const OP: &str = "take_deferred";
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::deferred(&send.id))))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", keys::PK)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            // Someone else took it first.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(backend(OP, e)),
        }
    }
}

/// What an existing idempotency item means for a claim, exactly as the in-memory store decides;
/// `None` when it does not block a claim.
fn existing_claim(
    item: &Item,
    payload_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<IdempotencyClaim>, StoreError> {
    const OP: &str = "claim_idempotency";
    const KIND: &str = "idempotency";
    let now = keys::micros(now);
    let expired = optional_number(OP, KIND, item, keys::EXPIRES_AT)?.is_some_and(|at| at <= now);
    if expired {
        return Ok(None);
    }
    if string_attr(OP, KIND, item, keys::PAYLOAD_HASH)? != payload_hash {
        return Ok(Some(IdempotencyClaim::PayloadMismatch));
    }
    if let Some(AttributeValue::S(response)) = item.get(keys::RESPONSE) {
        let response: StoredResponse = serde_json::from_str(response).map_err(|e| {
            item_error(
                OP,
                ItemError::Document {
                    kind: KIND,
                    source: e,
                },
            )
        })?;
        return Ok(Some(IdempotencyClaim::Completed(response)));
    }
    let until = optional_number(OP, KIND, item, keys::IN_PROGRESS_UNTIL)?.ok_or_else(|| {
        item_error(
            OP,
            ItemError::MissingAttribute {
                kind: KIND,
                attribute: keys::IN_PROGRESS_UNTIL,
            },
        )
    })?;
    if until > now {
        let until = DateTime::from_timestamp_micros(until).ok_or_else(|| {
            item_error(
                OP,
                ItemError::MissingAttribute {
                    kind: KIND,
                    attribute: keys::IN_PROGRESS_UNTIL,
                },
            )
        })?;
        return Ok(Some(IdempotencyClaim::InProgress { until }));
    }
    Ok(None)
}

/// Maps a failed transaction: the first failed condition, in index order, decides.
fn transaction_error(
    operation: &'static str,
    error: SdkError<TransactWriteItemsError, Response>,
    conflicts: &[Conflict],
) -> StoreError {
    let cancelled = match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => {
            let reasons = cancel.cancellation_reasons();
            let conflict = reasons
                .iter()
                .zip(conflicts)
                .find(|(reason, conflict)| {
                    reason.code() == Some("ConditionalCheckFailed") && **conflict != Conflict::None
                })
                .map(|(_, conflict)| *conflict);
            Some((
                conflict,
                reasons.iter().any(|r| is_retryable_reason(r.code())),
            ))
        }
        _ => None,
    };
    match cancelled {
        Some((Some(Conflict::Version), _)) => StoreError::VersionConflict { operation },
        Some((Some(Conflict::NumberInUse), _)) => StoreError::NumberInUse,
        Some((Some(Conflict::DuplicateInbound), _)) => StoreError::DuplicateInbound,
        Some((_, retryable)) => StoreError::Backend {
            operation,
            retryable,
            source: Box::new(error),
        },
        None => backend(operation, error),
    }
}

/// A backend failure, classified, with the SDK error kept whole.
pub(crate) fn backend<E>(operation: &'static str, error: SdkError<E, Response>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    StoreError::Backend {
        operation,
        retryable: is_retryable(&error),
        source: Box::new(error),
    }
}

fn item_error(operation: &'static str, error: ItemError) -> StoreError {
    StoreError::Backend {
        operation,
        retryable: false,
        source: Box::new(error),
    }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn n_u64(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The key attributes of an item.
pub(crate) fn key_item(key: &Key) -> Item {
    HashMap::from([
        (keys::PK.to_string(), s(&key.pk)),
        (keys::SK.to_string(), s(&key.sk)),
    ])
}

/// An item of `key` holding `value` as its JSON `doc`.
fn doc_item<T: Serialize>(
    operation: &'static str,
    key: &Key,
    value: &T,
) -> Result<Item, StoreError> {
    let doc = serde_json::to_string(value).map_err(|e| {
        item_error(
            operation,
            ItemError::Document {
                kind: "model",
                source: e,
            },
        )
    })?;
    let mut item = key_item(key);
    item.insert(keys::DOC.into(), s(doc));
    Ok(item)
}

fn deferred_item(operation: &'static str, send: &DeferredSend) -> Result<Item, StoreError> {
    let mut item = doc_item(operation, &keys::deferred(&send.id), send)?;
    item.insert(keys::GSI1PK.into(), s(keys::DUE_PARTITION));
    item.insert(
        keys::GSI1SK.into(),
        s(keys::due_sort_key(send.not_before, &send.id)),
    );
    Ok(item)
}

fn parse_doc<T: DeserializeOwned>(
    operation: &'static str,
    kind: &'static str,
    item: &Item,
) -> Result<T, StoreError> {
    let doc = string_attr(operation, kind, item, keys::DOC)?;
    serde_json::from_str(&doc)
        .map_err(|e| item_error(operation, ItemError::Document { kind, source: e }))
}

fn string_attr(
    operation: &'static str,
    kind: &'static str,
    item: &Item,
    attribute: &'static str,
) -> Result<String, StoreError> {
    match item.get(attribute) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        _ => Err(item_error(
            operation,
            ItemError::MissingAttribute { kind, attribute },
        )),
    }
}

fn optional_number(
    operation: &'static str,
    kind: &'static str,
    item: &Item,
    attribute: &'static str,
) -> Result<Option<i64>, StoreError> {
    match item.get(attribute) {
        None => Ok(None),
        Some(AttributeValue::N(value)) => value
            .parse()
            .map(Some)
            .map_err(|_| item_error(operation, ItemError::MissingAttribute { kind, attribute })),
        Some(_) => Err(item_error(
            operation,
            ItemError::MissingAttribute { kind, attribute },
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idem_item(hash: &str, until: i64, response: Option<&str>, expires: Option<i64>) -> Item {
        let mut item = key_item(&keys::idempotency("k"));
        item.insert(keys::PAYLOAD_HASH.into(), s(hash));
        item.insert(keys::IN_PROGRESS_UNTIL.into(), n(until));
        if let Some(response) = response {
            item.insert(keys::RESPONSE.into(), s(response));
        }
        if let Some(expires) = expires {
            item.insert(keys::EXPIRES_AT.into(), n(expires));
        }
        item
    }

    #[test]
    fn existing_claims_decide_like_the_memory_store() {
        let now = Utc::now();
        let t = keys::micros(now);
        let response = r#"{"status":202,"body":{"ok":true}}"#;
        let decide = |item: &Item, hash: &str| existing_claim(item, hash, now).ok().flatten();

        assert_eq!(
            decide(&idem_item("a", t + 1_000, None, None), "b"),
            Some(IdempotencyClaim::PayloadMismatch)
        );
        assert!(matches!(
            decide(&idem_item("a", t + 1_000, None, None), "a"),
            Some(IdempotencyClaim::InProgress { .. })
        ));
        assert_eq!(decide(&idem_item("a", t, None, None), "a"), None);
        assert!(matches!(
            decide(&idem_item("a", t - 5, Some(response), Some(t + 10)), "a"),
            Some(IdempotencyClaim::Completed(r)) if r.status == 202
        ));
        // Expired: as good as absent, whatever the payload.
        assert_eq!(
            decide(&idem_item("a", t - 5, Some(response), Some(t)), "b"),
            None
        );
        // A lapsed claim of another payload still refuses, as in memory.
        assert_eq!(
            decide(&idem_item("a", t - 5, None, None), "b"),
            Some(IdempotencyClaim::PayloadMismatch)
        );
    }

    #[test]
    fn empty_condition_maps_become_none() {
        let (expr, names, values) = Condition::parts(Some(Condition::must_not_exist()));
        assert_eq!(expr.as_deref(), Some("attribute_not_exists(#pk)"));
        assert!(names.is_some());
        assert!(values.is_none());
        assert_eq!(Condition::parts(None), (None, None, None));
    }
}
