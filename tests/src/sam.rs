//! The SAM template (`infra/template.yaml`) as the template tests read it: its resources, its
//! functions after `Globals` (events, environment, role), the intrinsic functions in it, its
//! policy statements, and what each function crate of the workspace declares.
//!
//! A helper here rather than in a test file: several test binaries read the template.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use consent::evidence::keys_used::KeysUsed;
use serde_yaml_ng::{Mapping, Value};

/// The template, relative to the workspace root.
pub const TEMPLATE: &str = "infra/template.yaml";

/// The only IAM actions a statement may grant on `Resource: "*"`: SMS straight to a phone
/// number (and the carrier's opt-out list for it: a number's entry, the whole list, lifting a
/// number's opt-out) has no resource ARN, and neither X-Ray nor DynamoDB's ListStreams has
/// resource-level permissions.
pub const STAR_RESOURCE_ACTIONS: &[&str] = &[
    "sns:Publish",
    "sns:CheckIfPhoneNumberIsOptedOut",
    "sns:ListPhoneNumbersOptedOut",
    "sns:OptInPhoneNumber",
    "dynamodb:ListStreams",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
];

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

/// The workspace root: the parent of this crate's directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the workspace")
        .to_path_buf()
}

/// A file's text; panics naming the file if it cannot be read.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The parsed template.
pub struct Template {
    /// The whole document.
    pub root: Value,
}

impl Template {
    /// Reads `infra/template.yaml`, or the file `TEMPLATE_UNDER_TEST` names (to see these
    /// checks fail on a broken copy without touching the real template).
    pub fn load() -> Self {
        let path = std::env::var_os("TEMPLATE_UNDER_TEST")
            .map_or_else(|| workspace_root().join(TEMPLATE), PathBuf::from);
        let text = read(&path);
        let root: Value = serde_yaml_ng::from_str(&text)
            .unwrap_or_else(|e| panic!("{TEMPLATE} is not valid YAML: {e}"));
        assert!(
            root.get("Resources").and_then(Value::as_mapping).is_some(),
            "{TEMPLATE} has no Resources section"
        );
        Self { root }
    }

    /// A top-level section (`Parameters`, `Resources`, ...) by key; empty if absent.
    pub fn section(&self, name: &str) -> BTreeMap<String, &Value> {
        self.root
            .get(name)
            .and_then(Value::as_mapping)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The `Resources` section, by logical id.
    pub fn resources(&self) -> BTreeMap<String, &Value> {
        self.section("Resources")
    }

    /// Resources of one type, by logical id.
    pub fn of_type(&self, resource_type: &str) -> BTreeMap<String, &Value> {
        self.resources()
            .into_iter()
            .filter(|(_, r)| type_of(r) == Some(resource_type))
            .collect()
    }

    /// The properties every SAM function inherits from `Globals.Function`.
    fn function_globals(&self) -> Option<&Mapping> {
        self.root
            .get("Globals")
            .and_then(|g| g.get("Function"))
            .and_then(Value::as_mapping)
    }

    /// The SAM functions, each with its properties as SAM sees them after merging `Globals`.
    pub fn functions(&self) -> Vec<Function> {
        self.of_type("AWS::Serverless::Function")
            .into_iter()
            .map(|(id, resource)| {
                let own = resource.get("Properties").and_then(Value::as_mapping);
                Function {
                    properties: merge(self.function_globals(), own),
                    metadata: resource.get("Metadata").cloned().unwrap_or(Value::Null),
                    id,
                }
            })
            .collect()
    }
}

/// A resource's `Type`.
pub fn type_of(resource: &Value) -> Option<&str> {
    resource.get("Type").and_then(Value::as_str)
}

/// SAM's merge of `Globals` into a resource: the resource's keys win; maps merge key by key.
fn merge(globals: Option<&Mapping>, own: Option<&Mapping>) -> Mapping {
    let mut merged = globals.cloned().unwrap_or_default();
    for (key, value) in own.into_iter().flatten() {
        let combined = match (merged.get(key), value) {
            (Some(Value::Mapping(global)), Value::Mapping(local)) => {
                Value::Mapping(merge(Some(global), Some(local)))
            }
            _ => value.clone(),
        };
        merged.insert(key.clone(), combined);
    }
    merged
}

/// A SAM function after `Globals`.
pub struct Function {
    /// Its logical id.
    pub id: String,
    /// Its properties, `Globals.Function` merged in.
    pub properties: Mapping,
    /// Its `Metadata` (`Null` if none).
    pub metadata: Value,
}

impl Function {
    /// One property, after `Globals`.
    pub fn property(&self, name: &str) -> Option<&Value> {
        self.properties.get(name)
    }

