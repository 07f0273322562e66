//! The Markdown report: one table per measurement, then the goals.

use std::fmt::Write;

use crate::coldstart::{self, Keys};
use crate::latency::Latency;
use crate::requests::FlowCount;
use crate::size::Size;
use crate::stats::{bytes, ms, ratio, short, thousands};
use crate::throughput::{LOCAL_CALLS, LOCAL_CLIENTS, LocalRow, Throughput};

/// Everything measured (a section not run is `None`).
#[derive(Debug, Default)]
pub struct Report {
    /// The command line.
    pub command: String,
    /// Machine, toolchain and commit.
    pub machine: Vec<(String, String)>,
    /// Cold starts and long runs.
    pub lambda: Option<coldstart::Results>,
    /// Release binary and zip sizes per function.
    pub sizes: Option<Vec<Size>>,
    /// In-process gate throughput.
    pub gate: Option<Vec<Throughput>>,
    /// The local server's batch endpoint.
    pub local: Option<Vec<(usize, Result<LocalRow, String>)>>,
    /// Warm handler latency.
    pub latency: Option<Vec<Latency>>,
    /// Requests per flow.
    pub requests: Option<Vec<FlowCount>>,
    /// How long the whole run took.
    pub took: std::time::Duration,
}

const MIB_32_KIB: u64 = 32 * 1024;

fn yes(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}

fn failures(f: &(usize, Option<String>)) -> String {
    match f {
        (0, _) => "0".to_string(),
        (n, Some(why)) => format!(
            "{n}: {}",
            why.replace('|', "/").chars().take(160).collect::<String>()
        ),
        (n, None) => n.to_string(),
    }
}

