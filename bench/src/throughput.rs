//! Gate decisions per second: in process on the embedded (in-memory) store on one thread, and
//! through the local server's batch endpoint, whose embedded store persists its whole state to
//! disk on every write.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use consent::adapters::memory::{MemoryOutbox, MemoryStore, SettableClock, StoreState};
use consent::flows::send::{SendOutcome, SendRequest, recipient_window};
use consent::flows::{ServiceConfig, Services};
use consent::model::firm::Firm;
use consent::model::gate::{self, GateQuestion, MessageCategory, MessageKind};
use consent::ports::{Clock, Store};
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

/// The flows on the in-memory store and outbox, frozen on a weekday afternoon.
pub struct MemoryBench {
    /// The flows.
    pub services: Services,
    /// The store.
    pub store: Arc<dyn Store>,
    /// The clock.
    pub clock: Arc<SettableClock>,
    /// The outbox.
    pub outbox: Arc<MemoryOutbox>,
}

impl MemoryBench {
    /// A fresh one.
    pub fn new() -> Self {
        let clock = Arc::new(SettableClock::frozen(afternoon()));
        let outbox = Arc::new(MemoryOutbox::new(clock.clone() as Arc<dyn Clock>));
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
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

/// A firm and `numbers` opted-in numbers on a fresh in-memory bench.
async fn opted_in_bench(numbers: usize) -> (MemoryBench, Firm, Vec<SendRequest>) {
    let bench = MemoryBench::new();
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
    let requests = phones.iter().map(message).collect();
    (bench, firm, requests)
}

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

/// `SendGate::send` one message at a time, over a fresh bench.
async fn send_one_at_a_time(decisions: usize, numbers: usize, limit: Duration) -> Throughput {
    let (bench, firm, requests) = opted_in_bench(numbers).await;
    let started = Instant::now();
    let mut outcomes = Vec::with_capacity(decisions);
    for i in 0..decisions {
        let outcome = bench
            .services
            .gate
            .send(&firm, &requests[i % requests.len()])
            .await;
        outcomes.push(outcome.map_err(|e| e.to_string()));
        if started.elapsed() > limit {
            break;
        }
    }
    Throughput {
        mode: format!("in process, `SendGate::send` one at a time ({numbers} numbers)"),
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
    let started = Instant::now();
    let mut outcomes = Vec::with_capacity(decisions);
    let mut offset = 0;
    while outcomes.len() < decisions && started.elapsed() < limit {
        let size = 1_000.min(decisions - outcomes.len());
        let batch: Vec<SendRequest> = (0..size)
            .map(|i| requests[(offset + i) % requests.len()].clone())
            .collect();
        offset += size;
        match bench.services.gate.send_batch(&firm, &batch).await {
            Ok(results) => {
                outcomes.extend(results.into_iter().map(|r| r.map_err(|e| e.to_string())))
            }
            Err(e) => outcomes.extend((0..size).map(|_| Err(e.to_string()))),
        }
    }
    let run = Throughput {
        mode: format!("in process, `SendGate::send_batch` of 1,000 ({numbers} numbers)"),
        decisions: outcomes.len(),
        elapsed: started.elapsed(),
        outcomes: tally(&outcomes),
    };
    (run, bench, firm, requests)
}

/// Gate throughput in process, on a single-threaded tokio runtime (one core): `send` one
/// message at a time, `send_batch` in batches of 1,000, and the policy alone. Each mode makes
/// at most `decisions` decisions over `numbers` opted-in numbers, and stops after 30 s; the
/// two sending modes run [`GATE_RUNS`] times each, on a fresh store each time.
pub fn in_process(decisions: usize, numbers: usize) -> Vec<Throughput> {
    let worker = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        runtime.block_on(async move {
            let limit = Duration::from_secs(30);
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
                    &requests.iter().take(1_000).map(|r| r.to.clone()).collect::<Vec<_>>(),
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
                mode: "in process, the policy alone (`recipient_window` + `gate::decide`, record in hand)".to_string(),
                decisions: rounds * records.len(),
                elapsed: started.elapsed(),
                outcomes: format!("allow {allowed}"),
            });
            results
        })
    });
    worker
        .join()
        .unwrap_or_else(|_| panic!("the throughput thread panicked"))
}

