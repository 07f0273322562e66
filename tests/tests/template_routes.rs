//! The HTTP API's routes: each function's `ROUTES` list is what its router serves, and the
//! template routes exactly those, with IAM auth except the email link's public page.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use consent_tests::TestService;
use consent_tests::sam::{Template, fail_if_any, function_crates, ref_target, routes_of};
use http_body_util::BodyExt;
use serde_yaml_ng::Value;
use tower::ServiceExt;

/// A request for `path` with a stand-in for each `{parameter}`: the route must match whatever
/// the handler then makes of the values.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                "x"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_listed_route_is_served_by_its_router() {
    let t = TestService::in_memory();
    let routers = [
        (
            "contact-created",
            contact_created::router(t.services.clone()),
            contact_created::ROUTES,
        ),
        (
            "email-confirm",
            email_confirm::router(t.services.clone()),
            email_confirm::ROUTES,
        ),
        (
            "send-gate",
            send_gate::router(t.services.clone()),
            send_gate::ROUTES,
        ),
        (
            "firm-admin",
            firm_admin::router(t.services.clone()),
            firm_admin::ROUTES,
        ),
    ];
    let mut problems = Vec::new();
    for (name, router, routes) in routers {
        if routes.is_empty() {
            problems.push(format!("functions/{name}: ROUTES is empty"));
        }
        // Each router alone, with the service's fallback: a route another function serves
        // does not count.
        let router = router.fallback(consent_http::fallback);
        for (method, path) in routes {
            let uri = concrete(path);
            let request = Method::from_bytes(method.as_bytes()).ok().and_then(|m| {
                Request::builder()
                    .method(m)
                    .uri(&uri)
                    .body(Body::empty())
                    .ok()
            });
            let Some(request) = request else {
                problems.push(format!(
                    "functions/{name}: {method} {path} is not a request"
                ));
                continue;
            };
            let response = match router.clone().oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let status = response.status();
            let body = match response.into_body().collect().await {
                Ok(body) => body.to_bytes(),
                Err(e) => panic!("reading a response body: {e}"),
            };
            let code = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"]["code"].as_str().map(str::to_string));
            let fallback = status == StatusCode::NOT_FOUND && code.as_deref() == Some("not_found");
            if fallback || status == StatusCode::METHOD_NOT_ALLOWED {
                problems.push(format!(
                    "functions/{name}: ROUTES lists {method} {path}, but its router answers \
                     {method} {uri} with {status}"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "routes not served:\n  - {}",
        problems.join("\n  - ")
    );
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
        let served = routes_of(&krate.binary);
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
                // The table's stream; what it must be is checked in template_events.rs.
                Some("DynamoDB") => {
                    other_events += 1;
                    if properties
                        .and_then(|p| p.get("DestinationConfig"))
                        .is_none()
                    {
                        problems.push(format!(
                            "{}.{name}: a stream event without an on-failure destination",
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