impl Report {
    /// The Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Produced by `{}` in {:.0} s.\n",
            self.command,
            self.took.as_secs_f64()
        );
        let _ = writeln!(out, "| machine | |\n|---|---|");
        for (k, v) in &self.machine {
            let _ = writeln!(out, "| {k} | {v} |");
        }
        out.push('\n');
        if let Some(lambda) = &self.lambda {
            cold_table(&mut out, lambda);
            probe_table(&mut out, lambda);
            memory_table(&mut out, lambda);
        }
        if let Some(sizes) = &self.sizes {
            sizes_table(&mut out, sizes);
        }
        if let Some(gate) = &self.gate {
            gate_table(&mut out, gate);
        }
        if let Some(local) = &self.local {
            local_table(&mut out, local);
        }
        if let Some(latency) = &self.latency {
            latency_table(&mut out, latency);
        }
        if let Some(requests) = &self.requests {
            requests_table(&mut out, requests);
            cost_table(&mut out, requests, self.latency.as_deref().unwrap_or(&[]));
        }
        self.goals(&mut out);
        out
    }

    fn goals(&self, out: &mut String) {
        let _ = writeln!(out, "### Goals\n\n| goal | measured | |\n|---|---|---|");
        if let Some(lambda) = &self.lambda {
            let hello = hello_init(lambda);
            // Issue 9 asked for 1.5x whatever the keys; issue 20 for 2x with the keys inline.
            for (keys, goal) in [
                (Keys::Secret, 1.5),
                (Keys::Inline, 1.5),
                (Keys::Inline, 2.0),
            ] {
                let worst = lambda
                    .cold
                    .iter()
                    .filter(|c| c.function != "hello-lambda" && c.keys == keys)
                    .max_by_key(|c| c.init.p50);
                if let Some(worst) = worst {
                    let r = worst.init.p50.as_secs_f64() / hello.as_secs_f64().max(1e-9);
                    let _ = writeln!(
                        out,
                        "| init within {goal}x of hello-world ({}) | worst: {} at {:.2}x ({} ms vs {} ms, p50) | {} |",
                        keys.label(),
                        worst.function,
                        r,
                        ms(worst.init.p50),
                        ms(hello),
                        yes(r <= goal)
                    );
                }
            }
            let worst = lambda
                .memory
                .iter()
                .filter_map(|m| m.peak_rss_kib.map(|k| (k, &m.function)))
                .max();
            if let Some((kib, name)) = worst {
                let _ = writeln!(
                    out,
                    "| peak RSS under 32 MB | worst: {name} at {:.1} MB | {} |",
                    kib as f64 / 1024.0,
                    yes(kib < MIB_32_KIB)
                );
            }
        }
        if let Some(gate) = &self.gate {
            for t in gate.iter().filter(|t| t.mode.contains("SendGate")) {
                let sqlite = t.mode.contains("SQLite");
                let (goal, target) = if sqlite {
                    (
                        "gate on the SQLite store at 20,000 decisions/s or more",
                        20_000.0,
                    )
                } else {
                    (
                        "in-memory gate above 100,000 decisions/s on one core",
                        100_000.0,
                    )
                };
                // On SQLite each decision of one at a time waits for its own two commits (a sync
                // each at FULL): that row shows a decision's latency, the batch the throughput.
                let verdict = if sqlite && !t.mode.contains("send_batch") {
                    "not judged (two commits per decision, waited for one at a time)"
                } else {
                    yes(t.per_second() >= target)
                };
                let _ = writeln!(
                    out,
                    "| {goal} | {}: {}/s | {verdict} |",
                    t.mode,
                    thousands(t.per_second()),
                );
            }
        }
        for (_, row) in self.local.iter().flatten() {
            let Ok(row) = row else { continue };
            if row.contacts != 20_000 {
                continue;
            }
            for (goal, measured, met) in [
                (
                    "local server, 20,000 contacts: contact-created >= 300/s",
                    format!("{}/s", thousands(row.created.per_second())),
                    row.created.per_second() >= 300.0,
                ),
                (
                    "... YES >= 300/s",
                    format!("{}/s", thousands(row.yes.per_second())),
                    row.yes.per_second() >= 300.0,
                ),
                (
                    "... a batch of 1,000 >= 2,000 decisions/s",
                    format!("{}/s", thousands(row.batch.per_second())),
                    row.batch.per_second() >= 2_000.0,
                ),
                (
                    "... restart to /health <= 2 s",
                    short(row.restart),
                    row.restart.as_secs_f64() <= 2.0,
                ),
            ] {
                let _ = writeln!(out, "| {goal} | {measured} | {} |", yes(met));
            }
        }
        if let Some(requests) = &self.requests {
            if let Some(batch) = requests.iter().find(|f| f.flow.starts_with("gate batch")) {
                let gets = batch.tally.op("BatchGetItem");
                let _ = writeln!(
                    out,
                    "| a batch of 1,000 in at most 10 BatchGetItem | {gets} BatchGetItem | {} |",
                    yes(gets <= 10)
                );
                let writes = batch.tally.write_requests();
                let _ = writeln!(
                    out,
                    "| ... and the minimum writes | {writes} write requests ({} WRU est.); minimum {} | {} |",
                    batch.tally.write_units,
                    batch.minimum.writes,
                    yes(writes <= batch.minimum.writes)
                );
            }
            let avoidable: Vec<String> = requests
                .iter()
                .filter(|f| {
                    f.tally.read_items > f.minimum.reads
                        || f.tally.write_requests() > f.minimum.writes
                })
                .map(|f| {
                    format!(
                        "{}: {} item reads ({} needed), {} writes ({} needed)",
                        f.flow,
                        f.tally.read_items,
                        f.minimum.reads,
                        f.tally.write_requests(),
                        f.minimum.writes
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "| no flow making a DynamoDB call it could avoid | {} | {} |",
                if avoidable.is_empty() {
                    "every flow at its minimum".to_string()
                } else {
                    avoidable.join("; ")
                },
                yes(avoidable.is_empty())
            );
        }
        out.push('\n');
    }
}

fn hello_init(lambda: &coldstart::Results) -> std::time::Duration {
    lambda
        .cold
        .iter()
        .find(|c| c.function == "hello-lambda")
        .map(|c| c.init.p50)
        .unwrap_or_default()
}

fn cold_table(out: &mut String, lambda: &coldstart::Results) {
    let starts = lambda.cold.first().map_or(0, |c| c.init.count);
    let _ = writeln!(
        out,
        "### Cold start\n\n{starts} starts of each binary, interleaved round by round with \
         hello-lambda (after one unmeasured start of each). init = exec to the first \
         `GET /runtime/invocation/next`; first response = exec to the first \
         `POST /runtime/invocation/{{id}}/response`, the first invocation being a real request \
         against moto on loopback (plain HTTP: no TLS handshake, unlike AWS). Keys: 'inline' \
         passes `TOKEN_KEYS` (and firm-admin's `PROOF_KEY`) in the environment; 'Secrets \
         Manager' passes `TOKEN_KEYS_SECRET_ARN` (and `PROOF_KEY_SECRET_ARN`), read at cold \
         start, as infra/template.yaml deploys them.\n"
    );
    let _ = writeln!(
        out,
        "| function | keys | init p50 (ms) | init p90 (ms) | init p50 / hello | first response p50 (ms) | first response p90 (ms) | failures |\n|---|---|---:|---:|---:|---:|---:|---|"
    );
    let hello = hello_init(lambda);
    for c in &lambda.cold {
        let keys = if c.function == "hello-lambda" {
            "-"
        } else {
            c.keys.label()
        };
        let _ = writeln!(
            out,
            "| {} | {keys} | {} | {} | {} | {} | {} | {} |",
            c.function,
            ms(c.init.p50),
            ms(c.init.p90),
            ratio(c.init.p50, hello),
            ms(c.first_response.p50),
            ms(c.first_response.p90),
            failures(&c.failures)
        );
    }
    out.push('\n');
}

fn probe_table(out: &mut String, lambda: &coldstart::Results) {
    if lambda.probe.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "### Where init time goes\n\nThe steps of a function's `main.rs` before \
         `lambda_http::run`, timed inside fresh processes (the bench binary re-run with \
         `--probe-init` and contact-created's environment), median of {} processes each; the \
         process start itself (exec, dynamic loading) is not included.\n",
        lambda.cold.first().map_or(0, |c| c.init.count)
    );
    let mut header = "| step |".to_string();
    let mut rule = "|---|".to_string();
    for (keys, _) in &lambda.probe {
        let _ = write!(header, " {} (ms) |", keys.label());
        rule.push_str("---:|");
    }
    let _ = writeln!(out, "{header}\n{rule}");
    for (step, label) in crate::probe::STEPS {
        let mut row = format!("| {label} |");
        for (_, result) in &lambda.probe {
            match result {
                Ok(times) => {
                    let _ = write!(
                        row,
                        " {} |",
                        times.get(*step).map_or("-".to_string(), |d| ms(*d))
                    );
                }
                Err(e) => {
                    let _ = write!(
                        row,
                        " {} |",
                        e.replace('|', "/").chars().take(80).collect::<String>()
                    );
                }
            }
        }
        let _ = writeln!(out, "{row}");
    }
    out.push('\n');
}