/// The local server's batch endpoint.
#[derive(Debug, Clone)]
pub struct LocalServer {
    /// Batches measured.
    pub runs: Vec<Throughput>,
    /// Opted-in numbers in the store.
    pub numbers: usize,
    /// `store.json` before the batches.
    pub state_before: u64,
    /// `store.json` after them.
    pub state_after: u64,
    /// One persist of the starting state (serialize, write, fsync, rename).
    pub persist: Duration,
    /// Store writes per sent message (claim, then the provider's id).
    pub writes_per_message: usize,
}

/// One persist of `state` the way the local server does it.
fn persist_once(state: &StoreState, dir: &Path) -> Duration {
    let started = Instant::now();
    let bytes = serde_json::to_vec(state).unwrap_or_default();
    let temp = dir.join("persist-probe.json.tmp");
    if let Ok(mut file) = std::fs::File::create(&temp) {
        let _ = file.write_all(&bytes);
        let _ = file.sync_all();
    }
    let _ = std::fs::rename(&temp, dir.join("persist-probe.json"));
    started.elapsed()
}

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

/// Starts the release `consent-local` on a data directory seeded with `numbers` opted-in
/// numbers of the demo firm, and times batches through `POST /v1/firms/demo/messages/batch`.
/// The batch size is cut so that the run stays under about a minute.
pub async fn local_server(
    binary: &Path,
    work: &Path,
    numbers: usize,
) -> Result<LocalServer, String> {
    let dir = work.join("local-data");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;

    // The state, built in process (seeding through the server would persist every write).
    let memory = Arc::new(MemoryStore::new());
    let bench = MemoryBench::new();
    let services = Services::new(
        memory.clone(),
        bench.outbox.clone(),
        bench.outbox.clone(),
        bench.clock.clone(),
        Some(test_keys()),
        ServiceConfig::default(),
    );
    let firm = aws::register_firm(&services, "demo", "+12025550100").await;
    let phones = aws::fresh_phones(numbers);
    let store: Arc<dyn Store> = memory.clone();
    aws::seed(&store, &firm, &phones, Seed::OptedIn, None, afternoon()).await;
    let state = memory.snapshot();
    let bytes = serde_json::to_vec(&state).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("store.json"), &bytes).map_err(|e| e.to_string())?;
    let state_before = bytes.len() as u64;
    let persist = (0..5)
        .map(|_| persist_once(&state, work))
        .min()
        .unwrap_or_default();
    let writes_per_message = 2;

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())?;
    let addr = format!("127.0.0.1:{port}");
    let log = std::fs::File::create(work.join("consent-local.log")).map_err(|e| e.to_string())?;
    let mut child = tokio::process::Command::new(binary)
        .args(["--addr", &addr, "--demo", "--data-dir"])
        .arg(&dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    let ready = Instant::now();
    loop {
        if let Ok((200, _)) = http(&addr, "GET", "/health", None).await {
            break;
        }
        if ready.elapsed() > Duration::from_secs(20) {
            let _ = child.start_kill();
            return Err("consent-local did not answer /health within 20 s".to_string());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let clock = json!({ "now": afternoon().to_rfc3339() });
    http(&addr, "POST", "/dev/clock", Some(&clock))
        .await
        .map_err(|e| e.to_string())?;

    let mut runs = Vec::new();
    let mut next = 0usize;
    // Two persists per message; keep the big batch near a minute.
    let budget = Duration::from_secs(60);
    let affordable = (budget.as_secs_f64()
        / (writes_per_message as f64 * persist.as_secs_f64().max(1e-6)))
        as usize;
    for wanted in [100usize, 1_000] {
        let size = wanted
            .min(affordable.max(10))
            .min(phones.len() - next.min(phones.len()));
        if size == 0 {
            break;
        }
        let messages: Vec<Value> = phones[next..next + size]
            .iter()
            .map(|p| json!({ "to": p.as_str(), "body": BODY, "category": "transactional" }))
            .collect();
        next += size;
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
            let _ = child.start_kill();
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
        runs.push(Throughput {
            mode: format!("local server, batch of {size}"),
            decisions: decisions.len(),
            elapsed,
            outcomes: format!("sent {sent}, other {}", decisions.len() - sent),
        });
    }
    let _ = child.start_kill();
    let _ = child.wait().await;
    let state_after = std::fs::metadata(dir.join("store.json"))
        .map(|m| m.len())
        .unwrap_or(0);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(LocalServer {
        runs,
        numbers,
        state_before,
        state_after,
        persist,
        writes_per_message,
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
