//! The SAM template's events path: the table's stream invokes consent-events for feed items only,
//! failures are reported per record, bisected, bounded and dead-lettered; its role reads this
//! stream, puts on this bus and dead-letters to this queue and nothing else; no other role may put
//! on a bus; and the CRM webhook calls its API destination with a role that may do only that.

use std::collections::BTreeSet;

use consent_aws::config::EVENT_BUS;
use consent_aws::keys;
use consent_tests::sam::{
    Function, Template, fail_if_any, get_att_target, ref_target, statements, strings_of,
};
use serde_yaml_ng::Value;

/// The function on the stream.
fn consent_events(template: &Template) -> Function {
    template
        .functions()
        .into_iter()
        .find(|f| f.binary() == Some("consent-events"))
        .expect("a function builds consent-events")
}

/// Every statement of a role's inline policies, as (actions, resource expression).
fn role_grants(template: &Template, role: &str) -> Vec<(Vec<String>, Value)> {
    let roles = template.of_type("AWS::IAM::Role");
    let Some(properties) = roles.get(role).and_then(|r| r.get("Properties")) else {
        panic!("no role {role}");
    };
    properties
        .get("Policies")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("PolicyDocument"))
        .flat_map(statements)
        .map(|statement| {
            let (actions, _) = strings_of(statement.get("Action"));
            (
                actions.into_iter().map(str::to_string).collect(),
                statement.get("Resource").cloned().unwrap_or(Value::Null),
            )
        })
        .collect()
}

/// `!If [CreateEventBus, !GetAtt EventBus.Arn, !Ref EventBusArn]`: the bus, created or given.
fn is_the_bus(value: &Value) -> bool {
    let Value::Tagged(tagged) = value else {
        return false;
    };
    let Some(parts) = tagged.value.as_sequence() else {
        return false;
    };
    tagged.tag == "!If"
        && parts.first().and_then(Value::as_str) == Some("CreateEventBus")
        && parts.get(1).and_then(get_att_target) == Some(("EventBus".into(), "Arn".into()))
        && parts.get(2).and_then(ref_target) == Some("EventBusArn")
}

#[test]
fn the_stream_invokes_consent_events_for_new_feed_items_only() {
    let template = Template::load();
    let f = consent_events(&template);
    let mut problems = Vec::new();
    let table = template.of_type("AWS::DynamoDB::Table");
    let view = table
        .values()
        .next()
        .and_then(|t| {
            t.get("Properties")?
                .get("StreamSpecification")?
                .get("StreamViewType")
        })
        .and_then(Value::as_str);
    if view != Some("NEW_IMAGE") {
        problems.push(format!(
            "the table's stream view type is {view:?}, not NEW_IMAGE"
        ));
    }
    let events = f.events();
    let [(name, event)] = events.as_slice() else {
        panic!("{}: expected one event, has {}", f.id, events.len());
    };
    let properties = event.get("Properties").cloned().unwrap_or(Value::Null);
    if event.get("Type").and_then(Value::as_str) != Some("DynamoDB") {
        problems.push(format!("{}.{name}: not a DynamoDB stream event", f.id));
    }
    if properties.get("Stream").and_then(get_att_target)
        != Some(("Table".into(), "StreamArn".into()))
    {
        problems.push(format!(
            "{}.{name}: Stream is not !GetAtt Table.StreamArn",
            f.id
        ));
    }
    let patterns: Vec<serde_json::Value> = properties
        .get("FilterCriteria")
        .and_then(|c| c.get("Filters"))
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|filter| filter.get("Pattern")?.as_str())
        .map(|text| serde_json::from_str(text).expect("a filter pattern is JSON"))
        .collect();
    let expected = serde_json::json!({
        "eventName": ["INSERT"],
        "dynamodb": { "Keys": { keys::PK: { "S": [{ "prefix": keys::FEED_PREFIX }] } } }
    });
    if patterns != [expected.clone()] {
        problems.push(format!(
            "{}.{name}: FilterCriteria is {patterns:?}, expected only {expected}",
            f.id
        ));
    }
    let responses: Vec<&str> = properties
        .get("FunctionResponseTypes")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if responses != ["ReportBatchItemFailures"] {
        problems.push(format!(
            "{}.{name}: FunctionResponseTypes is {responses:?}, the handler reports batch item \
             failures",
            f.id
        ));
    }
    if properties.get("BisectBatchOnFunctionError") != Some(&Value::Bool(true)) {
        problems.push(format!(
            "{}.{name}: BisectBatchOnFunctionError is not true",
            f.id
        ));
    }
    // Bounded, so an unreadable record never holds the shard: -1 would retry forever.
    for bounded in ["MaximumRetryAttempts", "MaximumRecordAgeInSeconds"] {
        match properties.get(bounded).and_then(Value::as_i64) {
            Some(n) if n >= 0 => {}
            other => problems.push(format!("{}.{name}: {bounded} is {other:?}", f.id)),
        }
    }
    let on_failure = properties
        .get("DestinationConfig")
        .and_then(|d| d.get("OnFailure"))
        .and_then(|o| o.get("Destination"))
        .and_then(get_att_target);
    let queues = template.of_type("AWS::SQS::Queue");
    match on_failure {
        Some((queue, attribute)) if attribute == "Arn" && queues.contains_key(&queue) => {}
        other => problems.push(format!(
            "{}.{name}: OnFailure must be an SQS queue of the template, is {other:?}",
            f.id
        )),
    }
    let starting = properties.get("StartingPosition").and_then(Value::as_str);
    if starting != Some("TRIM_HORIZON") {
        problems.push(format!("{}.{name}: StartingPosition is {starting:?}", f.id));
    }
    if !f
        .environment()
        .get(EVENT_BUS)
        .is_some_and(|v| is_the_bus(v))
    {
        problems.push(format!(
            "{}: {EVENT_BUS} is not the bus (created or given)",
            f.id
        ));
    }
    fail_if_any(&problems, "the consent-events function");
}

