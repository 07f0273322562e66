//! The local server's OpenAPI document: the API's and the local-only routes, each served, every
//! other method on their paths 405; served at `/openapi.json` (and the API's at
//! `/v1/openapi.json`); `docs/openapi.json` is what `consent-local openapi` prints; the README
//! names every local-only route.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use consent_http::openapi::operations;
use consent_local::Local;
use consent_sqlite::Durability;
use http_body_util::BodyExt;
use tower::ServiceExt;

type Routes = BTreeSet<(String, String)>;

/// The workspace root (this crate is `local/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("local/ is in the workspace")
        .to_path_buf()
}

fn local_routes() -> Routes {
    consent_local::dev::ROUTES
        .iter()
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect()
}

#[test]
fn the_local_document_is_the_apis_and_the_local_routes() {
    let api: Routes = operations(&consent_openapi::document())
        .into_iter()
        .collect();
    let local: Routes = operations(&consent_local::openapi::document())
        .into_iter()
        .collect();
    let expected: Routes = api.union(&local_routes()).cloned().collect();
    let missing: Vec<_> = expected.difference(&local).collect();
    let extra: Vec<_> = local.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the local document lacks {missing:?} and has {extra:?} beyond the API and dev::ROUTES"
    );
}

/// A local server on a fresh data directory, in process.
async fn local(name: &str) -> (Local, PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "consent-local-openapi-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let local = Local::open(&dir, "http://127.0.0.1:3000", Durability::Normal)
        .await
        .expect("the local service opens");
    local.register_demo().await.expect("the demo firm");
    (local, dir)
}

/// `method path` through the whole local router: status and body.
async fn call(router: &axum::Router, method: Method, uri: &str) -> (StatusCode, String) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .expect("a request");
    let response = match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn every_local_route_is_served_and_every_other_method_is_405() {
    let (local, dir) = local("served").await;
    let router = local.router();
    let routes = local_routes();
    let mut problems = Vec::new();
    for (method, path) in &routes {
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        let (status, body) = call(&router, method.clone(), path).await;
        // The fallback's answer: a 404 whose error code is `not_found`.
        let code = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_string));
        let fallback = status == StatusCode::NOT_FOUND && code.as_deref() == Some("not_found");
        if status == StatusCode::METHOD_NOT_ALLOWED || fallback {
            problems.push(format!(
                "dev::ROUTES lists {method} {path}: answered {status}"
            ));
        }
    }
    let paths: BTreeSet<&String> = routes.iter().map(|(_, path)| path).collect();
    for path in paths {
        for method in [Method::GET, Method::PUT, Method::POST, Method::DELETE] {
            if routes.contains(&(method.to_string(), path.clone())) {
                continue;
            }
            let (status, _) = call(&router, method.clone(), path).await;
            if status != StatusCode::METHOD_NOT_ALLOWED {
                problems.push(format!("{method} {path} answers {status}: undocumented"));
            }
        }
    }
    drop(local);
    let _ = std::fs::remove_dir_all(dir);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn the_documents_are_served() {
    let (local, dir) = local("documents").await;
    let router = local.router();
    let (status, body) = call(&router, Method::GET, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, consent_local::openapi::document_json());
    let (status, body) = call(&router, Method::GET, "/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, consent_openapi::document_json());
    drop(local);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn docs_openapi_json_is_what_the_code_generates() {
    let output = Command::new(env!("CARGO_BIN_EXE_consent-local"))
        .arg("openapi")
        .output()
        .expect("consent-local openapi runs");
    assert!(output.status.success(), "consent-local openapi failed");
    let generated = String::from_utf8(output.stdout).expect("the document is UTF-8");
    let checked_in = std::fs::read_to_string(root().join("docs/openapi.json")).unwrap_or_default();
    assert!(
        generated == checked_in,
        "docs/openapi.json differs from what the code generates; regenerate it with\n    \
         cargo run -p consent-local -- openapi > docs/openapi.json"
    );
    assert!(
        generated.contains("\"openapi\": \"3.1.0\""),
        "{generated:.200}"
    );
}

#[test]
fn the_readme_names_every_local_route() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let line = readme
        .lines()
        .find(|l| l.starts_with("Local-only routes:"))
        .expect("README.md has a `Local-only routes:` line");
    let paragraph: String = readme
        .split(line)
        .nth(1)
        .map(|rest| rest.split("\n\n").next().unwrap_or_default().to_string())
        .unwrap_or_default();
    let text = format!("{line}{paragraph}");
    let missing: Vec<String> = local_routes()
        .into_iter()
        .map(|(method, path)| format!("{method} `{path}`"))
        .filter(|route| !text.contains(route.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "README.md's `Local-only routes:` paragraph does not name {missing:?}"
    );
}