fn memory_table(out: &mut String, lambda: &coldstart::Results) {
    let n = lambda.memory.first().map_or(0, |m| m.invocations);
    let _ = writeln!(
        out,
        "### Memory and warm invocations through the Runtime API\n\nOne process per function \
         (keys from Secrets Manager, as deployed): a cold start, then {n} invocations one \
         after another; peak RSS is `VmHWM` from `/proc/PID/status` before the process is \
         killed. Warm times are queue-to-answer through the Runtime API, against moto. Contacts \
         carry the time zone {} (daytime now), so their sends are not deferred.\n",
        lambda.zone
    );
    let _ = writeln!(
        out,
        "| function | peak RSS | < 32 MB | warm p50 (ms) | warm p99 (ms) | invocations | wrong answers |\n|---|---:|---|---:|---:|---|---|"
    );
    for m in &lambda.memory {
        let rss = m
            .peak_rss_kib
            .map_or("-".to_string(), |k| format!("{:.1} MB", k as f64 / 1024.0));
        let ok = m.peak_rss_kib.map(|k| yes(k < MIB_32_KIB)).unwrap_or("-");
        let _ = writeln!(
            out,
            "| {} | {rss} | {ok} | {} | {} | {} | {} |",
            m.function,
            ms(m.warm.p50),
            ms(m.warm.p99),
            m.note,
            failures(&m.failures)
        );
    }
    out.push('\n');
}

