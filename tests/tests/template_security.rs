//! The SAM template's IAM: no statement grants a wildcard, and only the functions that use a key
//! may read its secret.

use std::collections::BTreeSet;

use consent_tests::sam::{
    Template, check_statement, fail_if_any, get_att_target, keys_used, ref_target,
    secrets_readable, statements, type_of,
};
use serde_yaml_ng::Value;

/// The roles the template's EventBridge rules give their targets (`Targets[].RoleArn`).
fn rule_target_roles(template: &Template) -> BTreeSet<String> {
    template
        .of_type("AWS::Events::Rule")
        .values()
        .filter_map(|rule| rule.get("Properties")?.get("Targets")?.as_sequence())
        .flatten()
        .filter_map(|target| get_att_target(target.get("RoleArn")?))
        .map(|(role, _)| role)
        .collect()
}

#[test]
fn no_iam_statement_grants_a_wildcard() {
    let template = Template::load();
    let managed_policies = template.of_type("AWS::IAM::ManagedPolicy");
    let rule_target_roles = rule_target_roles(&template);
    let mut problems = Vec::new();
    let mut checked = 0;
    for (id, resource) in template.resources() {
        let properties = resource.get("Properties");
        let mut identity_documents: Vec<(String, &Value)> = Vec::new();
        let mut resource_documents: Vec<(String, &Value)> = Vec::new();
        match type_of(resource).unwrap_or_default() {
            "AWS::IAM::Role" => {
                let trust = properties.and_then(|p| p.get("AssumeRolePolicyDocument"));
                let principals: Vec<&str> = trust
                    .map(statements)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|s| s.get("Principal").and_then(|p| p.get("Service")))
                    .filter_map(Value::as_str)
                    .collect();
                // A function's role is Lambda's alone; the one other kind of role is a bus
                // rule's, assumed by EventBridge to call the rule's target.
                let expected = if rule_target_roles.contains(id.as_str()) {
                    "events.amazonaws.com"
                } else {
                    "lambda.amazonaws.com"
                };
                if principals != [expected] {
                    problems.push(format!(
                        "{id}: only {expected} may assume this role, not {principals:?}"
                    ));
                }
                for (index, policy) in properties
                    .and_then(|p| p.get("Policies"))
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    if let Some(document) = policy.get("PolicyDocument") {
                        identity_documents.push((format!("{id}.Policies[{index}]"), document));
                    }
                }
                // Only the template's own managed policies, whose statements are checked here
                // (an AWS managed policy could grant "*" out of sight).
                for arn in properties
                    .and_then(|p| p.get("ManagedPolicyArns"))
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                {
                    if !ref_target(arn).is_some_and(|p| managed_policies.contains_key(p)) {
                        problems.push(format!(
                            "{id}: ManagedPolicyArns {arn:?} is not a managed policy of the template"
                        ));
                    }
                }
            }
            "AWS::IAM::ManagedPolicy" | "AWS::IAM::Policy" | "AWS::IAM::RolePolicy" => {
                if let Some(document) = properties.and_then(|p| p.get("PolicyDocument")) {
                    identity_documents.push((id.clone(), document));
                }
            }
            "AWS::Serverless::Function" if properties.and_then(|p| p.get("Policies")).is_some() => {
                problems.push(format!("{id}: SAM Policies instead of its own role"));
            }
            "AWS::SQS::QueuePolicy" | "AWS::SNS::TopicPolicy" => {
                if let Some(document) = properties.and_then(|p| p.get("PolicyDocument")) {
                    resource_documents.push((id.clone(), document));
                }
            }
            _ => {}
        }
        for (identity, documents) in [(true, identity_documents), (false, resource_documents)] {
            for (at, document) in documents {
                for (index, statement) in statements(document).into_iter().enumerate() {
                    checked += 1;
                    let at = match statement.get("Sid").and_then(Value::as_str) {
                        Some(sid) => format!("{at} statement {sid}"),
                        None => format!("{at} statement {index}"),
                    };
                    check_statement(statement, &at, identity, &mut problems);
                }
            }
        }
    }
    assert!(checked > 0, "no IAM statements found");
    fail_if_any(&problems, "IAM statements");
}

#[test]
fn only_the_functions_that_use_a_key_may_read_its_secret() {
    let template = Template::load();
    let mut problems = Vec::new();
    for f in template.functions() {
        let keys = keys_used(f.binary().unwrap_or_default());
        let readable = secrets_readable(&template, &f);
        let expected: BTreeSet<String> = [
            (keys.confirmation_tokens, "TokenKeysSecret"),
            (keys.proof_signing, "ProofKeySecret"),
        ]
        .into_iter()
        .filter(|(used, _)| *used)
        .map(|(_, secret)| secret.to_string())
        .collect();
        if readable != expected {
            problems.push(format!(
                "{}: its role reads {readable:?}, its KEYS_USED needs {expected:?}",
                f.id
            ));
        }
    }
    fail_if_any(&problems, "secret access");
}