    /// `Metadata.BuildProperties.Binary`: the Cargo binary `sam build` builds for it.
    pub fn binary(&self) -> Option<&str> {
        self.metadata
            .get("BuildProperties")
            .and_then(|b| b.get("Binary"))
            .and_then(Value::as_str)
    }

    /// Its `Events`, by name.
    pub fn events(&self) -> Vec<(String, &Value)> {
        self.property("Events")
            .and_then(Value::as_mapping)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Its `Environment.Variables`, by name.
    pub fn environment(&self) -> BTreeMap<String, &Value> {
        self.property("Environment")
            .and_then(|e| e.get("Variables"))
            .and_then(Value::as_mapping)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v)))
                    .collect()
            })
            .unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------------
// Intrinsic functions
// ---------------------------------------------------------------------------------------------

/// The intrinsic function `value` is, in short form (`!Ref X`) or long form (`{"Ref": X}`,
/// `{"Fn::GetAtt": [..]}`): its name without `!`/`Fn::`, and its argument.
fn intrinsic(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            Some((tag.trim_start_matches('!').to_string(), &tagged.value))
        }
        Value::Mapping(map) if map.len() == 1 => {
            let (key, argument) = map.iter().next()?;
            let key = key.as_str()?;
            if key == "Ref" {
                Some(("Ref".to_string(), argument))
            } else if let Some(name) = key.strip_prefix("Fn::") {
                Some((name.to_string(), argument))
            } else if key == "Condition" && argument.is_string() {
                Some(("Condition".to_string(), argument))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Calls `visit` with every intrinsic function in `value`, and where it is.
pub fn walk_intrinsics<'a>(
    value: &'a Value,
    at: &str,
    visit: &mut dyn FnMut(&str, &'a Value, &str),
) {
    if let Some((name, argument)) = intrinsic(value) {
        visit(&name, argument, at);
    }
    match value {
        Value::Tagged(tagged) => walk_intrinsics(&tagged.value, at, visit),
        Value::Mapping(map) => {
            for (key, child) in map {
                let key = key.as_str().unwrap_or("?");
                walk_intrinsics(child, &format!("{at}.{key}"), visit);
            }
        }
        Value::Sequence(items) => {
            for (index, child) in items.iter().enumerate() {
                walk_intrinsics(child, &format!("{at}[{index}]"), visit);
            }
        }
        _ => {}
    }
}

/// The names a `Fn::Sub` string substitutes (`${Name}`, `${Name.Attr}`), without the escaped
/// literals (`${!Literal}`).
pub fn sub_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            break;
        };
        let name = after[..end].trim();
        if !name.starts_with('!') {
            names.push(name.to_string());
        }
        rest = &after[end + 1..];
    }
    names
}

/// The string argument of `!Ref X`, if `value` is one.
pub fn ref_target(value: &Value) -> Option<&str> {
    match intrinsic(value)? {
        (name, argument) if name == "Ref" => argument.as_str(),
        _ => None,
    }
}

