//! The local server as a newcomer runs it: the real binary on a loopback port, driven over HTTP,
//! on the embedded database (state survives a restart, a `kill -9` loses nothing acknowledged,
//! one server per directory, a locked database answers 503, the former `store.json` is imported)
//! and in `--aws` mode against moto.

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

fn command(data_dir: &Path, addr: &str, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_consent-local"));
    command
        .args(["--demo", "--addr", addr, "--data-dir"])
        .arg(data_dir)
        .args(extra);
    command
}

async fn start(data_dir: &Path, extra: &[&str], env: &[(&str, String)]) -> Server {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut command = command(data_dir, &addr, extra);
    command
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
    match try_post(addr, path, body).await {
        Ok(answer) => answer,
        Err(e) => panic!("POST {path}: {e}"),
    }
}

/// A POST whose connection may fail (the server may be gone).
async fn try_post(addr: &str, path: &str, body: Value) -> std::io::Result<(u16, Value)> {
    let body = body.to_string();
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!(
        "POST {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((
        status,
        serde_json::from_str(body).unwrap_or(json!({ "raw": body })),
    ))
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
    assert!(
        page.contains("Latest events for the CRM") && page.contains("pending → opted_in (sms)"),
        "the page shows the feed, newest first: {page}"
    );
    drop(server);

    let server = start(&dir, &[], &[]).await;
    let (status, body) = get(&server.addr, "/v1/firms/demo/consents/+14155550134").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "opted_in");
    // A revocation the staff record is signed with the local server's caller.
    let (status, body) = post(
        &server.addr,
        "/v1/firms/demo/consents/+14155550199/opt-out",
        json!({ "channel": "phone_call", "recorded_by": "front desk" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, record) = get(&server.addr, "/v1/firms/demo/consents/+14155550199").await;
    let recorded = record["events"]
        .as_array()
        .and_then(|events| events.iter().find(|e| e["type"] == "opt_out_recorded"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(recorded["actor"], "local", "{record}");
    let (_, outbox) = get(&server.addr, "/dev/outbox").await;
    assert_eq!(
        outbox["sms"].as_array().map(Vec::len),
        Some(3),
        "the outbox is kept: {outbox}"
    );
    let (_, clock) = get(&server.addr, "/dev/clock").await;
    let now = clock["now"].as_str().unwrap_or_default();
    assert!(
        now.starts_with("2026-12-01T18:"),
        "the set clock is kept: {clock}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A contact of the demo firm: `+1415555` and four digits.
fn demo_phone(n: usize) -> String {
    format!("+1415555{:04}", 2000 + n)
}

#[tokio::test]
async fn a_kill_during_a_burst_of_stops_loses_no_acknowledged_stop() {
    const CONTACTS: usize = 120;
    let dir = temp_dir("kill");
    let server = start(&dir, &[], &[]).await;
    for n in 0..CONTACTS {
        let (status, body) = post(
            &server.addr,
            "/v1/firms/demo/contacts",
            json!({ "contact_id": format!("c{n}"), "phone": demo_phone(n) }),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    // Four clients text STOP from every number; the server is killed (SIGKILL) once a third
    // of them were acknowledged, while the rest are in flight.
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut clients = Vec::new();
    for client in 0..4 {
        let addr = server.addr.clone();
        let acknowledged = acknowledged.clone();
        clients.push(tokio::spawn(async move {
            for n in (client..CONTACTS).step_by(4) {
                let answer = try_post(
                    &addr,
                    "/dev/inbound-sms",
                    json!({ "originationNumber": demo_phone(n), "destinationNumber": "+12025550100",
                            "messageBody": "STOP", "inboundMessageId": format!("stop-{n}") }),
                )
                .await;
                if matches!(answer, Ok((200, _))) {
                    acknowledged
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(n);
                }
            }
        }));
    }
    let mut server = server;
    let started = Instant::now();
    while acknowledged.lock().map(|a| a.len()).unwrap_or(0) < CONTACTS / 3
        && started.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.child.kill().expect("SIGKILL");
    let _ = server.child.wait();
    for client in clients {
        client.await.expect("a client");
    }
    let acknowledged = acknowledged.lock().map(|a| a.clone()).unwrap_or_default();
    assert!(
        acknowledged.len() >= CONTACTS / 3 && acknowledged.len() < CONTACTS,
        "the kill came mid-burst: {} of {CONTACTS} acknowledged",
        acknowledged.len()
    );
    drop(server);

    let server = start(&dir, &[], &[]).await;
    for n in &acknowledged {
        let (status, body) = get(
            &server.addr,
            &format!("/v1/firms/demo/consents/{}", demo_phone(*n)),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["status"], "opted_out",
            "an acknowledged STOP was lost: {body}"
        );
    }
    println!(
        "{} of {CONTACTS} STOPs acknowledged before the kill; all kept",
        acknowledged.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_second_server_on_the_same_directory_exits_naming_the_holder() {
    let dir = temp_dir("second");
    let server = start(&dir, &[], &[]).await;
    let holder = server.child.id();
    let addr = format!("127.0.0.1:{}", free_port());
    let output = command(&dir, &addr, &[])
        .output()
        .expect("the second binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("in use by another consent-local"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("process {holder}")), "{stderr}");
    let (status, _) = get(&server.addr, "/health").await;
    assert_eq!(status, 200, "the first server runs on");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_locked_database_answers_503_and_the_write_lands_once_it_is_free() {
    let dir = temp_dir("locked");
    let server = start(&dir, &[], &[]).await;
    let holder = rusqlite::Connection::open(dir.join("consent.db")).expect("a second connection");
    holder
        .execute_batch("BEGIN IMMEDIATE")
        .expect("the write lock");
    let contact = json!({ "contact_id": "c1", "phone": demo_phone(1) });
    let (status, body) = post(&server.addr, "/v1/firms/demo/contacts", contact.clone()).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "store_unavailable", "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("locked"), "{message}");
    let (status, _) = get(
        &server.addr,
        &format!("/v1/firms/demo/consents/{}", demo_phone(1)),
    )
    .await;
    assert_eq!(status, 404, "nothing was acknowledged, nothing kept");
    holder.execute_batch("ROLLBACK").expect("released");
    let (status, body) = post(&server.addr, "/v1/firms/demo/contacts", contact).await;
    assert_eq!(status, 201, "{body}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_former_store_json_is_imported_once_and_renamed() {
    use consent_tests::TestService;
    let memory = std::sync::Arc::new(consent::adapters::memory::MemoryStore::new());
    let t = TestService::on_store(memory.clone());
    consent_tests::scenarios::register_firm(&t).await;
    let (status, body) = t
        .call(
            axum::http::Method::POST,
            &format!("/v1/firms/{}/contacts", t.firm_id()),
            Some(json!({ "contact_id": "c1", "phone": t.phone(1) })),
        )
        .await;
    assert_eq!(status.as_u16(), 201, "{body}");
    let dir = temp_dir("legacy");
    std::fs::create_dir_all(&dir).expect("the directory");
    let state = serde_json::to_vec(&memory.snapshot()).expect("the state");
    std::fs::write(dir.join("store.json"), state).expect("store.json");

    let consent = format!("/v1/firms/{}/consents/{}", t.firm_id(), t.phone(1));
    let server = start(&dir, &[], &[]).await;
    let (status, body) = get(&server.addr, &consent).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "pending");
    assert!(!dir.join("store.json").exists());
    assert!(dir.join("store.json.imported").exists());
    let (status, proof) = get(&server.addr, &format!("{consent}/proof")).await;
    assert_eq!(status, 200, "the imported trail proves: {proof}");
    drop(server);
    let server = start(&dir, &[], &[]).await;
    let (status, body) = get(&server.addr, &consent).await;
    assert_eq!(
        (status, &body["status"]),
        (200, &json!("pending")),
        "{body}"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_data_directory_that_cannot_be_created_is_refused_by_name() {
    let parent = temp_dir("blocked");
    std::fs::create_dir_all(&parent).expect("the parent");
    // A file where the directory should be: no user (not even root) can create it.
    let dir = parent.join("data");
    std::fs::write(&dir, "a file, not a directory").expect("a file");
    let output = command(&dir, "127.0.0.1:0", &[])
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&dir.display().to_string()), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let _ = std::fs::remove_dir_all(&parent);
}

#[test]
fn a_data_directory_holding_another_file_as_its_database_is_refused_by_name() {
    let dir = temp_dir("notadb");
    std::fs::create_dir_all(&dir).expect("the directory");
    std::fs::write(dir.join("consent.db"), "not a database ".repeat(100)).expect("a file");
    let output = command(&dir, "127.0.0.1:0", &[])
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("consent.db is not a SQLite database"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
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