fn sizes_table(out: &mut String, sizes: &[Size]) {
    let _ = writeln!(
        out,
        "### Size\n\nx86_64 release binaries of this run (`[profile.release]`: lto, codegen-units 1, \
         strip); stripped again with `strip --strip-all` (no change when the profile stripped), \
         zipped as `bootstrap` with the `zip` CLI (`zip -9`). The arm64 column is \
         `cargo lambda build --release --arm64 --output-format zip` (scripts/build-lambdas), when \
         its artifacts exist.\n"
    );
    let _ = writeln!(
        out,
        "| binary | release | stripped | bootstrap.zip | arm64 bootstrap.zip |\n|---|---:|---:|---:|---:|"
    );
    for s in sizes {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            s.name,
            bytes(s.binary),
            s.stripped.map_or("-".to_string(), bytes),
            s.zipped.map_or("- (no zip CLI)".to_string(), bytes),
            s.arm64_zip.map_or("-".to_string(), bytes)
        );
    }
    out.push('\n');
}

fn gate_table(out: &mut String, gate: &[Throughput]) {
    let _ = writeln!(
        out,
        "### Gate throughput in process\n\nA single-threaded tokio runtime (one core), the \
         in-memory store and outbox (the SQLite rows: a temporary database at the named \
         `synchronous` setting, seeded through the import; its batch row the median of three runs \
         on it), a frozen weekday-afternoon clock, \
         opted-in numbers (area code 415); each decision is the whole gate (read, policy, claim \
         write with its audit event, hand-over to the outbox, 'sent' write).\n"
    );
    let _ = writeln!(
        out,
        "| mode | decisions | time | decisions/s | per decision | outcomes |\n|---|---:|---:|---:|---:|---|"
    );
    for t in gate {
        let per = t.elapsed / u32::try_from(t.decisions.max(1)).unwrap_or(u32::MAX);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            t.mode,
            thousands(t.decisions as f64),
            short(t.elapsed),
            thousands(t.per_second()),
            short(per),
            t.outcomes
        );
    }
    out.push('\n');
}

fn local_table(out: &mut String, rows: &[(usize, Result<LocalRow, String>)]) {
    let _ = writeln!(
        out,
        "### Local server under load\n\nThe release `consent-local --demo` (embedded SQLite \
         database, `--sync full`) on a temporary data directory already holding the given number \
         of opted-in contacts (seeded in process and imported from a `store.json` at the first \
         start, whose time is shown), clock set to a weekday afternoon. Then over loopback, \
         {LOCAL_CLIENTS} clients at once, one connection per request: {LOCAL_CALLS} new \
         contacts (`POST /v1/firms/demo/contacts`), their {LOCAL_CALLS} YES replies \
         (`POST /dev/inbound-sms`), one `POST /v1/firms/demo/messages/batch` of {LOCAL_CALLS} \
         sends to them (one client), and a restart after SIGKILL timed to `/health`.\n"
    );
    let _ = writeln!(
        out,
        "| contacts in the store | first start (import) | contact-created/s | YES/s | batch: decisions/s | restart to /health | consent.db + WAL |\n|---:|---:|---:|---:|---:|---:|---:|"
    );
    for (contacts, row) in rows {
        match row {
            Ok(row) => {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} ({}) | {} | {} |",
                    thousands(row.contacts as f64),
                    short(row.first_start),
                    thousands(row.created.per_second()),
                    thousands(row.yes.per_second()),
                    thousands(row.batch.per_second()),
                    row.batch.outcomes,
                    short(row.restart),
                    bytes(row.database)
                );
            }
            Err(e) => {
                let _ = writeln!(
                    out,
                    "| {} | failed: {e} | | | | | |",
                    thousands(*contacts as f64)
                );
            }
        }
    }
    out.push('\n');
}