/// The logical id of `!GetAtt X.Arn` / `!GetAtt [X, Arn]`, if `value` is one, with the attribute.
pub fn get_att_target(value: &Value) -> Option<(String, String)> {
    let (name, argument) = intrinsic(value)?;
    if name != "GetAtt" {
        return None;
    }
    match argument {
        Value::String(dotted) => {
            let (id, attribute) = dotted.split_once('.')?;
            Some((id.to_string(), attribute.to_string()))
        }
        Value::Sequence(parts) => Some((
            parts.first()?.as_str()?.to_string(),
            parts.get(1)?.as_str()?.to_string(),
        )),
        _ => None,
    }
}

/// Every plain string in `value`, including both branches of an `!If` (but not the text of a
/// `!Sub`, which is returned separately as `subs`).
fn leaf_strings<'a>(value: &'a Value, plain: &mut Vec<&'a str>, subs: &mut Vec<&'a str>) {
    if let Some((name, argument)) = intrinsic(value) {
        match name.as_str() {
            "Sub" => {
                let text = match argument {
                    Value::Sequence(parts) => parts.first().and_then(Value::as_str),
                    other => other.as_str(),
                };
                subs.extend(text);
            }
            "If" => {
                if let Value::Sequence(parts) = argument {
                    for branch in parts.iter().skip(1) {
                        leaf_strings(branch, plain, subs);
                    }
                }
            }
            _ => {}
        }
        return;
    }
    match value {
        Value::String(s) => plain.push(s),
        Value::Sequence(items) => {
            for item in items {
                leaf_strings(item, plain, subs);
            }
        }
        _ => {}
    }
}

/// Fails the test with every problem found, one a line (all at once, not the first only).
pub fn fail_if_any(problems: &[String], what: &str) {
    assert!(
        problems.is_empty(),
        "{TEMPLATE}: {what}:\n  - {}",
        problems.join("\n  - ")
    );
}

// ---------------------------------------------------------------------------------------------
// The workspace's function crates
// ---------------------------------------------------------------------------------------------

/// A crate under `functions/`.
pub struct FunctionCrate {
    /// Its directory name under `functions/`.
    pub dir: String,
    /// The binary its manifest declares.
    pub binary: String,
}

/// The value of `name = "..."` in a TOML section's lines.
fn toml_name<'a>(lines: impl Iterator<Item = &'a str>) -> Option<String> {
    for line in lines {
        let line = line.trim();
        if line.starts_with('[') {
            return None;
        }
        if let Some(value) = line
            .strip_prefix("name")
            .map(str::trim_start)
            .and_then(|rest| rest.strip_prefix('='))
        {
            return Some(value.trim().trim_matches('"').to_string());
        }
    }
    None
}

/// The binary a crate's manifest declares: its `[[bin]]` name, else its package name.
pub fn binary_name(manifest: &str) -> Option<String> {
    let section = |header: &str| {
        let mut lines = manifest.lines();
        lines.by_ref().find(|l| l.trim() == header)?;
        toml_name(lines)
    };
    section("[[bin]]").or_else(|| section("[package]"))
}

/// The crates under `functions/`, by directory name.
pub fn function_crates() -> Vec<FunctionCrate> {
    let dir = workspace_root().join("functions");
    let mut crates: Vec<FunctionCrate> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join("Cargo.toml").is_file())
        .map(|path| {
            let manifest = read(&path.join("Cargo.toml"));
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            FunctionCrate {
                binary: binary_name(&manifest)
                    .unwrap_or_else(|| panic!("functions/{name}/Cargo.toml names no binary")),
                dir: name,
            }
        })
        .collect();
    crates.sort_by(|a, b| a.dir.cmp(&b.dir));
    crates
}