#[test]
fn consent_events_reads_this_stream_puts_on_this_bus_and_nothing_more() {
    let template = Template::load();
    let f = consent_events(&template);
    let (role, _) = f
        .property("Role")
        .and_then(get_att_target)
        .expect("its own role");
    let dead_letters = f.events()[0]
        .1
        .get("Properties")
        .and_then(|p| {
            p.get("DestinationConfig")?
                .get("OnFailure")?
                .get("Destination")
        })
        .and_then(get_att_target)
        .map(|(queue, _)| queue)
        .expect("an on-failure queue");
    let mut problems = Vec::new();
    for (actions, resource) in role_grants(&template, &role) {
        let target = get_att_target(&resource);
        let ok = match actions
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["logs:CreateLogStream", "logs:PutLogEvents"] => {
                target == Some(("ConsentEventsLogGroup".into(), "Arn".into()))
            }
            [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
            ] => target == Some(("Table".into(), "StreamArn".into())),
            // No resource-level permissions: "*" is the only resource IAM checks it against.
            ["dynamodb:ListStreams"] => resource == "*",
            ["events:PutEvents"] => is_the_bus(&resource),
            ["sqs:SendMessage"] => target == Some((dead_letters.clone(), "Arn".into())),
            _ => false,
        };
        if !ok {
            problems.push(format!("{role}: grants {actions:?} on {resource:?}"));
        }
    }
    // The handlers never write to EventBridge: no other role may put events.
    for (other, _) in template.of_type("AWS::IAM::Role") {
        if other == role {
            continue;
        }
        for (actions, _) in role_grants(&template, &other) {
            if actions.iter().any(|a| a.starts_with("events:Put")) {
                problems.push(format!(
                    "{other}: grants {actions:?}; only {role} puts events"
                ));
            }
        }
    }
    fail_if_any(&problems, "consent-events' permissions");
}

#[test]
fn the_crm_webhook_is_a_rule_with_retries_a_queue_and_a_role_for_its_destination_only() {
    let template = Template::load();
    let mut problems = Vec::new();
    let rules = template.of_type("AWS::Events::Rule");
    let all: Vec<(&String, &&Value)> = rules.iter().collect();
    let [(id, rule)] = all.as_slice() else {
        panic!("expected one EventBridge rule, found {:?}", rules.keys());
    };
    if rule.get("Condition").and_then(Value::as_str) != Some("HasCrmWebhook") {
        problems.push(format!("{id}: not conditional on HasCrmWebhook"));
    }
    let properties = rule.get("Properties").cloned().unwrap_or(Value::Null);
    let sources: BTreeSet<&str> = properties
        .get("EventPattern")
        .and_then(|p| p.get("source"))
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if sources != BTreeSet::from([consent_events::SOURCE]) {
        problems.push(format!("{id}: matches sources {sources:?}"));
    }
    let targets = properties
        .get("Targets")
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    let [target] = targets.as_slice() else {
        panic!("{id}: expected one target");
    };
    let destinations = template.of_type("AWS::Events::ApiDestination");
    let destination = get_att_target(target.get("Arn").unwrap_or(&Value::Null));
    let Some((destination, _)) = destination.filter(|(d, _)| destinations.contains_key(d)) else {
        panic!("{id}: its target is not an API destination of the template");
    };
    for needed in ["RetryPolicy", "DeadLetterConfig", "RoleArn"] {
        if target.get(needed).is_none() {
            problems.push(format!("{id}: its target has no {needed}"));
        }
    }
    if target.get("InputPath").and_then(Value::as_str) != Some("$.detail") {
        problems.push(format!(
            "{id}: the CRM gets the feed event alone (InputPath $.detail)"
        ));
    }
    let (role, _) = target
        .get("RoleArn")
        .and_then(get_att_target)
        .expect("a role of the template");
    for (actions, resource) in role_grants(&template, &role) {
        if actions != ["events:InvokeApiDestination"]
            || get_att_target(&resource) != Some((destination.clone(), "Arn".into()))
        {
            problems.push(format!("{role}: grants {actions:?} on {resource:?}"));
        }
    }
    let key = template
        .section("Parameters")
        .get("CrmWebhookApiKey")
        .copied();
    if key.and_then(|k| k.get("NoEcho")) != Some(&Value::Bool(true)) {
        problems.push("the webhook key parameter is not NoEcho".to_string());
    }
    fail_if_any(&problems, "the CRM webhook");
}
