//! Gate decisions per second in process on one thread (in-memory and SQLite stores), and the
//! local server under load over HTTP at several store sizes.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use consent::adapters::memory::{MemoryOutbox, MemoryStore, SettableClock};
use consent::flows::send::{SendOutcome, SendRequest, recipient_window};
use consent::flows::{ServiceConfig, Services};
use consent::model::firm::Firm;
use consent::model::gate::{self, GateQuestion, MessageCategory, MessageKind};
use consent::ports::{Clock, Store};
use consent_sqlite::Durability;
use consent_tests::sqlite::TempDatabase;
use consent_tests::{afternoon, test_keys};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::aws::{self, Seed};

/// The body of every benchmark message.
pub const BODY: &str = "Reminder: your consultation with Bench & Partners is tomorrow at 10:00. Reply STOP to opt out.";

/// One throughput measurement.
#[derive(Debug, Clone)]
pub struct Throughput {
    /// What was measured.
    pub mode: String,
    /// Decisions made.
    pub decisions: usize,
    /// Time they took.
    pub elapsed: Duration,
    /// What they were (`sent 1000`, ...).
    pub outcomes: String,
}

impl Throughput {
    /// Decisions per second.
    pub fn per_second(&self) -> f64 {
        self.decisions as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn tally(outcomes: &[Result<SendOutcome, String>]) -> String {
    let mut sent = 0;
    let mut deferred = 0;
    let mut blocked = 0;
    let mut failed = 0;
    for outcome in outcomes {
        match outcome {
            Ok(SendOutcome::Sent { .. }) => sent += 1,
            Ok(SendOutcome::Deferred { .. }) => deferred += 1,
            Ok(SendOutcome::Blocked { .. }) => blocked += 1,
            Err(_) => failed += 1,
        }
    }
    let mut parts = vec![format!("sent {sent}")];
    for (name, n) in [
        ("deferred", deferred),
        ("blocked", blocked),
        ("failed", failed),
    ] {
        if n > 0 {
            parts.push(format!("{name} {n}"));
        }
    }
    parts.join(", ")
}

/// The flows on a store and the in-memory outbox, frozen on a weekday afternoon.
pub struct MemoryBench {
    /// The flows.
    pub services: Services,
    /// The store.
    pub store: Arc<dyn Store>,
    /// The clock.
    pub clock: Arc<SettableClock>,
    /// The outbox.
    pub outbox: Arc<MemoryOutbox>,
    /// The database a SQLite bench runs on, removed with the bench.
    _database: Option<TempDatabase>,
}

impl MemoryBench {
    /// A fresh one on the in-memory store.
    pub fn new() -> Self {
        Self::on(Arc::new(MemoryStore::new()), None)
    }

    /// A fresh one on `store` (kept with `database`, if it lives in one).
    fn on(store: Arc<dyn Store>, database: Option<TempDatabase>) -> Self {
        let clock = Arc::new(SettableClock::frozen(afternoon()));
        let outbox = Arc::new(MemoryOutbox::new(clock.clone() as Arc<dyn Clock>));
        let services = Services::new(
            store.clone(),
            outbox.clone(),
            outbox.clone(),
            clock.clone(),
            Some(test_keys()),
            ServiceConfig {
                confirm_base_url: aws::CONFIRM_BASE_URL.to_string(),
                ..ServiceConfig::default()
            },
        );
        Self {
            services,
            store,
            clock,
            outbox,
            _database: database,
        }
    }
}

impl Default for MemoryBench {
    fn default() -> Self {
        Self::new()
    }
}

fn message(to: &consent::model::phone::PhoneNumber) -> SendRequest {
    SendRequest {
        to: to.clone(),
        kind: MessageKind::FirmMessage,
        category: MessageCategory::Transactional,
        body: BODY.to_string(),
        idempotency_key: None,
    }
}

/// Registers the bench firm and `numbers` opted-in numbers on `bench`; one request for each.
async fn seed_bench(bench: &MemoryBench, numbers: usize) -> (Firm, Vec<SendRequest>) {
    let firm = aws::register_firm(&bench.services, "bench", "+12025550142").await;
    let phones = aws::fresh_phones(numbers);
    aws::seed(
        &bench.store,
        &firm,
        &phones,
        Seed::OptedIn,
        None,
        afternoon(),
    )
    .await;
    (firm, phones.iter().map(message).collect())
}

/// A firm and `numbers` opted-in numbers on a fresh in-memory bench.
async fn opted_in_bench(numbers: usize) -> (MemoryBench, Firm, Vec<SendRequest>) {
    let bench = MemoryBench::new();
    let (firm, requests) = seed_bench(&bench, numbers).await;
    (bench, firm, requests)
}

/// The same on a new SQLite database: seeded in memory, then imported in one transaction.
async fn opted_in_sqlite_bench(
    numbers: usize,
    durability: Durability,
) -> Result<(MemoryBench, Firm, Vec<SendRequest>), String> {
    let memory = Arc::new(MemoryStore::new());
    let (firm, requests) = seed_bench(&MemoryBench::on(memory.clone(), None), numbers).await;
    let database = TempDatabase::with_durability("bench", durability);
    database
        .store
        .import_state(memory.snapshot(), "bench")
        .await
        .map_err(|e| e.to_string())?;
    let store: Arc<dyn Store> = database.store.clone();
    Ok((MemoryBench::on(store, Some(database)), firm, requests))
}

/// Decisions per SQLite mode: each commits twice, so fewer than in memory.
const SQLITE_DECISIONS: usize = 20_000;

/// Runs of each in-process mode; the median is reported (a shared VM's runs vary by a third).
pub const GATE_RUNS: usize = 5;

/// The median run of `runs` (by time), labelled with the spread of all of them.
fn median_run(mut runs: Vec<Throughput>) -> Throughput {
    runs.sort_by_key(|r| r.elapsed);
    let slowest = runs.last().map_or(0.0, Throughput::per_second);
    let fastest = runs.first().map_or(0.0, Throughput::per_second);
    let count = runs.len();
    let mut median = runs.swap_remove(count / 2);
    median.mode = format!(
        "{}, median of {count} runs ({slowest:.0}–{fastest:.0}/s)",
        median.mode
    );
    median
}

/// `SendGate::send` one message at a time, over a fresh in-memory bench.
async fn send_one_at_a_time(decisions: usize, numbers: usize, limit: Duration) -> Throughput {
    let (bench, firm, requests) = opted_in_bench(numbers).await;
    let mut run = sends(&bench, &firm, &requests, decisions, limit).await;
    run.mode = format!("in process, `SendGate::send` one at a time ({numbers} numbers)");
    run
}

/// `decisions` sends one at a time over `requests`, stopping after `limit`.
async fn sends(
    bench: &MemoryBench,
    firm: &Firm,
    requests: &[SendRequest],
    decisions: usize,
    limit: Duration,
) -> Throughput {
    let started = Instant::now();
    let mut outcomes = Vec::with_capacity(decisions);
    for i in 0..decisions {
        let outcome = bench
            .services
            .gate
            .send(firm, &requests[i % requests.len()])
            .await;
        outcomes.push(outcome.map_err(|e| e.to_string()));
        if started.elapsed() > limit {
            break;
        }
    }
    Throughput {
        mode: String::new(),
        decisions: outcomes.len(),
        elapsed: started.elapsed(),
        outcomes: tally(&outcomes),
    }
}

/// `SendGate::send_batch` by 1,000, over a fresh bench (returned for the policy-only mode).
async fn send_in_batches(
    decisions: usize,
    numbers: usize,
    limit: Duration,
) -> (Throughput, MemoryBench, Firm, Vec<SendRequest>) {
    let (bench, firm, requests) = opted_in_bench(numbers).await;
    let mut run = batches(&bench, &firm, &requests, decisions, limit).await;
    run.mode = format!("in process, `SendGate::send_batch` of 1,000 ({numbers} numbers)");
    (run, bench, firm, requests)
}

/// `decisions` sends in batches of 1,000 over `requests`, stopping after `limit`.
async fn batches(
    bench: &MemoryBench,
    firm: &Firm,
    requests: &[SendRequest],
    decisions: usize,
    limit: Duration,
) -> Throughput {
    let started = Instant::now();
    let mut outcomes = Vec::with_capacity(decisions);
    let mut offset = 0;
    while outcomes.len() < decisions && started.elapsed() < limit {
        let size = 1_000.min(decisions - outcomes.len());
        let batch: Vec<SendRequest> = (0..size)
            .map(|i| requests[(offset + i) % requests.len()].clone())
            .collect();
        offset += size;
        match bench.services.gate.send_batch(firm, &batch).await {
            Ok(results) => {
                outcomes.extend(results.into_iter().map(|r| r.map_err(|e| e.to_string())))
            }
            Err(e) => outcomes.extend((0..size).map(|_| Err(e.to_string()))),
        }
    }
    Throughput {
        mode: String::new(),
        decisions: outcomes.len(),
        elapsed: started.elapsed(),
        outcomes: tally(&outcomes),
    }
}

/// Runs of the batch mode on SQLite, on one database (the numbers' records keep one more send
/// each run); the median is reported, as single runs vary by a quarter.
const SQLITE_BATCH_RUNS: usize = 3;

/// The gate on the SQLite store, both durabilities: one run of `send` one at a time (each
/// decision waits for its own commits, so a sync per commit bounds `Full`) and
/// [`SQLITE_BATCH_RUNS`] of `send_batch`.
async fn on_sqlite(decisions: usize, numbers: usize, limit: Duration) -> Vec<Throughput> {
    let mut results = Vec::new();
    for (durability, name) in [(Durability::Full, "FULL"), (Durability::Normal, "NORMAL")] {
        match opted_in_sqlite_bench(numbers, durability).await {
            Ok((bench, firm, requests)) => {
                let mut run = sends(&bench, &firm, &requests, decisions, limit).await;
                run.mode = format!(
                    "in process on SQLite (synchronous={name}), `SendGate::send` one at a time ({numbers} numbers)"
                );
                results.push(run);
                let mut runs = Vec::with_capacity(SQLITE_BATCH_RUNS);
                for _ in 0..SQLITE_BATCH_RUNS {
                    runs.push(batches(&bench, &firm, &requests, decisions, limit).await);
                }
                let mut run = median_run(runs);
                run.mode = format!(
                    "in process on SQLite (synchronous={name}), `SendGate::send_batch` of 1,000 ({numbers} numbers){}",
                    run.mode
                );
                results.push(run);
            }
            Err(e) => results.push(Throughput {
                mode: format!("in process on SQLite (synchronous={name}): failed: {e}"),
                decisions: 0,
                elapsed: Duration::ZERO,
                outcomes: String::new(),
            }),
        }
    }
    results
}

/// Which stores the in-process gate is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateStores {
    /// The in-memory store (and the policy alone).
    pub memory: bool,
    /// The SQLite store, at both durabilities.
    pub sqlite: bool,
}

/// Gate throughput in process, on a single-threaded tokio runtime (one core): `send` one
/// message at a time, `send_batch` in batches of 1,000, and the policy alone. Each mode makes
/// at most `decisions` decisions over `numbers` opted-in numbers, and stops after 30 s; the
/// two in-memory sending modes run [`GATE_RUNS`] times each, on a fresh store each time.
pub fn in_process(decisions: usize, numbers: usize, stores: GateStores) -> Vec<Throughput> {
    let worker = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        runtime.block_on(async move {
            let limit = Duration::from_secs(30);
            let mut results = Vec::new();
            if stores.memory {
                results.extend(in_memory(decisions, numbers, limit).await);
            }
            if stores.sqlite {
                results.extend(on_sqlite(decisions.min(SQLITE_DECISIONS), numbers, limit).await);
            }
            results
        })
    });
    worker
        .join()
        .unwrap_or_else(|_| panic!("the throughput thread panicked"))
}