/// The keys each function's crate declares it uses (its `KEYS_USED`, which its `main.rs` passes
/// to `services_from_env`), by binary name.
pub fn keys_used(binary: &str) -> KeysUsed {
    match binary {
        "contact-created" => contact_created::KEYS_USED,
        "email-confirm" => email_confirm::KEYS_USED,
        "inbound-sms" => inbound_sms::KEYS_USED,
        "send-gate" => send_gate::KEYS_USED,
        "firm-admin" => firm_admin::KEYS_USED,
        "deferred-release" => deferred_release::KEYS_USED,
        "carrier-reconciliation" => carrier_reconciliation::KEYS_USED,
        "consent-events" => consent_events::KEYS_USED,
        other => panic!("{other}: a function crate this test does not know; add it to keys_used"),
    }
}

/// The HTTP routes each function's crate declares its router serves (its `ROUTES`, which
/// `template_routes.rs` checks against the router), as `(METHOD, path)`, by binary name.
pub fn routes_of(binary: &str) -> BTreeSet<(String, String)> {
    let routes: &[(&str, &str)] = match binary {
        "contact-created" => contact_created::ROUTES,
        "email-confirm" => email_confirm::ROUTES,
        "send-gate" => send_gate::ROUTES,
        "firm-admin" => firm_admin::ROUTES,
        // Invoked by SNS, by schedules and by the table's stream: no router.
        "inbound-sms" | "deferred-release" | "carrier-reconciliation" | "consent-events" => &[],
        other => panic!("{other}: a function crate this test does not know; add it to routes_of"),
    };
    routes
        .iter()
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------------------------

/// The statements of a policy document (a list, one statement, or branches of an `!If`).
pub fn statements(document: &Value) -> Vec<&Value> {
    let Some(statement) = document.get("Statement") else {
        return Vec::new();
    };
    match statement {
        Value::Sequence(items) => items.iter().collect(),
        one => vec![one],
    }
}

/// The strings of `Action` (or `Resource`): a string, a list, or `!If` branches.
pub fn strings_of(value: Option<&Value>) -> (Vec<&str>, Vec<&str>) {
    let (mut plain, mut subs) = (Vec::new(), Vec::new());
    if let Some(value) = value {
        leaf_strings(value, &mut plain, &mut subs);
    }
    (plain, subs)
}

/// Checks one statement: no wildcard action, and a `*` resource only for the actions that have
/// no resource to name.
pub fn check_statement(statement: &Value, at: &str, identity: bool, problems: &mut Vec<String>) {
    for forbidden in ["NotAction", "NotResource"] {
        if statement.get(forbidden).is_some() {
            problems.push(format!("{at}: {forbidden} grants everything else"));
        }
    }
    let (actions, _) = strings_of(statement.get("Action"));
    if actions.is_empty() {
        problems.push(format!("{at}: no Action"));
    }
    for action in &actions {
        if action.contains('*') {
            problems.push(format!("{at}: wildcard action {action:?}"));
        }
    }
    if !identity {
        return;
    }
    let (resources, subs) = strings_of(statement.get("Resource"));
    let refs = statement.get("Resource").is_some_and(|r| {
        let mut any = false;
        walk_intrinsics(r, at, &mut |name, _, _| {
            any |= matches!(name, "Ref" | "GetAtt" | "Sub");
        });
        any
    });
    if resources.is_empty() && !refs {
        problems.push(format!("{at}: no Resource"));
    }
    for resource in resources.iter().chain(&subs) {
        if *resource == "*" {
            let exempt = actions.iter().all(|a| STAR_RESOURCE_ACTIONS.contains(a));
            if !exempt {
                problems.push(format!(
                    "{at}: Resource \"*\" for {actions:?}; only {STAR_RESOURCE_ACTIONS:?} may \
                     have it"
                ));
            }
        } else if resource.contains('*') {
            problems.push(format!("{at}: wildcard resource {resource:?}"));
        }
    }
}

/// The secrets a function's role may read with `secretsmanager:GetSecretValue`, by the
/// logical id of each secret named (`!Ref`), from its inline and the template's managed
/// policies.
pub fn secrets_readable(template: &Template, f: &Function) -> BTreeSet<String> {
    let Some((role_id, _)) = f.property("Role").and_then(get_att_target) else {
        return BTreeSet::new();
    };
    let roles = template.of_type("AWS::IAM::Role");
    let managed = template.of_type("AWS::IAM::ManagedPolicy");
    let Some(role) = roles.get(&role_id).and_then(|r| r.get("Properties")) else {
        return BTreeSet::new();
    };
    let mut documents: Vec<&Value> = role
        .get("Policies")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("PolicyDocument"))
        .collect();
    documents.extend(
        role.get("ManagedPolicyArns")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(ref_target)
            .filter_map(|id| managed.get(id))
            .filter_map(|p| p.get("Properties").and_then(|p| p.get("PolicyDocument"))),
    );
    let mut secrets = BTreeSet::new();
    for statement in documents.into_iter().flat_map(statements) {
        let (actions, _) = strings_of(statement.get("Action"));
        if !actions.contains(&"secretsmanager:GetSecretValue") {
            continue;
        }
        let resources: Vec<&Value> = match statement.get("Resource") {
            Some(Value::Sequence(items)) => items.iter().collect(),
            Some(one) => vec![one],
            None => Vec::new(),
        };
        secrets.extend(
            resources
                .into_iter()
                .filter_map(ref_target)
                .map(str::to_string),
        );
    }
    secrets
}