fn latency_table(out: &mut String, latency: &[Latency]) {
    let _ = writeln!(
        out,
        "### Warm handler latency in process\n\nEach handler called in process (HTTP routers \
         with `tower::ServiceExt::oneshot`, the SNS and scheduled handlers directly), after \
         warm-up calls, one call at a time, each on a fresh number (new contact, pending number \
         for YES and the email link, opted-in number for a send, one due deferred send per \
         release). 'moto' is the AWS SDK adapters against moto on loopback: moto (Python) \
         dominates those numbers.\n"
    );
    let backends: Vec<String> = {
        let mut b: Vec<String> = latency.iter().map(|l| l.backend.clone()).collect();
        b.dedup();
        b
    };
    let mut header = "| handler |".to_string();
    let mut rule = "|---|".to_string();
    for b in &backends {
        let _ = write!(header, " {b} p50 | {b} p99 | {b} calls |");
        rule.push_str("---:|---:|---:|");
    }
    header.push_str(" wrong answers |");
    rule.push_str("---|");
    let _ = writeln!(out, "{header}\n{rule}");
    for handler in crate::latency::HANDLERS {
        let mut row = format!("| {handler} |");
        let mut wrong = Vec::new();
        for b in &backends {
            match latency
                .iter()
                .find(|l| l.handler == *handler && &l.backend == b)
            {
                Some(l) => {
                    let _ = write!(
                        row,
                        " {} | {} | {} |",
                        short(l.summary.p50),
                        short(l.summary.p99),
                        l.summary.count
                    );
                    if l.failures.0 > 0 {
                        wrong.push(format!("{b}: {}", failures(&l.failures)));
                    }
                }
                None => row.push_str(" - | - | - |"),
            }
        }
        let _ = writeln!(
            out,
            "{row} {} |",
            if wrong.is_empty() {
                "0".to_string()
            } else {
                wrong.join("; ")
            }
        );
    }
    out.push('\n');
}

fn requests_table(out: &mut String, requests: &[FlowCount]) {
    let _ = writeln!(
        out,
        "### AWS requests per flow\n\nCounted by an `Intercept` implementation registered on the \
         DynamoDB, SNS and SES v2 client configs (`read_before_transmit` and \
         `read_after_attempt`, so a retry counts), each flow run once on the AWS adapters against \
         moto. Item reads: one per GetItem and Query, one per key of a BatchGetItem. Request \
         units are estimated from the request and response bodies (strongly consistent reads: 1 \
         RRU per 4 KB item, at least 1; writes: 1 WRU per KB, 2 in a transaction). The minimum \
         is what the flow needs; the reasoning is below the table.\n"
    );
    let _ = writeln!(
        out,
        "| flow | DynamoDB requests | item reads (min) | writes (min) | SNS (min) | SES (min) | RRU / WRU (est.) | result |\n|---|---|---:|---:|---|---|---:|---|"
    );
    for f in requests {
        let t = &f.tally;
        let over = |actual: u64, min: u64| {
            if actual > min {
                format!("**{actual}** ({min})")
            } else {
                format!("{actual} ({min})")
            }
        };
        let _ = writeln!(
            out,
            "| {} | {}: {} | {} | {} | {} ({}): {} | {} ({}) | {} / {} | {} |",
            f.flow,
            t.service("DynamoDB"),
            t.breakdown("DynamoDB"),
            over(t.read_items, f.minimum.reads),
            over(t.write_requests(), f.minimum.writes),
            t.service("SNS"),
            f.minimum.sns,
            t.breakdown("SNS"),
            t.service("SESv2"),
            f.minimum.ses,
            t.read_units,
            t.write_units,
            f.outcome.replace('|', "/")
        );
    }
    let _ = writeln!(out, "\nMinimum, flow by flow:\n");
    for f in requests {
        let _ = writeln!(out, "- **{}**: {}", f.flow, f.minimum.why);
    }
    out.push('\n');
}

