//! The SAM template's functions against the workspace: every function crate is deployed, each
//! built the same way (Rust on arm64 by cargo-lambda, its own log group and role), and each gets
//! the variables `consent_aws::config` requires for the keys it uses.
//!
//! cfn-lint and `sam validate --lint` (scripts/validate-template) check the template's syntax
//! and CloudFormation's resource schemas, but miss mistakes inside SAM function properties (an
//! invalid runtime or architecture, an undefined `!Ref` in `Environment`, an unused parameter);
//! these tests, with the other `template_*.rs`, check what only the workspace knows.

use std::collections::{BTreeMap, BTreeSet};

use consent::evidence::keys_used::KeysUsed;
use consent_aws::config::{AwsConfig, ConfigError, TOKEN_KEYS};
use consent_tests::sam::{
    Template, fail_if_any, function_crates, get_att_target, keys_used, read, ref_target, type_of,
    workspace_root,
};
use serde_yaml_ng::Value;

#[test]
fn every_function_crate_is_deployed_and_every_function_has_a_crate() {
    let template = Template::load();
    let crates = function_crates();
    assert!(!crates.is_empty(), "no crates under functions/");
    let in_template: BTreeMap<String, String> = template
        .functions()
        .iter()
        .map(|f| {
            let binary = f
                .binary()
                .unwrap_or_else(|| panic!("{}: no Metadata.BuildProperties.Binary", f.id));
            (binary.to_string(), f.id.clone())
        })
        .collect();
    let in_workspace: BTreeMap<String, String> = crates
        .iter()
        .map(|c| (c.binary.clone(), c.dir.clone()))
        .collect();

    let mut problems = Vec::new();
    for (binary, dir) in &in_workspace {
        if !in_template.contains_key(binary) {
            problems.push(format!(
                "functions/{dir} (binary {binary}) has no AWS::Serverless::Function with \
                 BuildProperties.Binary: {binary}"
            ));
        }
    }
    for (binary, id) in &in_template {
        if !in_workspace.contains_key(binary) {
            problems.push(format!(
                "{id} builds binary {binary}, which no crate under functions/ declares"
            ));
        }
    }
    if template.functions().len() != in_template.len() {
        problems.push("two functions build the same binary".to_string());
    }
    // `sam build` runs `cargo lambda build --bin <Binary>` at the workspace root, so every
    // function crate must be a workspace member.
    let manifest = read(&workspace_root().join("Cargo.toml"));
    for c in &crates {
        if !manifest.contains(&format!("\"functions/{}\"", c.dir)) {
            problems.push(format!(
                "functions/{} is not a member of the workspace (root Cargo.toml)",
                c.dir
            ));
        }
    }
    fail_if_any(&problems, "functions and crates do not match");
}

