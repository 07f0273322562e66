//! The SAM template (`infra/template.yaml`) checked against the workspace.
//!
//! cfn-lint and `sam validate --lint` (scripts/validate-template) check the template's syntax
//! and CloudFormation's resource schemas, but miss mistakes inside SAM function properties (an
//! invalid runtime or architecture, an undefined `!Ref` in `Environment`, an unused parameter).
//! These tests check what only the workspace knows: that every function crate is deployed and
//! built the same way, that every name a template expression uses exists, that every function
//! gets the variables `consent_aws::config` requires, that the HTTP routes are the routers'
//! routes, that IAM grants no wildcard, and that the table is the one `consent_aws::keys`
//! describes and survives deletion.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use consent_aws::config::{AwsConfig, ConfigError, KeysUsed, TOKEN_KEYS};
use consent_aws::keys;
use serde_yaml_ng::{Mapping, Value};

/// The template, relative to the workspace root.
const TEMPLATE: &str = "infra/template.yaml";

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

/// The only IAM actions a statement may grant on `Resource: "*"`: SMS straight to a phone
/// number (and the carrier's opt-out list for it) has no resource ARN, and X-Ray has no
/// resource-level permissions.
const STAR_RESOURCE_ACTIONS: &[&str] = &[
    "sns:Publish",
    "sns:CheckIfPhoneNumberIsOptedOut",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
];

/// The HTTP methods an axum router registers with `get(..)`, `post(..)` and so on.
const ROUTER_METHODS: &[&str] = &["get", "post", "put", "delete", "patch"];

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the workspace")
        .to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The parsed template.
struct Template {
    root: Value,
}