/// Prices assumed by the cost model (us-east-1; see docs/performance.md for their date).
mod price {
    /// Lambda arm64, per GB-second.
    pub const LAMBDA_GB_SECOND: f64 = 0.000_013_333_4;
    /// Lambda, per request.
    pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
    /// API Gateway HTTP API, per request.
    pub const HTTP_API_REQUEST: f64 = 1.00 / 1e6;
    /// DynamoDB on-demand, per read request unit.
    pub const READ_UNIT: f64 = 0.125 / 1e6;
    /// DynamoDB on-demand, per write request unit.
    pub const WRITE_UNIT: f64 = 0.625 / 1e6;
    /// Assumed in-region latency of one DynamoDB read, seconds.
    pub const DYNAMODB_READ: f64 = 0.004;
    /// ... of one DynamoDB write (a transaction: 8 ms).
    pub const DYNAMODB_WRITE: f64 = 0.008;
    /// ... of one SNS call.
    pub const SNS_CALL: f64 = 0.020;
    /// ... of one SES call.
    pub const SES_CALL: f64 = 0.025;
}

/// What one run of a flow costs in AWS, from its measured requests and CPU time.
struct FlowCost {
    seconds: f64,
    memory_gb: f64,
    lambda: f64,
    api: f64,
    reads: f64,
    writes: f64,
}

impl FlowCost {
    fn total(&self) -> f64 {
        self.lambda + self.api + self.reads + self.writes
    }
}

fn flow_cost(flow: &FlowCount, latency: &[Latency]) -> FlowCost {
    let t = &flow.tally;
    let (handler, http, memory_gb) = if flow.flow.starts_with("contact-created") {
        ("contact-created", true, 0.25)
    } else if flow.flow.starts_with("inbound") {
        ("inbound-sms", false, 0.25)
    } else if flow.flow.starts_with("email") {
        ("email-confirm", true, 0.25)
    } else if flow.flow.starts_with("gate") {
        ("send-gate", true, 0.5)
    } else {
        ("deferred-release", false, 0.25)
    };
    let cpu = latency
        .iter()
        .find(|l| l.handler == handler && l.backend == "memory")
        .map_or(0.0, |l| l.summary.p50.as_secs_f64());
    let dynamodb_reads = t.op("GetItem") + t.op("BatchGetItem") + t.op("Query");
    let dynamodb_writes = t.write_requests();
    // A batch does a message's work per message, its numbers BATCH_CONCURRENCY at a time.
    let (messages, lanes) = if flow.flow.starts_with("gate batch") {
        (
            t.op("Publish").max(1) as f64,
            consent::flows::send::BATCH_CONCURRENCY as f64,
        )
    } else {
        (1.0, 1.0)
    };
    let waiting = dynamodb_reads as f64 * price::DYNAMODB_READ
        + dynamodb_writes as f64 * price::DYNAMODB_WRITE
        + t.service("SNS") as f64 * price::SNS_CALL
        + t.service("SESv2") as f64 * price::SES_CALL;
    let seconds = cpu * messages + waiting / lanes;
    let billed = (seconds * 1000.0).ceil() / 1000.0;
    FlowCost {
        seconds: billed,
        memory_gb,
        lambda: billed * memory_gb * price::LAMBDA_GB_SECOND + price::LAMBDA_REQUEST,
        api: if http { price::HTTP_API_REQUEST } else { 0.0 },
        reads: t.read_units as f64 * price::READ_UNIT,
        writes: t.write_units as f64 * price::WRITE_UNIT,
    }
}

