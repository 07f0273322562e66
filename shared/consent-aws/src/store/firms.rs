//! [`FirmStore`] over the table: a firm's settings, its number route and its audit events.

use async_trait::async_trait;

use consent::evidence::audit::AuditEvent;
use consent::model::firm::Firm;
use consent::model::phone::PhoneNumber;
use consent::ports::{FirmStore, StoreError};

use super::conditions::{Condition, Conflict};
use super::items::{backend, doc_item, key_item, n_u64, parse_doc, parse_events, s, string_attr};
use super::{DynamoStore, Item};
use crate::keys;

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
        // Its place in the listing of firms (keys.rs: gsi2, partition FIRMS).
        firm_item.insert(keys::GSI2PK.into(), s(keys::FIRMS_PARTITION));
        firm_item.insert(keys::GSI2SK.into(), s(firm_id));
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

    async fn list_firm_ids(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        const OP: &str = "list_firm_ids";
        let mut ids = Vec::new();
        let mut start: Option<Item> = None;
        while ids.len() < limit {
            let page = i32::try_from(limit - ids.len()).unwrap_or(i32::MAX);
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI2)
                .expression_attribute_names("#gpk", keys::GSI2PK)
                .expression_attribute_names("#gsk", keys::GSI2SK)
                .expression_attribute_values(":firms", s(keys::FIRMS_PARTITION))
                // Only the id is read back (the firm documents stay behind).
                .projection_expression("#gsk")
                .scan_index_forward(true)
                .limit(page)
                .set_exclusive_start_key(start.take());
            query = match after {
                Some(after) => query
                    .key_condition_expression("#gpk = :firms AND #gsk > :after")
                    .expression_attribute_values(":after", s(after)),
                None => query.key_condition_expression("#gpk = :firms"),
            };
            let output = query.send().await.map_err(|e| backend(OP, e))?;
            for item in output.items.unwrap_or_default() {
                ids.push(string_attr(OP, "firm", &item, keys::GSI2SK)?);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        ids.truncate(limit);
        Ok(ids)
    }

    async fn firm_events(&self, firm_id: &str) -> Result<Vec<AuditEvent>, StoreError> {
        const OP: &str = "firm_events";
        self.query_prefix(OP, &keys::firm_partition(firm_id), keys::EVENT_PREFIX)
            .await?
            .iter()
            .map(|item| parse_events(OP, "firm event", item))
            .collect::<Result<Vec<_>, _>>()
            .map(|items| items.into_iter().flatten().collect())
    }
}