impl Template {
    /// Reads `infra/template.yaml`, or the file `TEMPLATE_UNDER_TEST` names (to see these
    /// checks fail on a broken copy without touching the real template).
    fn load() -> Self {
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

    fn section(&self, name: &str) -> BTreeMap<String, &Value> {
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

    fn resources(&self) -> BTreeMap<String, &Value> {
        self.section("Resources")
    }

    /// Resources of one type, by logical id.
    fn of_type(&self, resource_type: &str) -> BTreeMap<String, &Value> {
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
    fn functions(&self) -> Vec<Function> {
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

fn type_of(resource: &Value) -> Option<&str> {
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
struct Function {
    id: String,
    properties: Mapping,
    metadata: Value,
}

impl Function {
    fn property(&self, name: &str) -> Option<&Value> {
        self.properties.get(name)
    }

    /// `Metadata.BuildProperties.Binary`: the Cargo binary `sam build` builds for it.
    fn binary(&self) -> Option<&str> {
        self.metadata
            .get("BuildProperties")
            .and_then(|b| b.get("Binary"))
            .and_then(Value::as_str)
    }

    fn events(&self) -> Vec<(String, &Value)> {
        self.property("Events")
            .and_then(Value::as_mapping)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v)))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn environment(&self) -> BTreeMap<String, &Value> {
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
fn walk_intrinsics<'a>(value: &'a Value, at: &str, visit: &mut dyn FnMut(&str, &'a Value, &str)) {
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
fn sub_names(text: &str) -> Vec<String> {
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
fn ref_target(value: &Value) -> Option<&str> {
    match intrinsic(value)? {
        (name, argument) if name == "Ref" => argument.as_str(),
        _ => None,
    }
}

/// The logical id of `!GetAtt X.Arn` / `!GetAtt [X, Arn]`, if `value` is one, with the attribute.
fn get_att_target(value: &Value) -> Option<(String, String)> {
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

fn fail_if_any(problems: &[String], what: &str) {
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
struct FunctionCrate {
    dir: String,
    binary: String,
    lib: String,
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
fn binary_name(manifest: &str) -> Option<String> {
    let section = |header: &str| {
        let mut lines = manifest.lines();
        lines.by_ref().find(|l| l.trim() == header)?;
        toml_name(lines)
    };
    section("[[bin]]").or_else(|| section("[package]"))
}

fn function_crates() -> Vec<FunctionCrate> {
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
                lib: std::fs::read_to_string(path.join("src/lib.rs")).unwrap_or_default(),
                dir: name,
            }
        })
        .collect();
    crates.sort_by(|a, b| a.dir.cmp(&b.dir));
    crates
}

/// The routes an axum router registers in `lib`: `(METHOD, path)` of every `.route("path",
/// get(..).post(..))`.
fn router_routes(lib: &str) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    let mut rest = lib;
    while let Some(start) = rest.find(".route(") {
        let call = &rest[start + ".route(".len()..];
        // The call's arguments, up to its closing parenthesis.
        let mut depth = 1usize;
        let mut end = call.len();
        for (index, c) in call.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = index;
                        break;
                    }
                }
                _ => {}
            }
        }
        let arguments = &call[..end];
        let path = arguments
            .split('"')
            .nth(1)
            .unwrap_or_else(|| panic!("a .route( call without a path literal: {arguments}"));
        let methods = &arguments[arguments.find(',').unwrap_or(0)..];
        for method in ROUTER_METHODS {
            let call = format!("{method}(");
            let found = methods.match_indices(&call).any(|(index, _)| {
                !methods[..index]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            });
            if found {
                routes.insert((method.to_uppercase(), path.to_string()));
            }
        }
        rest = &call[end..];
    }
    routes
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

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

/// The keys each function's crate declares it uses (its `KEYS_USED`, which its `main.rs` passes
/// to `services_from_env`), by binary name.
fn keys_used(binary: &str) -> KeysUsed {
    match binary {
        "contact-created" => contact_created::KEYS_USED,
        "email-confirm" => email_confirm::KEYS_USED,
        "inbound-sms" => inbound_sms::KEYS_USED,
        "send-gate" => send_gate::KEYS_USED,
        "firm-admin" => firm_admin::KEYS_USED,
        "deferred-release" => deferred_release::KEYS_USED,
        other => panic!("{other}: a function crate this test does not know; add it to keys_used"),
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
        // The TLS roots come from the runtime image's one CA bundle (tls.rs).
        let bundle = consent_aws::tls::CA_BUNDLES[0];
        if environment.get("SSL_CERT_FILE").and_then(|v| v.as_str()) != Some(bundle) {
            problems.push(format!("{}: SSL_CERT_FILE must be {bundle}", f.id));
        }
    }
    fail_if_any(&problems, "function environments");
}

#[test]
fn the_http_routes_are_the_routers_routes_with_iam_auth_except_confirm() {
    let template = Template::load();
    let crates = function_crates();
    let mut problems = Vec::new();

    let apis = template.of_type("AWS::Serverless::HttpApi");
    if apis.len() != 1 {
        problems.push(format!("expected one HttpApi, found {}", apis.len()));
    }
    for (id, api) in &apis {
        let auth = api.get("Properties").and_then(|p| p.get("Auth"));
        let default = auth
            .and_then(|a| a.get("DefaultAuthorizer"))
            .and_then(Value::as_str);
        let iam = auth
            .and_then(|a| a.get("EnableIamAuthorizer"))
            .and_then(Value::as_bool);
        if default != Some("AWS_IAM") || iam != Some(true) {
            problems.push(format!(
                "{id}: Auth must enable the IAM authorizer and make it the default"
            ));
        }
        let throttling = api
            .get("Properties")
            .and_then(|p| p.get("DefaultRouteSettings"));
        for limit in ["ThrottlingRateLimit", "ThrottlingBurstLimit"] {
            if throttling.and_then(|t| t.get(limit)).is_none() {
                problems.push(format!("{id}: DefaultRouteSettings.{limit} is not set"));
            }
        }
    }

    for f in template.functions() {
        let Some(krate) = crates
            .iter()
            .find(|c| Some(c.binary.as_str()) == f.binary())
        else {
            continue; // reported by the crate test
        };
        let served = router_routes(&krate.lib);
        let mut deployed = BTreeSet::new();
        let mut other_events = 0;
        for (name, event) in f.events() {
            let properties = event.get("Properties");
            match event.get("Type").and_then(Value::as_str) {
                Some("HttpApi") => {
                    let method = properties
                        .and_then(|p| p.get("Method"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_uppercase();
                    let path = properties
                        .and_then(|p| p.get("Path"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    let api = properties.and_then(|p| p.get("ApiId")).and_then(ref_target);
                    if !api.is_some_and(|a| apis.contains_key(a)) {
                        problems.push(format!(
                            "{}.{name}: ApiId must be !Ref of the HttpApi, is {api:?}",
                            f.id
                        ));
                    }
                    let authorizer = properties
                        .and_then(|p| p.get("Auth"))
                        .and_then(|a| a.get("Authorizer"))
                        .and_then(Value::as_str);
                    let public = path.starts_with("/confirm/");
                    if public && authorizer != Some("NONE") {
                        problems.push(format!(
                            "{}.{name}: {method} {path} is the email link's page and must be \
                             public (Auth.Authorizer: NONE)",
                            f.id
                        ));
                    }
                    if !public && authorizer.is_some() {
                        problems.push(format!(
                            "{}.{name}: {method} {path} must keep the default IAM authorizer",
                            f.id
                        ));
                    }
                    if !path.starts_with("/v1/") && !public {
                        problems.push(format!(
                            "{}.{name}: {path} is neither a /v1 route nor /confirm",
                            f.id
                        ));
                    }
                    deployed.insert((method, path));
                }
                Some("SNS") => {
                    other_events += 1;
                    let invoke = f.property("EventInvokeConfig");
                    let retries = invoke
                        .and_then(|c| c.get("MaximumRetryAttempts"))
                        .and_then(Value::as_u64);
                    let destination = invoke
                        .and_then(|c| c.get("DestinationConfig"))
                        .and_then(|d| d.get("OnFailure"))
                        .and_then(|o| o.get("Destination"));
                    if retries.is_none_or(|r| r > 2) || destination.is_none() {
                        problems.push(format!(
                            "{}: an SNS-triggered function needs EventInvokeConfig with \
                             MaximumRetryAttempts (0-2) and an OnFailure destination",
                            f.id
                        ));
                    }
                }
                Some("Schedule" | "ScheduleV2") => {
                    other_events += 1;
                    let schedule = properties
                        .and_then(|p| p.get("Schedule").or_else(|| p.get("ScheduleExpression")))
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    if !(schedule.starts_with("rate(") || schedule.starts_with("cron(")) {
                        problems.push(format!(
                            "{}.{name}: schedule {schedule:?} is not rate(..) or cron(..)",
                            f.id
                        ));
                    }
                }
                other => problems.push(format!("{}.{name}: unexpected event type {other:?}", f.id)),
            }
        }
        for (method, path) in served.difference(&deployed) {
            problems.push(format!(
                "{}: functions/{} serves {method} {path}, which the API does not route",
                f.id, krate.dir
            ));
        }
        for (method, path) in deployed.difference(&served) {
            problems.push(format!(
                "{}: the API routes {method} {path}, which functions/{} does not serve",
                f.id, krate.dir
            ));
        }
        if served.is_empty() && other_events == 0 {
            problems.push(format!("{}: nothing invokes it", f.id));
        }
    }
    fail_if_any(&problems, "routes and events");
}

/// The statements of a policy document (a list, one statement, or branches of an `!If`).
fn statements(document: &Value) -> Vec<&Value> {
    let Some(statement) = document.get("Statement") else {
        return Vec::new();
    };
    match statement {
        Value::Sequence(items) => items.iter().collect(),
        one => vec![one],
    }
}

/// The strings of `Action` (or `Resource`): a string, a list, or `!If` branches.
fn strings_of(value: Option<&Value>) -> (Vec<&str>, Vec<&str>) {
    let (mut plain, mut subs) = (Vec::new(), Vec::new());
    if let Some(value) = value {
        leaf_strings(value, &mut plain, &mut subs);
    }
    (plain, subs)
}

/// Checks one statement: no wildcard action, and a `*` resource only for the actions that have
/// no resource to name.
fn check_statement(statement: &Value, at: &str, identity: bool, problems: &mut Vec<String>) {
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

#[test]
fn no_iam_statement_grants_a_wildcard() {
    let template = Template::load();
    let managed_policies = template.of_type("AWS::IAM::ManagedPolicy");
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
                if principals != ["lambda.amazonaws.com"] {
                    problems.push(format!(
                        "{id}: only Lambda may assume a function role, not {principals:?}"
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

// ---------------------------------------------------------------------------------------------
// The checkers themselves, on small inputs, so a passing test above means something.
// ---------------------------------------------------------------------------------------------

#[test]
fn the_checkers_catch_what_they_are_for() {
    assert_eq!(
        sub_names("arn:${AWS::Partition}:x:${Table.Arn}/${!Literal}/${Domain}"),
        ["AWS::Partition", "Table.Arn", "Domain"]
    );

    let lib = r#"Router::new()
        .route("/v1/firms/{firm_id}", put(put_firm).get(get_firm))
        .route(
            "/v1/firms/{firm_id}/templates/{name}",
            put(put_template).delete(delete_template),
        )
        .route("/confirm/{token}", get(show).post(confirm))"#;
    let routes: Vec<(String, String)> = router_routes(lib).into_iter().collect();
    let expected: Vec<(String, String)> = [
        ("DELETE", "/v1/firms/{firm_id}/templates/{name}"),
        ("GET", "/confirm/{token}"),
        ("GET", "/v1/firms/{firm_id}"),
        ("POST", "/confirm/{token}"),
        ("PUT", "/v1/firms/{firm_id}"),
        ("PUT", "/v1/firms/{firm_id}/templates/{name}"),
    ]
    .iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    assert_eq!(routes, expected);

    assert_eq!(
        binary_name("[package]\nname = \"a\"\n\n[[bin]]\nname = \"b\"\npath = \"src/main.rs\"\n"),
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

/// The secrets a function's role may read with `secretsmanager:GetSecretValue`, by the
/// logical id of each secret named (`!Ref`), from its inline and the template's managed
/// policies.
fn secrets_readable(template: &Template, f: &Function) -> BTreeSet<String> {
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