#[test]
fn every_function_is_linked_at_a_fixed_address() {
    // functions/link.rs passes `-no-pie`: no relocations to apply at cold start.
    let problems: Vec<String> = function_crates()
        .iter()
        .filter(|c| {
            let manifest = read(
                &workspace_root()
                    .join("functions")
                    .join(&c.dir)
                    .join("Cargo.toml"),
            );
            !manifest
                .lines()
                .any(|l| l.trim() == r#"build = "../link.rs""#)
        })
        .map(|c| {
            format!(
                "functions/{}/Cargo.toml: build = \"../link.rs\" is missing",
                c.dir
            )
        })
        .collect();
    fail_if_any(&problems, "function builds");
}

#[test]
fn every_function_is_a_rust_arm64_function_built_by_cargo_lambda() {
    let template = Template::load();
    let mut problems = Vec::new();
    for f in template.functions() {
        let id = &f.id;
        let expect_str = |name: &str, want: &str, problems: &mut Vec<String>| {
            let got = f.property(name).and_then(Value::as_str);
            if got != Some(want) {
                problems.push(format!("{id}: {name} is {got:?}, expected {want:?}"));
            }
        };
        expect_str("Runtime", "provided.al2023", &mut problems);
        expect_str("Handler", "bootstrap", &mut problems);
        expect_str("Tracing", "Active", &mut problems);
        // CodeUri is relative to infra/: the workspace root, whose Cargo.toml has the workspace.
        expect_str("CodeUri", "..", &mut problems);
        let architectures: Vec<&str> = f
            .property("Architectures")
            .and_then(Value::as_sequence)
            .map(|s| s.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if architectures != ["arm64"] {
            problems.push(format!(
                "{id}: Architectures is {architectures:?}, expected [\"arm64\"]"
            ));
        }
        let build_method = f.metadata.get("BuildMethod").and_then(Value::as_str);
        if build_method != Some("rust-cargolambda") {
            problems.push(format!(
                "{id}: Metadata.BuildMethod is {build_method:?}, expected \"rust-cargolambda\""
            ));
        }
        let logging = f.property("LoggingConfig");
        let format = logging
            .and_then(|l| l.get("LogFormat"))
            .and_then(Value::as_str);
        if format != Some("JSON") {
            problems.push(format!(
                "{id}: LoggingConfig.LogFormat is {format:?}, expected \"JSON\""
            ));
        }
        if logging.and_then(|l| l.get("ApplicationLogLevel")).is_none() {
            problems.push(format!(
                "{id}: LoggingConfig.ApplicationLogLevel is not set"
            ));
        }
        // Its own log group, created by the template with a retention period.
        let group = logging.and_then(|l| l.get("LogGroup")).and_then(ref_target);
        match group.and_then(|g| template.resources().get(g).copied()) {
            Some(resource) if type_of(resource) == Some("AWS::Logs::LogGroup") => {
                if resource
                    .get("Properties")
                    .and_then(|p| p.get("RetentionInDays"))
                    .is_none()
                {
                    problems.push(format!(
                        "{id}: its log group {} has no RetentionInDays",
                        group.unwrap_or_default()
                    ));
                }
            }
            _ => problems.push(format!(
                "{id}: LoggingConfig.LogGroup must be !Ref of an AWS::Logs::LogGroup in the \
                 template, is {group:?}"
            )),
        }
        // Its own role, declared in the template (a SAM-generated role would carry managed
        // policies with "*" resources, which the IAM test could not see).
        match f.property("Role").and_then(get_att_target) {
            Some((role, attribute)) if attribute == "Arn" => {
                let declared = template.resources().get(&role).and_then(|r| type_of(r));
                if declared != Some("AWS::IAM::Role") {
                    problems.push(format!("{id}: Role {role} is not an AWS::IAM::Role"));
                }
            }
            other => problems.push(format!(
                "{id}: Role must be !GetAtt <a role of the template>.Arn, is {other:?}"
            )),
        }
        if f.property("Policies").is_some() {
            problems.push(format!(
                "{id}: has Policies; put its permissions on its own role instead"
            ));
        }
    }
    let roles: Vec<String> = template
        .functions()
        .iter()
        .filter_map(|f| f.property("Role").and_then(get_att_target))
        .map(|(role, _)| role)
        .collect();
    let distinct: BTreeSet<&String> = roles.iter().collect();
    if distinct.len() != roles.len() {
        problems.push(format!("functions share a role: {roles:?}"));
    }
    fail_if_any(&problems, "function settings");
}

/// The variables `AwsConfig` requires of a function using `keys`, as groups of alternatives
/// (one of each group must be set), read from its own error for an empty environment so a new
/// requirement is checked here as soon as config.rs has it.
fn required_variables(keys: KeysUsed) -> Vec<Vec<String>> {
    match AwsConfig::from_lookup_for(|_| None, keys) {
        Err(ConfigError::Missing(names)) => names
            .iter()
            .map(|name| name.split(" or ").map(str::to_string).collect())
            .collect(),
        other => panic!("an empty environment should be missing variables, got {other:?}"),
    }
}

/// The variables that name where a key comes from, by key.
const TOKEN_KEY_VARIABLES: [&str; 3] = [
    TOKEN_KEYS,
    consent_aws::config::TOKEN_KEYS_SECRET_ARN,
    consent_aws::config::TOKEN_KEYS_PARAMETER,
];

const PROOF_KEY_VARIABLES: [&str; 2] = [
    consent_aws::config::PROOF_KEY,
    consent_aws::config::PROOF_KEY_SECRET_ARN,
];

#[test]
fn every_function_gets_the_variables_the_config_requires() {
    // The reading above must see the constants config.rs defines.
    let flat: Vec<String> = required_variables(KeysUsed {
        confirmation_tokens: true,
        proof_signing: true,
    })
    .into_iter()
    .flatten()
    .collect();
    for name in [
        consent_aws::config::TABLE_NAME,
        consent_aws::config::CONFIRM_BASE_URL,
        consent_aws::config::SES_FROM_ADDRESS,
        consent_aws::config::TOKEN_KEYS_SECRET_ARN,
        consent_aws::config::PROOF_KEY_SECRET_ARN,
    ] {
        assert!(
            flat.iter().any(|n| n == name),
            "config.rs no longer requires {name}?"
        );
    }

    let template = Template::load();
    let mut problems = Vec::new();
    for f in template.functions() {
        let environment = f.environment();
        let is_set = |name: &str| match environment.get(name) {
            // Blank counts as unset in config.rs.
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(Value::Null) | None => false,
            Some(_) => true,
        };
        let keys = keys_used(f.binary().unwrap_or_default());
        for group in &required_variables(keys) {
            let set: Vec<&String> = group.iter().filter(|name| is_set(name)).collect();
            match set.len() {
                0 => problems.push(format!("{}: none of {group:?} is set", f.id)),
                1 => {}
                // config.rs refuses more than one source of token keys.
                _ => problems.push(format!("{}: more than one of {set:?} is set", f.id)),
            }
        }
        // A key a function does not use is not configured for it (least privilege; and its
        // cold start reads no secret it does not need).
        let unused = [
            (!keys.confirmation_tokens, &TOKEN_KEY_VARIABLES[..]),
            (!keys.proof_signing, &PROOF_KEY_VARIABLES[..]),
        ];
        for name in unused
            .iter()
            .filter(|(unused, _)| *unused)
            .flat_map(|(_, names)| names.iter())
        {
            if is_set(name) {
                problems.push(format!(
                    "{}: sets {name}, but its KEYS_USED does not use that key",
                    f.id
                ));
            }
        }
        // Key material never goes into a function's configuration: in AWS the keys come
        // from Secrets Manager.
        if environment.contains_key(TOKEN_KEYS) {
            problems.push(format!(
                "{}: sets {TOKEN_KEYS} (inline keys are for local use)",
                f.id
            ));
        }
        match environment
            .get(consent_aws::config::TABLE_NAME)
            .and_then(|v| ref_target(v))
        {
            Some(table) if template.of_type("AWS::DynamoDB::Table").contains_key(table) => {}
            other => problems.push(format!(
                "{}: {} must be !Ref of the template's table, is {other:?}",
                f.id,
                consent_aws::config::TABLE_NAME
            )),
        }
        // The TLS roots are Amazon's, compiled in (tls.rs).
        let roots = consent_aws::tls::TRUSTED_ROOTS;
        if environment.get(roots).and_then(|v| v.as_str()) != Some("amazon") {
            problems.push(format!("{}: {roots} must be amazon", f.id));
        }
    }
    fail_if_any(&problems, "function environments");
}
