//! The OpenAPI document and what serves it cannot drift apart: the document's operations are
//! exactly the routers' route tables (`ROUTES`), every other method on a documented path is 405,
//! the SAM template routes exactly the documented operations, and the README's API table lists
//! them all. Every operation says who may call it and what it answers.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use consent_http::openapi::operations;
use consent_tests::TestService;
use consent_tests::sam::{Template, read, workspace_root};
use serde_json::Value;
use serde_yaml_ng::Value as Yaml;
use tower::ServiceExt;

type Routes = BTreeSet<(String, String)>;

fn set(routes: &[(&str, &str)]) -> Routes {
    routes
        .iter()
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect()
}

fn owned(routes: Vec<(String, String)>) -> Routes {
    routes.into_iter().collect()
}

/// Each HTTP function: its name, its route table, the operations it documents, its router.
fn functions(t: &TestService) -> Vec<(&'static str, Routes, Routes, axum::Router)> {
    vec![
        (
            "contact-created",
            set(contact_created::ROUTES),
            owned(operations(&contact_created::operations())),
            contact_created::router(t.services.clone()),
        ),
        (
            "send-gate",
            set(send_gate::ROUTES),
            owned(operations(&send_gate::operations())),
            send_gate::router(t.services.clone()),
        ),
        (
            "firm-admin",
            set(firm_admin::ROUTES),
            owned(operations(&firm_admin::operations())),
            firm_admin::router(t.services.clone()),
        ),
        (
            "email-confirm",
            set(email_confirm::ROUTES),
            owned(operations(&email_confirm::operations())),
            email_confirm::router(t.services.clone()),
        ),
    ]
}

/// Differences between what a route table says and what the document says, in words.
fn differences(name: &str, table: &Routes, documented: &Routes) -> Vec<String> {
    let mut problems = Vec::new();
    for (method, path) in table.difference(documented) {
        problems.push(format!(
            "functions/{name}: ROUTES lists {method} {path}, which the document does not"
        ));
    }
    for (method, path) in documented.difference(table) {
        problems.push(format!(
            "functions/{name}: the document has {method} {path}, which ROUTES does not list"
        ));
    }
    problems
}

#[test]
fn the_document_is_exactly_the_routers_route_tables() {
    let t = TestService::in_memory();
    let mut problems = Vec::new();
    let mut every_table = Routes::new();
    for (name, table, documented, _) in functions(&t) {
        problems.extend(differences(name, &table, &documented));
        every_table.extend(table);
    }
    let whole = owned(operations(&consent_openapi::document()));
    problems.extend(differences("*", &every_table, &whole));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(whole.len() >= 20, "{whole:?}");
}