/// The in-memory modes: `send` and `send_batch` ([`GATE_RUNS`] runs each), the policy alone.
async fn in_memory(decisions: usize, numbers: usize, limit: Duration) -> Vec<Throughput> {
    let mut results = Vec::new();
    let mut runs = Vec::new();
    for _ in 0..GATE_RUNS {
        runs.push(send_one_at_a_time(decisions, numbers, limit).await);
    }
    results.push(median_run(runs));

    let mut runs = Vec::new();
    let mut last = None;
    for _ in 0..GATE_RUNS {
        let (run, bench, firm, requests) = send_in_batches(decisions, numbers, limit).await;
        runs.push(run);
        last = Some((bench, firm, requests));
    }
    results.push(median_run(runs));
    let Some((bench, firm, requests)) = last else {
        return results;
    };
    // The policy alone, on records in hand: no store, no audit events, no send.
    let records = bench
        .store
        .get_consents(
            &firm.firm_id,
            &requests
                .iter()
                .take(1_000)
                .map(|r| r.to.clone())
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap_or_default();
    let records: Vec<_> = records.into_values().collect();
    let now = bench.clock.now();
    let rounds = 1_000;
    let started = Instant::now();
    let mut allowed = 0usize;
    for _ in 0..rounds {
        for record in &records {
            let window = recipient_window(&firm, &record.phone, Some(record));
            let decision = gate::decide(GateQuestion {
                record: Some(record),
                double_opt_in: firm.double_opt_in,
                kind: MessageKind::FirmMessage,
                window: &window,
                now,
                category: MessageCategory::Transactional,
                limits: firm.limits,
            });
            if std::hint::black_box(decision) == gate::GateDecision::Allow {
                allowed += 1;
            }
        }
    }
    results.push(Throughput {
        mode: "in process, the policy alone (`recipient_window` + `gate::decide`, record in hand)"
            .to_string(),
        decisions: rounds * records.len(),
        elapsed: started.elapsed(),
        outcomes: format!("allow {allowed}"),
    });
    results
}

/// The local server at one store size.
#[derive(Debug, Clone)]
pub struct LocalRow {
    /// Opted-in numbers in the store before the measured calls.
    pub contacts: usize,
    /// The first start, importing the seeded `store.json`, to `/health`.
    pub first_start: Duration,
    /// [`LOCAL_CALLS`] contact-created calls from [`LOCAL_CLIENTS`] clients.
    pub created: Throughput,
    /// [`LOCAL_CALLS`] YES replies from the new contacts.
    pub yes: Throughput,
    /// One batch of [`LOCAL_CALLS`] gate sends to them.
    pub batch: Throughput,
    /// A restart (SIGKILL, start) to `/health`.
    pub restart: Duration,
    /// `consent.db` and its WAL at the end.
    pub database: u64,
}

/// Concurrent HTTP clients on the local server.
pub const LOCAL_CLIENTS: usize = 4;
/// Calls of each kind measured at each store size.
pub const LOCAL_CALLS: usize = 1_000;

/// A minimal HTTP/1.1 request on a fresh connection; the status and the body.
async fn http(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> std::io::Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_string()))
}