// The checkers themselves, on small inputs, so a passing template test means something.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checkers_catch_what_they_are_for() {
        assert_eq!(
            sub_names("arn:${AWS::Partition}:x:${Table.Arn}/${!Literal}/${Domain}"),
            ["AWS::Partition", "Table.Arn", "Domain"]
        );

        assert_eq!(
            binary_name(
                "[package]\nname = \"a\"\n\n[[bin]]\nname = \"b\"\npath = \"src/main.rs\"\n"
            ),
            Some("b".to_string())
        );
        assert_eq!(
            binary_name("[package]\nname = \"a\"\nversion = \"0.1.0\"\n"),
            Some("a".to_string())
        );

        let statement = |yaml: &str| -> Vec<String> {
            let value: Value = serde_yaml_ng::from_str(yaml).expect("yaml");
            let mut problems = Vec::new();
            check_statement(&value, "test", true, &mut problems);
            problems
        };
        assert!(statement("Action: dynamodb:GetItem\nResource: !GetAtt Table.Arn").is_empty());
        assert!(statement("Action: sns:Publish\nResource: \"*\"").is_empty());
        assert_eq!(
            statement("Action: dynamodb:*\nResource: !GetAtt Table.Arn").len(),
            1
        );
        assert_eq!(
            statement("Action: dynamodb:GetItem\nResource: \"*\"").len(),
            1
        );
        assert_eq!(
            statement("Action: [sns:Publish, sqs:SendMessage]\nResource: \"*\"").len(),
            1
        );
        assert_eq!(
            statement("Action: logs:PutLogEvents\nResource: !Sub \"arn:aws:logs:*:*:*\"").len(),
            1
        );
        assert_eq!(statement("NotAction: iam:*\nResource: x").len(), 2);

        let merged = merge(
            serde_yaml_ng::from_str::<Value>("Timeout: 5\nEnvironment: {Variables: {A: a, B: b}}")
                .expect("yaml")
                .as_mapping(),
            serde_yaml_ng::from_str::<Value>("Timeout: 9\nEnvironment: {Variables: {B: c}}")
                .expect("yaml")
                .as_mapping(),
        );
        let merged = Value::Mapping(merged);
        assert_eq!(merged.get("Timeout").and_then(Value::as_u64), Some(9));
        let variables = merged.get("Environment").and_then(|e| e.get("Variables"));
        assert_eq!(
            variables.and_then(|v| v.get("A")).and_then(Value::as_str),
            Some("a")
        );
        assert_eq!(
            variables.and_then(|v| v.get("B")).and_then(Value::as_str),
            Some("c")
        );
    }
}
