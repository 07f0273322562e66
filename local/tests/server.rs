//! The local server as a newcomer runs it: the real binary on a loopback port, driven over HTTP,
//! on the embedded store (state survives a restart) and in `--aws` mode against moto.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[cfg(feature = "aws")]
use consent_tests::emulator::Moto;
use consent_tests::emulator::http_get;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn start(data_dir: &Path, extra: &[&str], env: &[(&str, String)]) -> Server {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut command = Command::new(env!("CARGO_BIN_EXE_consent-local"));
    command
        .args(["--demo", "--addr", &addr, "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let child = command.spawn().expect("the local server starts");
    let server = Server { child, addr };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if let Ok((200, _)) = http_get(&server.addr, "/health").await {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the local server did not answer /health");
}

async fn post(addr: &str, path: &str, body: Value) -> (u16, Value) {
    let body = body.to_string();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "POST {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (
        status,
        serde_json::from_str(body).unwrap_or(json!({ "raw": body })),
    )
}

async fn get(addr: &str, path: &str) -> (u16, Value) {
    let (status, body) = http_get(addr, path).await.expect("get");
    (
        status,
        serde_json::from_str(&body).unwrap_or(json!({ "raw": body })),
    )
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("consent-local-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The README's flow: contact, YES, gate allows, STOP, gate blocks.
async fn walk_through(addr: &str) {
    let (status, _) = post(addr, "/dev/clock", json!({ "now": "2026-12-01T18:00:00Z" })).await;
    assert_eq!(status, 200);
    let (status, body) = post(
        addr,
        "/v1/firms/demo/contacts",
        json!({ "contact_id": "c1", "phone": "(415) 555-0134", "email": "alice@example.com" }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = post(
        addr,
        "/dev/inbound-sms",
        json!({ "originationNumber": "+14155550134", "destinationNumber": "+12025550100",
                "messageBody": "YES", "inboundMessageId": "in-1" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "opted_in");
    let (status, body) = post(
        addr,
        "/v1/firms/demo/messages",
        json!({ "to": "+14155550134", "body": "Hello", "idempotency_key": "m1" }),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let (_, outbox) = get(addr, "/dev/outbox").await;
    let sms = outbox["sms"].as_array().cloned().unwrap_or_default();
    assert_eq!(sms.len(), 3, "{outbox}");
    assert!(
        sms.iter()
            .all(|s| s["message_id"].as_str().is_some_and(|id| !id.is_empty()))
    );
    assert_eq!(outbox["email"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn embedded_store_serves_the_flow_and_survives_a_restart() {
    let dir = temp_dir("embedded");
    let server = start(&dir, &[], &[]).await;
    walk_through(&server.addr).await;
    let (status, page) = http_get(&server.addr, "/").await.expect("home page");
    assert_eq!(status, 200);
    assert!(page.contains("Reply as the contact"), "{page}");
    drop(server);

    let server = start(&dir, &[], &[]).await;
    let (status, body) = get(&server.addr, "/v1/firms/demo/consents/+14155550134").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "opted_in");
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "aws")]
#[tokio::test]
async fn aws_mode_runs_on_the_emulator() {
    let moto = Moto::start().await;
    let dir = temp_dir("aws");
    let env = [
        ("AWS_ENDPOINT_URL", moto.endpoint()),
        ("AWS_ACCESS_KEY_ID", "test".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
    ];
    let server = start(&dir, &["--aws", "--table", "local-test"], &env).await;
    walk_through(&server.addr).await;
    let data = moto.data().await;
    let sent: Vec<&str> = data["sns"]["SMS"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["message"].as_str())
        .collect();
    assert_eq!(sent.len(), 3, "{data}");
    assert_eq!(sent[2], "Hello");
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "aws")]
#[test]
fn aws_mode_refuses_to_start_without_an_emulator() {
    let output = Command::new(env!("CARGO_BIN_EXE_consent-local"))
        .args(["--aws", "--addr", "127.0.0.1:0"])
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("AWS_ENDPOINT_URL"), "{stderr}");
}

#[cfg(not(feature = "aws"))]
#[test]
fn aws_mode_on_a_build_without_the_aws_feature_says_how_to_build_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_consent-local"))
        .args(["--aws", "--addr", "127.0.0.1:0"])
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--features aws"), "{stderr}");
}