/// Starts `binary` on `dir` and waits for `/health`; the child and how long it took.
async fn start_local(
    binary: &Path,
    dir: &Path,
    addr: &str,
    log: &Path,
) -> Result<(tokio::process::Child, Duration), String> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .args(["--addr", addr, "--demo", "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    loop {
        if let Ok((200, _)) = http(addr, "GET", "/health", None).await {
            return Ok((child, started.elapsed()));
        }
        if started.elapsed() > Duration::from_secs(300) {
            let _ = child.start_kill();
            return Err("consent-local did not answer /health within 300 s".to_string());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `bodies` POSTed to `path` by [`LOCAL_CLIENTS`] clients at once; the time and any failure.
async fn post_all(
    addr: &str,
    path: &str,
    bodies: Vec<Value>,
    mode: &str,
) -> Result<Throughput, String> {
    let count = bodies.len();
    let mut shares: Vec<Vec<Value>> = vec![Vec::new(); LOCAL_CLIENTS];
    for (i, body) in bodies.into_iter().enumerate() {
        shares[i % LOCAL_CLIENTS].push(body);
    }
    let started = Instant::now();
    let mut clients = Vec::new();
    for share in shares {
        let addr = addr.to_string();
        let path = path.to_string();
        clients.push(tokio::spawn(async move {
            for body in share {
                let (status, answer) = http(&addr, "POST", &path, Some(&body))
                    .await
                    .map_err(|e| e.to_string())?;
                if !(200..300).contains(&status) {
                    return Err(format!("{path} answered {status}: {answer}"));
                }
            }
            Ok::<(), String>(())
        }));
    }
    for client in clients {
        client.await.map_err(|e| e.to_string())??;
    }
    Ok(Throughput {
        mode: mode.to_string(),
        decisions: count,
        elapsed: started.elapsed(),
        outcomes: format!("{count} answered 2xx"),
    })
}

/// The release `consent-local` on a data directory holding `contacts` opted-in numbers of the
/// demo firm (seeded in process and imported from `store.json` at the first start), then over
/// HTTP from [`LOCAL_CLIENTS`] clients: [`LOCAL_CALLS`] new contacts, their YES replies, one
/// batch sending to all of them, and a restart after SIGKILL.
pub async fn local_server(binary: &Path, work: &Path, contacts: usize) -> Result<LocalRow, String> {
    let dir = work.join("local-data");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let log = work.join("consent-local.log");

    // The seeded state, built in process and imported by the server at its first start.
    let memory = Arc::new(MemoryStore::new());
    let seeding = MemoryBench::on(memory.clone(), None);
    let firm = aws::register_firm(&seeding.services, "demo", "+12025550100").await;
    let seeded = aws::fresh_phones(contacts);
    aws::seed(
        &seeding.store,
        &firm,
        &seeded,
        Seed::OptedIn,
        None,
        afternoon(),
    )
    .await;
    let bytes = serde_json::to_vec(&memory.snapshot()).map_err(|e| e.to_string())?;
    drop(seeding);
    drop(memory);
    std::fs::write(dir.join("store.json"), &bytes).map_err(|e| e.to_string())?;
    drop(bytes);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())?;
    let addr = format!("127.0.0.1:{port}");
    let (child, first_start) = start_local(binary, &dir, &addr, &log).await?;
    let clock = json!({ "now": afternoon().to_rfc3339() });
    http(&addr, "POST", "/dev/clock", Some(&clock))
        .await
        .map_err(|e| e.to_string())?;

    let fresh = aws::fresh_phones(LOCAL_CALLS);
    let created = post_all(
        &addr,
        "/v1/firms/demo/contacts",
        fresh
            .iter()
            .enumerate()
            .map(|(i, p)| json!({ "contact_id": format!("load-{i}"), "phone": p.as_str() }))
            .collect(),
        "contact-created",
    )
    .await?;
    let yes = post_all(
        &addr,
        "/dev/inbound-sms",
        fresh
            .iter()
            .map(|p| {
                json!({ "originationNumber": p.as_str(), "destinationNumber": "+12025550100",
                        "messageBody": "YES", "inboundMessageId": format!("load-yes-{p}") })
            })
            .collect(),
        "YES",
    )
    .await?;
    let messages: Vec<Value> = fresh
        .iter()
        .map(|p| json!({ "to": p.as_str(), "body": BODY, "category": "transactional" }))
        .collect();
    let started = Instant::now();
    let (status, body) = http(
        &addr,
        "POST",
        "/v1/firms/demo/messages/batch",
        Some(&json!({ "messages": messages })),
    )
    .await
    .map_err(|e| e.to_string())?;
    let elapsed = started.elapsed();
    if status != 200 {
        return Err(format!("batch answered {status}: {body}"));
    }
    let results: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let decisions: Vec<&str> = results["results"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| r["decision"].as_str().unwrap_or("error"))
                .collect()
        })
        .unwrap_or_default();
    let sent = decisions.iter().filter(|d| **d == "sent").count();
    let batch = Throughput {
        mode: format!("batch of {}", decisions.len()),
        decisions: decisions.len(),
        elapsed,
        outcomes: format!("sent {sent}, other {}", decisions.len() - sent),
    };

    let mut child = child;
    let _ = child.start_kill();
    let _ = child.wait().await;
    let (mut child, restart) = start_local(binary, &dir, &addr, &log).await?;
    let _ = child.start_kill();
    let _ = child.wait().await;
    let database = ["consent.db", "consent.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(LocalRow {
        contacts,
        first_start,
        created,
        yes,
        batch,
        restart,
        database,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(millis: u64) -> Throughput {
        Throughput {
            mode: "m".to_string(),
            decisions: 1_000,
            elapsed: Duration::from_millis(millis),
            outcomes: String::new(),
        }
    }

    #[test]
    fn the_median_run_is_reported_with_the_spread() {
        let median = median_run(vec![run(40), run(10), run(20), run(50), run(30)]);
        assert_eq!(median.elapsed, Duration::from_millis(30));
        assert_eq!(median.mode, "m, median of 5 runs (20000–100000/s)");
    }
}
