//! The SAM template's expressions: every name a `!Ref`, `!GetAtt`, `!Sub`, `!If` or
//! `Condition` uses is defined, every parameter and condition is used (cfn-lint does not report
//! unused ones in a SAM template), and the outputs the deploy reads are there.

use std::collections::BTreeSet;

use consent_tests::sam::{Template, fail_if_any, sub_names, type_of, walk_intrinsics};
use serde_yaml_ng::Value;

/// CloudFormation's pseudo parameters.
const PSEUDO_PARAMETERS: &[&str] = &[
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

/// Properties of SAM resources that `!Ref Resource.Property` may name (SAM resolves them to
/// resources it generates).
const SAM_REFERABLE: &[(&str, &[&str])] = &[
    ("AWS::Serverless::Function", &["Alias", "Version"]),
    (
        "AWS::Serverless::Api",
        &["Stage", "Deployment", "DomainName"],
    ),
    ("AWS::Serverless::HttpApi", &["Stage", "DomainName"]),
];

#[test]
fn every_name_an_expression_uses_is_defined() {
    let template = Template::load();
    let resources = template.resources();
    let parameters = template.section("Parameters");
    let conditions = template.section("Conditions");
    let mut problems = Vec::new();

    let is_resource = |id: &str| resources.contains_key(id);
    let check_ref = |target: &str, at: &str, problems: &mut Vec<String>| {
        if PSEUDO_PARAMETERS.contains(&target)
            || parameters.contains_key(target)
            || is_resource(target)
        {
            return;
        }
        if let Some((id, property)) = target.split_once('.') {
            let referable = resources
                .get(id)
                .and_then(|r| type_of(r))
                .and_then(|t| SAM_REFERABLE.iter().find(|(ty, _)| *ty == t))
                .is_some_and(|(_, properties)| properties.contains(&property));
            if referable {
                return;
            }
        }
        problems.push(format!(
            "{at}: Ref {target} names no parameter, resource or pseudo parameter"
        ));
    };
    let check_condition = |name: &str, at: &str, problems: &mut Vec<String>| {
        if !conditions.contains_key(name) {
            problems.push(format!("{at}: condition {name} is not defined"));
        }
    };

    for section in ["Rules", "Conditions", "Globals", "Resources", "Outputs"] {
        let Some(body) = template.root.get(section) else {
            continue;
        };
        walk_intrinsics(body, section, &mut |name, argument, at| match name {
            "Ref" => match argument.as_str() {
                Some(target) => check_ref(target, at, &mut problems),
                None => problems.push(format!("{at}: Ref of a non-string")),
            },
            "GetAtt" => {
                let id = match argument {
                    Value::String(dotted) => dotted.split_once('.').map(|(id, _)| id),
                    Value::Sequence(parts) => parts.first().and_then(Value::as_str),
                    _ => None,
                };
                match id {
                    Some(id) if is_resource(id) => {}
                    Some(id) => problems.push(format!("{at}: GetAtt {id} names no resource")),
                    None => problems.push(format!("{at}: GetAtt of {argument:?}")),
                }
            }
            "Sub" => {
                let (text, variables) = match argument {
                    Value::Sequence(parts) => (
                        parts.first().and_then(Value::as_str),
                        parts.get(1).and_then(Value::as_mapping),
                    ),
                    other => (other.as_str(), None),
                };
                let Some(text) = text else {
                    problems.push(format!("{at}: Sub without a string"));
                    return;
                };
                for variable in sub_names(text) {
                    let local = variables.is_some_and(|v| v.contains_key(variable.as_str()));
                    if local || PSEUDO_PARAMETERS.contains(&variable.as_str()) {
                        continue;
                    }
                    match variable.split_once('.') {
                        // ${Resource.Attribute} is a GetAtt.
                        Some((id, _)) if is_resource(id) => {}
                        Some(_) => {
                            problems.push(format!("{at}: Sub ${{{variable}}} names no resource"))
                        }
                        None => check_ref(&variable, &format!("{at} (Sub)"), &mut problems),
                    }
                }
            }
            "If" => match argument
                .as_sequence()
                .filter(|parts| parts.len() == 3)
                .and_then(|parts| parts[0].as_str())
            {
                Some(condition) => check_condition(condition, at, &mut problems),
                None => problems.push(format!("{at}: If needs [condition, then, else]")),
            },
            "Condition" => match argument.as_str() {
                Some(condition) => check_condition(condition, at, &mut problems),
                None => problems.push(format!("{at}: Condition of a non-string")),
            },
            _ => {}
        });
    }
    // Resource and output attributes that name conditions and resources.
    for (section, entries) in [
        ("Resources", template.resources()),
        ("Outputs", template.section("Outputs")),
    ] {
        for (id, entry) in entries {
            let at = format!("{section}.{id}");
            if let Some(condition) = entry.get("Condition").and_then(Value::as_str) {
                check_condition(condition, &at, &mut problems);
            }
            let depends: Vec<&str> = match entry.get("DependsOn") {
                Some(Value::String(one)) => vec![one.as_str()],
                Some(Value::Sequence(many)) => many.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            for target in depends {
                if !is_resource(target) {
                    problems.push(format!("{at}: DependsOn {target} names no resource"));
                }
            }
        }
    }
    fail_if_any(&problems, "undefined names");
}

#[test]
fn every_parameter_and_condition_is_used() {
    // cfn-lint does not report unused parameters of a SAM template.
    let template = Template::load();
    let mut used = BTreeSet::new();
    for section in ["Rules", "Conditions", "Globals", "Resources", "Outputs"] {
        if let Some(body) = template.root.get(section) {
            walk_intrinsics(body, section, &mut |name, argument, _| match name {
                "Ref" | "Condition" => used.extend(argument.as_str().map(str::to_string)),
                "If" => used.extend(
                    argument
                        .as_sequence()
                        .and_then(|p| p.first())
                        .and_then(Value::as_str)
                        .map(str::to_string),
                ),
                "Sub" => {
                    let text = match argument {
                        Value::Sequence(parts) => parts.first().and_then(Value::as_str),
                        other => other.as_str(),
                    };
                    used.extend(text.map(sub_names).unwrap_or_default());
                }
                _ => {}
            });
        }
    }
    for entries in [template.resources(), template.section("Outputs")] {
        for entry in entries.values() {
            used.extend(
                entry
                    .get("Condition")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            );
        }
    }
    let mut problems = Vec::new();
    for parameter in template.section("Parameters").keys() {
        if !used.contains(parameter) {
            problems.push(format!("parameter {parameter} is never used"));
        }
    }
    for condition in template.section("Conditions").keys() {
        if !used.contains(condition) {
            problems.push(format!("condition {condition} is never used"));
        }
    }
    fail_if_any(&problems, "unused parameters or conditions");
}

#[test]
fn the_outputs_name_the_api_the_topic_and_the_table() {
    let template = Template::load();
    let outputs = template.section("Outputs");
    let missing: Vec<String> = ["ApiUrl", "InboundTopicArn", "TableName"]
        .iter()
        .filter(|name| !outputs.contains_key(**name))
        .map(|name| format!("output {name} is missing"))
        .collect();
    fail_if_any(&missing, "outputs");
}