fn cost_table(out: &mut String, requests: &[FlowCount], latency: &[Latency]) {
    let _ = writeln!(
        out,
        "### Cost model (AWS side, per million)\n\nPer flow, from the requests counted above: \
         Lambda duration = the handler's CPU time (in-process p50 on the in-memory store) + \
         {} ms per DynamoDB read, {} ms per DynamoDB write, {} ms per SNS call, {} ms per SES call \
         (assumed in-region latencies), rounded up to the ms, at the template's memory size \
         (256 MB; send-gate 512 MB); a batch counts its CPU time per message and waits on {} \
         numbers at once (`BATCH_CONCURRENCY`); prices in the module `price` of bench/src/report.rs \
         and in docs/performance.md. SMS and email fees are not included here.\n",
        price::DYNAMODB_READ * 1000.0,
        price::DYNAMODB_WRITE * 1000.0,
        price::SNS_CALL * 1000.0,
        price::SES_CALL * 1000.0,
        consent::flows::send::BATCH_CONCURRENCY
    );
    let _ = writeln!(
        out,
        "| flow | billed duration | memory | Lambda $ | HTTP API $ | DynamoDB reads $ | DynamoDB writes $ | total $ per million |\n|---|---:|---:|---:|---:|---:|---:|---:|"
    );
    let mut costs = Vec::new();
    for flow in requests {
        let c = flow_cost(flow, latency);
        let _ = writeln!(
            out,
            "| {} | {:.0} ms | {:.0} MB | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            flow.flow,
            c.seconds * 1000.0,
            c.memory_gb * 1024.0,
            c.lambda * 1e6,
            c.api * 1e6,
            c.reads * 1e6,
            c.writes * 1e6,
            c.total() * 1e6
        );
        costs.push((flow.flow, c));
    }
    let find = |prefix: &str| {
        costs
            .iter()
            .find(|(f, _)| f.starts_with(prefix))
            .map_or(0.0, |(_, c)| c.total())
    };
    let by_sms = find("contact-created") + find("inbound YES");
    let by_email = find("contact-created") + find("email link page") + find("email confirm");
    let _ = writeln!(
        out,
        "\nPer million contacts onboarded (AWS side): **${:.2}** when each confirms by replying \
         YES (contact-created + inbound YES), **${:.2}** when each confirms through the email \
         link (contact-created + the page + the button).\n",
        by_sms * 1e6,
        by_email * 1e6
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::Tally;
    use crate::requests::Minimum;

    fn counted(flow: &'static str, calls: &[(&str, u64)]) -> FlowCount {
        FlowCount {
            flow,
            tally: Tally {
                calls: calls.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
                ..Tally::default()
            },
            minimum: Minimum {
                reads: 0,
                writes: 0,
                sns: 0,
                ses: 0,
                why: "",
            },
            outcome: String::new(),
        }
    }

    #[test]
    fn the_sqlite_goal_is_judged_on_the_batch_and_one_at_a_time_is_shown_unjudged() {
        let row = |mode: &str, millis: u64| Throughput {
            mode: mode.to_string(),
            decisions: 1_000,
            elapsed: std::time::Duration::from_millis(millis),
            outcomes: String::new(),
        };
        let report = Report {
            command: String::new(),
            machine: Vec::new(),
            lambda: None,
            sizes: None,
            gate: Some(vec![
                row("in process on SQLite, `SendGate::send` one at a time", 500),
                row("in process on SQLite, `SendGate::send_batch` of 1,000", 40),
                row(
                    "in process on SQLite (NORMAL), `SendGate::send_batch` of 1,000",
                    60,
                ),
            ]),
            local: None,
            latency: None,
            requests: None,
            took: std::time::Duration::ZERO,
        };
        let mut goals = String::new();
        report.goals(&mut goals);
        let judged: Vec<&str> = goals
            .lines()
            .filter(|l| l.contains("SQLite"))
            .map(|l| l.rsplit('|').nth(1).unwrap_or("").trim())
            .collect();
        assert_eq!(
            judged,
            [
                "not judged (two commits per decision, waited for one at a time)",
                "met",
                "**missed**"
            ],
            "{goals}"
        );
    }

    #[test]
    fn a_batch_waits_on_its_lanes_at_once_and_a_single_flow_in_sequence() {
        let calls = [
            ("DynamoDB.BatchGetItem", 10),
            ("DynamoDB.GetItem", 1),
            ("DynamoDB.TransactWriteItems", 2000),
            ("SNS.Publish", 1000),
        ];
        let sequential =
            11.0 * price::DYNAMODB_READ + 2000.0 * price::DYNAMODB_WRITE + 1000.0 * price::SNS_CALL;
        let batch = flow_cost(&counted("gate batch of 1,000", &calls), &[]);
        let lanes = consent::flows::send::BATCH_CONCURRENCY as f64;
        assert!(
            (batch.seconds - sequential / lanes).abs() < 0.001,
            "{}",
            batch.seconds
        );
        let single = flow_cost(&counted("gate send, one message", &calls), &[]);
        assert!(
            (single.seconds - sequential).abs() < 0.001,
            "{}",
            single.seconds
        );
    }
}
