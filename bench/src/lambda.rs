//! Runs a function's release binary as Lambda would: a fresh process with the Lambda
//! environment, pointed at our Runtime API; measures the time from exec to its first poll
//! (init) and to its first answer (init plus the first invocation), and its peak RSS.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::runtime_api::{Answer, Arrival, RuntimeApi};

/// How long a function may take to start or to answer before the run is given up.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A binary and its environment.
#[derive(Debug, Clone)]
pub struct Function {
    /// Its name (the Lambda function name too).
    pub name: String,
    /// The release binary.
    pub binary: PathBuf,
    /// Its environment beyond the Runtime API's own variables.
    pub env: Vec<(String, String)>,
    /// Where its stdout and stderr go.
    pub log: PathBuf,
}

/// What one process did.
#[derive(Debug, Clone)]
pub struct Run {
    /// Exec to the first `/next` poll.
    pub init: Duration,
    /// Exec to the first answer.
    pub first_answer: Duration,
    /// Every invocation's time from queueing the event to the answer, first one included.
    pub invocations: Vec<Duration>,
    /// Peak resident set (VmHWM) after the last answer, in KiB.
    pub peak_rss_kib: Option<u64>,
    /// Answers that were not what the check wanted (count, first message).
    pub failures: (usize, Option<String>),
}

/// Judges an answer: `Err(why)` when it is not the expected one.
pub type Check<'a> = &'a mut dyn FnMut(usize, &Arrival) -> Result<(), String>;
/// Makes the `i`th event.
pub type EventSource<'a> = &'a mut dyn FnMut(usize) -> Vec<u8>;

/// Starts `function`, sends it `invocations` events one after another, and stops it.
pub async fn run(
    function: &Function,
    invocations: usize,
    events: EventSource<'_>,
    check: Check<'_>,
) -> Result<Run, String> {
    let mut api = RuntimeApi::start(&function.name)
        .await
        .map_err(|e| format!("runtime API: {e}"))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&function.log)
        .map_err(|e| format!("{}: {e}", function.log.display()))?;
    let log_err = log.try_clone().map_err(|e| e.to_string())?;
    let mut command = Command::new(&function.binary);
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.addr())
        .env("AWS_LAMBDA_FUNCTION_NAME", &function.name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", function.name),
        )
        .env(
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/11/29/[$LATEST]00000000000000000000000000000000",
        )
        .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("AWS_EXECUTION_ENV", "AWS_Lambda_rapid")
        .env("LAMBDA_TASK_ROOT", "/var/task")
        .env("TZ", ":UTC")
        .env("LANG", "en_US.UTF-8")
        .envs(function.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .kill_on_drop(true);
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("{}: {e}", function.binary.display()))?;
    let result = drive(&mut api, &mut child, started, invocations, events, check).await;
    let _ = child.start_kill();
    let _ = child.wait().await;
    result.map_err(|e| format!("{}: {e}; log: {}", function.name, tail(&function.log)))
}

async fn drive(
    api: &mut RuntimeApi,
    child: &mut Child,
    started: Instant,
    invocations: usize,
    events: EventSource<'_>,
    check: Check<'_>,
) -> Result<Run, String> {
    let first_poll = tokio::select! {
        poll = api.next_poll(TIMEOUT) => poll.ok_or("no /next poll within 30 s")?,
        status = child.wait() => return Err(format!("exited before its first poll ({status:?})")),
    };
    let init = first_poll - started;
    let mut first_answer = Duration::ZERO;
    let mut times = Vec::with_capacity(invocations);
    let mut failures = (0usize, None);
    for i in 0..invocations {
        let body = events(i);
        let queued = Instant::now();
        let request_id = api.invoke(body);
        let arrival = tokio::select! {
            arrival = api.next_arrival(TIMEOUT) => arrival.ok_or("no answer within 30 s")?,
            status = child.wait() => return Err(format!("exited during invocation {i} ({status:?})")),
        };
        if arrival.answer == Answer::InitError {
            return Err(format!(
                "init error: {}",
                String::from_utf8_lossy(&arrival.body)
            ));
        }
        if i == 0 {
            first_answer = arrival.at - started;
        }
        times.push(arrival.at - queued);
        let verdict = if arrival.request_id != request_id {
            Err(format!(
                "answered {} instead of {request_id}",
                arrival.request_id
            ))
        } else if arrival.answer == Answer::Error {
            Err(format!(
                "invocation error: {}",
                String::from_utf8_lossy(&arrival.body)
            ))
        } else {
            check(i, &arrival)
        };
        if let Err(why) = verdict {
            failures.0 += 1;
            failures.1.get_or_insert(why);
        }
    }
    // Idle again: the function polls for the next event. Its peak RSS is read before it is
    // killed.
    let _ = api.next_poll(Duration::from_secs(5)).await;
    let peak_rss_kib = child.id().and_then(vm_hwm_kib);
    Ok(Run {
        init,
        first_answer,
        invocations: times,
        peak_rss_kib,
        failures,
    })
}

/// `VmHWM` (peak resident set) of a live process, in KiB.
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

/// The last lines of a log file, for an error message.
pub fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}