/// A request for `path` with a stand-in for each `{parameter}`.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "x" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn a_documented_path_answers_every_undocumented_method_with_405() {
    let t = TestService::in_memory();
    let mut problems = Vec::new();
    for (name, _, documented, router) in functions(&t) {
        let router = router.fallback(consent_http::fallback);
        let paths: BTreeSet<&String> = documented.iter().map(|(_, path)| path).collect();
        for path in paths {
            for method in [
                Method::GET,
                Method::PUT,
                Method::POST,
                Method::DELETE,
                Method::PATCH,
            ] {
                if documented.contains(&(method.to_string(), path.clone())) {
                    continue;
                }
                let request = Request::builder()
                    .method(method.clone())
                    .uri(concrete(path))
                    .body(Body::empty())
                    .expect("a request");
                let status = match router.clone().oneshot(request).await {
                    Ok(response) => response.status(),
                    Err(never) => match never {},
                };
                if status != StatusCode::METHOD_NOT_ALLOWED {
                    problems.push(format!(
                        "functions/{name}: {method} {path} answers {status}: served but not \
                         documented"
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_template_routes_exactly_the_documented_operations() {
    let template = Template::load();
    let mut deployed = Routes::new();
    for f in template.functions() {
        for (_, event) in f.events() {
            if event.get("Type").and_then(Yaml::as_str) != Some("HttpApi") {
                continue;
            }
            let property = |key: &str| {
                event
                    .get("Properties")
                    .and_then(|p| p.get(key))
                    .and_then(Yaml::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            deployed.insert((property("Method").to_uppercase(), property("Path")));
        }
    }
    let documented = owned(operations(&consent_openapi::document()));
    let missing: Vec<_> = documented.difference(&deployed).collect();
    let extra: Vec<_> = deployed.difference(&documented).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "infra/template.yaml does not route these documented operations: {missing:?}; it routes \
         these the document does not have: {extra:?}"
    );
}

/// The (METHOD, path) of each row of the README's API table: "| GET `/v1/...[?...]` | ...".
fn readme_api_table() -> Routes {
    let readme = read(&workspace_root().join("README.md"));
    let section = readme
        .split("\n## API\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README.md has an API section");
    section
        .lines()
        .filter_map(|line| {
            let row = line.strip_prefix("| ")?;
            let (method, rest) = row.split_once(" `")?;
            let (path, _) = rest.split_once('`')?;
            let path = path.split(['[', '?']).next()?;
            Some((method.to_string(), path.to_string()))
        })
        .filter(|(method, _)| ["GET", "PUT", "POST", "DELETE", "PATCH"].contains(&method.as_str()))
        .collect()
}

#[test]
fn the_readme_api_table_lists_exactly_the_documented_operations() {
    let table = readme_api_table();
    let documented = owned(operations(&consent_openapi::document()));
    let missing: Vec<_> = documented.difference(&table).collect();
    let extra: Vec<_> = table.difference(&documented).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "README.md's API table lacks {missing:?} and lists {extra:?}, which the document does \
         not have (docs/openapi.json is the reference)"
    );
}

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                out.push(target);
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_reference_in_the_document_resolves() {
    let doc: Value =
        serde_json::from_str(&consent_openapi::document_json()).expect("the document is JSON");
    let mut targets = Vec::new();
    refs(&doc, &mut targets);
    assert!(!targets.is_empty());
    let dangling: BTreeSet<&str> = targets
        .into_iter()
        .filter(|target| {
            let pointer = target.strip_prefix('#').unwrap_or("not a local reference");
            doc.pointer(pointer).is_none()
        })
        .collect();
    assert!(dangling.is_empty(), "references to nothing: {dangling:?}");
}

/// Every operation of the document with its method and path.
fn each_operation(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            out.push((method.to_uppercase(), path.clone(), operation));
        }
    }
    out
}

#[test]
fn every_operation_says_who_may_call_it_and_what_it_answers() {
    let doc: Value =
        serde_json::from_str(&consent_openapi::document_json()).expect("the document is JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let scheme = &doc["components"]["securitySchemes"]["sigv4"];
    assert_eq!(scheme["type"], "apiKey", "{scheme}");
    assert_eq!(
        scheme["x-amazon-apigateway-authtype"], "awsSigv4",
        "{scheme}"
    );
    let mut problems = Vec::new();
    for (method, path, operation) in each_operation(&doc) {
        let name = format!("{method} {path}");
        let signed = operation["security"] == serde_json::json!([{"sigv4": []}]);
        if path.starts_with("/v1/") != signed {
            problems.push(format!(
                "{name}: SigV4 exactly on /v1 (security: {})",
                operation["security"]
            ));
        }
        if operation["operationId"].as_str().is_none_or(str::is_empty) {
            problems.push(format!("{name}: no operationId"));
        }
        let responses = operation["responses"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        if !responses.keys().any(|status| status.starts_with('2')) {
            problems.push(format!("{name}: no success response"));
        }
        for (status, response) in &responses {
            let shared = response.get("$ref").is_some();
            if status.starts_with(['4', '5']) && !shared && response["content"].is_null() {
                problems.push(format!("{name}: {status} has no body schema"));
            }
        }
        let json_body = !operation["requestBody"]["content"]["application/json"].is_null();
        for status in ["400", "413", "415"] {
            if json_body && !responses.contains_key(status) {
                problems.push(format!(
                    "{name}: a JSON body, but no {status} for an unreadable one"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn a_path_segment_that_is_not_text_gets_a_documented_answer() {
    let t = TestService::in_memory();
    let mut problems = Vec::new();
    for (name, _, documented, router) in functions(&t) {
        let router = router.fallback(consent_http::fallback);
        for (method, path) in &documented {
            if !path.contains('{') {
                continue;
            }
            let uri: String = path
                .split('/')
                .map(|s| if s.starts_with('{') { "%FF%FE" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let request = Request::builder()
                .method(Method::from_bytes(method.as_bytes()).expect("a method"))
                .uri(&uri)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .expect("a request");
            let response = match router.clone().oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let status = response.status();
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let expected = if path.starts_with("/confirm/") {
                (StatusCode::BAD_REQUEST, "text/html; charset=utf-8")
            } else {
                (StatusCode::NOT_FOUND, "application/json")
            };
            if (status, content_type.as_str()) != expected {
                problems.push(format!(
                    "functions/{name}: {method} {uri} answers {status} {content_type}, not {expected:?}"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
