//! The SAM template's DynamoDB table: the key layout `consent_aws::keys` describes, and
//! settings that let it survive a stack deletion.

use std::collections::BTreeMap;

use consent_aws::keys;
use consent_tests::sam::{TEMPLATE, Template, fail_if_any, read, workspace_root};
use serde_yaml_ng::Value;

/// A global secondary index of the adapter's key layout.
#[derive(Debug)]
struct AdapterIndex {
    name: String,
    pk: String,
    sk: String,
}

/// The string constants `pub const NAME: &str = "value";` of a Rust source file.
fn string_constants(source: &str) -> BTreeMap<String, String> {
    source
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("pub const ")?;
            let (name, rest) = rest.split_once(": &str = \"")?;
            let (value, _) = rest.split_once('"')?;
            Some((name.to_string(), value.to_string()))
        })
        .collect()
}

/// The indexes `shared/consent-aws/src/keys.rs` declares: each `GSI<n>` with its `GSI<n>PK`
/// and `GSI<n>SK` attributes (the constants `table.rs` creates the indexes from).
fn adapter_indexes() -> Vec<AdapterIndex> {
    let constants = string_constants(&read(
        &workspace_root().join("shared/consent-aws/src/keys.rs"),
    ));
    constants
        .iter()
        .filter(|(name, _)| {
            name.strip_prefix("GSI")
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        })
        .map(|(name, index)| {
            let attribute = |suffix: &str| {
                constants
                    .get(&format!("{name}{suffix}"))
                    .cloned()
                    .unwrap_or_else(|| panic!("keys.rs declares {name} without {name}{suffix}"))
            };
            AdapterIndex {
                name: index.clone(),
                pk: attribute("PK"),
                sk: attribute("SK"),
            }
        })
        .collect()
}

#[test]
fn the_table_is_the_one_the_adapter_uses_and_survives_deletion() {
    let template = Template::load();
    let tables = template.of_type("AWS::DynamoDB::Table");
    assert_eq!(
        tables.len(),
        1,
        "{TEMPLATE}: expected one DynamoDB table, found {:?}",
        tables.keys()
    );
    let (id, table) = tables.into_iter().next().expect("one table");
    let properties = table.get("Properties").cloned().unwrap_or(Value::Null);
    let mut problems = Vec::new();
    let mut expect = |what: &str, got: Option<&Value>, want: Value| {
        if got != Some(&want) {
            problems.push(format!("{id}: {what} is {got:?}, expected {want:?}"));
        }
    };
    let s = |text: &str| Value::String(text.to_string());

    expect("DeletionPolicy", table.get("DeletionPolicy"), s("Retain"));
    expect(
        "UpdateReplacePolicy",
        table.get("UpdateReplacePolicy"),
        s("Retain"),
    );
    expect(
        "PointInTimeRecoveryEnabled",
        properties
            .get("PointInTimeRecoverySpecification")
            .and_then(|p| p.get("PointInTimeRecoveryEnabled")),
        Value::Bool(true),
    );
    expect(
        "DeletionProtectionEnabled",
        properties.get("DeletionProtectionEnabled"),
        Value::Bool(true),
    );
    expect(
        "BillingMode",
        properties.get("BillingMode"),
        s("PAY_PER_REQUEST"),
    );
    expect(
        "TimeToLiveSpecification.AttributeName",
        properties
            .get("TimeToLiveSpecification")
            .and_then(|t| t.get("AttributeName")),
        s(keys::TTL),
    );
    expect(
        "TimeToLiveSpecification.Enabled",
        properties
            .get("TimeToLiveSpecification")
            .and_then(|t| t.get("Enabled")),
        Value::Bool(true),
    );

    let key_schema = |schema: Option<&Value>| -> Vec<(String, String)> {
        schema
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(|k| {
                Some((
                    k.get("AttributeName")?.as_str()?.to_string(),
                    k.get("KeyType")?.as_str()?.to_string(),
                ))
            })
            .collect()
    };
    let pair = |hash: &str, range: &str| {
        vec![
            (hash.to_string(), "HASH".to_string()),
            (range.to_string(), "RANGE".to_string()),
        ]
    };
    let table_keys = key_schema(properties.get("KeySchema"));
    if table_keys != pair(keys::PK, keys::SK) {
        problems.push(format!(
            "{id}: KeySchema is {table_keys:?}, expected {}/{} as in consent_aws::keys",
            keys::PK,
            keys::SK
        ));
    }
    // Every index the adapter's key layout declares (GSI<n>, GSI<n>PK, GSI<n>SK in keys.rs),
    // with its keys, projecting whole items; and no other.
    let expected_indexes = adapter_indexes();
    assert!(
        expected_indexes
            .iter()
            .any(|i| i.name == keys::GSI1 && i.pk == keys::GSI1PK && i.sk == keys::GSI1SK),
        "keys.rs parsing lost {}",
        keys::GSI1
    );
    let declared_indexes: Vec<&Value> = properties
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_sequence)
        .map(|s| s.iter().collect())
        .unwrap_or_default();
    for expected in &expected_indexes {
        let index = declared_indexes
            .iter()
            .find(|i| i.get("IndexName").and_then(Value::as_str) == Some(expected.name.as_str()));
        let Some(index) = index else {
            problems.push(format!(
                "{id}: no global secondary index {} (keys.rs declares it)",
                expected.name
            ));
            continue;
        };
        let index_keys = key_schema(index.get("KeySchema"));
        if index_keys != pair(&expected.pk, &expected.sk) {
            problems.push(format!(
                "{id}: index {} keys are {index_keys:?}, expected {}/{}",
                expected.name, expected.pk, expected.sk
            ));
        }
        let projection = index
            .get("Projection")
            .and_then(|p| p.get("ProjectionType"))
            .and_then(Value::as_str);
        if projection != Some("ALL") {
            problems.push(format!(
                "{id}: index {} projects {projection:?}; the adapter reads whole items from it",
                expected.name
            ));
        }
    }
    for index in &declared_indexes {
        let name = index.get("IndexName").and_then(Value::as_str);
        if !expected_indexes
            .iter()
            .any(|e| Some(e.name.as_str()) == name)
        {
            problems.push(format!(
                "{id}: index {name:?} is not in the adapter's key layout (keys.rs)"
            ));
        }
    }
    // Every key attribute is declared as a string, and nothing else is.
    let declared: BTreeMap<String, String> = properties
        .get("AttributeDefinitions")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|a| {
            Some((
                a.get("AttributeName")?.as_str()?.to_string(),
                a.get("AttributeType")?.as_str()?.to_string(),
            ))
        })
        .collect();
    let expected: BTreeMap<String, String> = [keys::PK.to_string(), keys::SK.to_string()]
        .into_iter()
        .chain(
            expected_indexes
                .iter()
                .flat_map(|i| [i.pk.clone(), i.sk.clone()]),
        )
        .map(|k| (k, "S".to_string()))
        .collect();
    if declared != expected {
        problems.push(format!(
            "{id}: AttributeDefinitions are {declared:?}, expected {expected:?}"
        ));
    }
    fail_if_any(&problems, "the table");
}
