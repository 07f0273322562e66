//! `consent-bench`: runs the measurements of issue 9 on release builds and prints a Markdown
//! report (and splices it into docs/performance.md with `--doc`). `scripts/bench` builds the
//! binaries and calls it. Every request goes to 127.0.0.1; every loop is bounded.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use clap::Parser;
use consent_bench::report::Report;
use consent_bench::{coldstart, latency, requests, size, throughput};
use consent_tests::emulator::Moto;

/// The local server's allocator, so that the gate measured in process on SQLite allocates as it
/// does there (docs/performance.md, "Throughput through the local server").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Measures cold start, memory, size, throughput, latency and AWS request counts.
#[derive(Debug, Parser)]
#[command(about)]
struct Args {
    /// The directory of the release binaries (the functions, consent-local, hello-lambda).
    #[arg(long)]
    bin_dir: PathBuf,
    /// The cargo target directory (for the arm64 zips of `cargo lambda`); default: bin-dir's parent.
    #[arg(long)]
    target_dir: Option<PathBuf>,
    /// Cold starts per function.
    #[arg(long, default_value_t = 20)]
    starts: usize,
    /// Invocations after the cold start in the memory run.
    #[arg(long, default_value_t = 1_000)]
    invocations: usize,
    /// Gate decisions per in-process mode.
    #[arg(long, default_value_t = 100_000)]
    decisions: usize,
    /// Opted-in numbers for the in-process gate.
    #[arg(long, default_value_t = 20_000)]
    numbers: usize,
    /// Opted-in numbers in the local server's store, one measurement each.
    #[arg(long, value_delimiter = ',', default_values_t = [1_000, 20_000, 100_000])]
    local_numbers: Vec<usize>,
    /// Timed calls per handler on the in-memory store.
    #[arg(long, default_value_t = 1_000)]
    memory_iterations: usize,
    /// Timed calls per handler on moto.
    #[arg(long, default_value_t = 200)]
    emulator_iterations: usize,
    /// Messages in the counted batch.
    #[arg(long, default_value_t = 1_000)]
    batch: usize,
    /// Stores the in-process gate is measured on (comma-separated): memory, sqlite.
    #[arg(long, default_value = "memory,sqlite")]
    gate_stores: String,
    /// Sections to run (comma-separated): lambda, size, gate, local, latency, requests.
    #[arg(long, default_value = "lambda,size,gate,local,latency,requests")]
    sections: String,
    /// Also write the report into this Markdown file, between
    /// `<!-- bench:results:start -->` and `<!-- bench:results:end -->`.
    #[arg(long)]
    doc: Option<PathBuf>,
    /// Scratch space (logs of the functions, zips, the local server's data).
    #[arg(long, default_value = "/tmp/consent-bench")]
    work_dir: PathBuf,
}

const START: &str = "<!-- bench:results:start -->";
const END: &str = "<!-- bench:results:end -->";

fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "?".to_string())
}

fn proc_field(file: &str, key: &str) -> String {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "?".to_string())
}

fn machine() -> Vec<(String, String)> {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let dirty = if command_output("git", &["status", "--porcelain"]).is_empty() {
        ""
    } else {
        " (with uncommitted changes)"
    };
    vec![
        (
            "date (UTC)".into(),
            chrono::Utc::now().format("%Y-%m-%d %H:%M").to_string(),
        ),
        ("nproc".into(), cores.to_string()),
        ("CPU".into(), proc_field("/proc/cpuinfo", "model name")),
        ("memory".into(), proc_field("/proc/meminfo", "MemTotal")),
        ("load average at start (1, 5, 15 min)".into(), load),
        ("kernel".into(), command_output("uname", &["-r"])),
        ("rustc".into(), command_output("rustc", &["--version"])),
        (
            "moto".into(),
            command_output(
                ".venv/bin/python",
                &["-c", "import moto; print(moto.__version__)"],
            ),
        ),
        (
            "commit".into(),
            format!(
                "{}{dirty}",
                command_output("git", &["rev-parse", "--short", "HEAD"])
            ),
        ),
    ]
}

/// The command line as `scripts/bench` takes it: the options the script adds itself
/// (`--bin-dir`, `--doc`) left out with their values.
fn shown_command(args: impl Iterator<Item = String>) -> String {
    let mut shown = String::from("scripts/bench");
    let mut skip_value = false;
    for arg in args {
        if std::mem::take(&mut skip_value) {
            continue;
        }
        match arg.as_str() {
            "--bin-dir" | "--doc" => skip_value = true,
            a if a.starts_with("--bin-dir=") || a.starts_with("--doc=") => {}
            a => {
                shown.push(' ');
                shown.push_str(a);
            }
        }
    }
    shown
}

fn splice(doc: &Path, results: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(doc).map_err(|e| format!("{}: {e}", doc.display()))?;
    let (Some(start), Some(end)) = (text.find(START), text.find(END)) else {
        return Err(format!(
            "{} has no {START} ... {END} markers",
            doc.display()
        ));
    };
    if end < start {
        return Err(format!(
            "{}: the markers are in the wrong order",
            doc.display()
        ));
    }
    let spliced = format!(
        "{}{START}\n\n{}\n{}",
        &text[..start],
        results.trim_end(),
        &text[end..]
    );
    std::fs::write(doc, spliced).map_err(|e| format!("{}: {e}", doc.display()))
}

/// Writes what is measured so far into the doc (a later crash then loses one section, not the
/// run); the final write replaces it.
fn save(args: &Args, report: &Report) {
    if let Some(doc) = &args.doc {
        let mut partial = report.markdown();
        partial.push_str("\n(partial: the run was still measuring when this was written)\n");
        if let Err(e) = splice(doc, &partial) {
            eprintln!("consent-bench: {e}");
        }
    }
}

fn main() -> std::process::ExitCode {
    // A child of the init breakdown: time a function's init steps in a fresh process.
    if std::env::args().nth(1).as_deref() == Some("--probe-init") {
        consent_bench::probe::run_probe();
    }
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run(Args::parse())),
        Err(e) => {
            eprintln!("consent-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> std::process::ExitCode {
    let started = Instant::now();
    let sections: Vec<&str> = args.sections.split(',').map(str::trim).collect();
    let want = |s: &str| sections.contains(&s);
    let _ = std::fs::create_dir_all(&args.work_dir);
    let target_dir = args
        .target_dir
        .clone()
        .or_else(|| args.bin_dir.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let command = shown_command(std::env::args().skip(1));
    let mut report = Report {
        command,
        machine: machine(),
        ..Report::default()
    };

    if want("size") {
        eprintln!("== size");
        let mut names: Vec<&str> = coldstart::FUNCTIONS.to_vec();
        names.push("consent-local");
        report.sizes = Some(size::measure(
            &args.bin_dir,
            &target_dir,
            &args.work_dir,
            &names,
        ));
        save(&args, &report);
    }
    if want("gate") {
        eprintln!("== gate throughput in process");
        let stores: Vec<&str> = args.gate_stores.split(',').map(str::trim).collect();
        let stores = throughput::GateStores {
            memory: stores.contains(&"memory"),
            sqlite: stores.contains(&"sqlite"),
        };
        report.gate = Some(throughput::in_process(args.decisions, args.numbers, stores));
        save(&args, &report);
    }
    if want("local") {
        let mut rows = Vec::new();
        for &contacts in &args.local_numbers {
            eprintln!("== local server under load, {contacts} contacts in the store");
            let row = throughput::local_server(
                &args.bin_dir.join("consent-local"),
                &args.work_dir,
                contacts,
            )
            .await;
            rows.push((contacts, row));
            report.local = Some(rows.clone());
            save(&args, &report);
        }
    }
    // A fresh moto for each section: moto keeps a deep copy of a table per transaction, and one
    // server through every section grew past this machine's 24 GiB and was killed.
    if want("lambda") {
        eprintln!("== cold start and memory");
        let moto = Moto::start().await;
        let logs = args.work_dir.join("logs");
        let _ = std::fs::remove_dir_all(&logs);
        let _ = std::fs::create_dir_all(&logs);
        report.lambda = Some(
            coldstart::measure(&moto, &args.bin_dir, &logs, args.starts, args.invocations).await,
        );
        save(&args, &report);
    }
    if want("latency") {
        eprintln!("== warm handler latency");
        let moto = Moto::start().await;
        let mut results = Vec::new();
        let memory = throughput::MemoryBench::new();
        let firm =
            consent_bench::aws::register_firm(&memory.services, "bench", "+12025550142").await;
        results.extend(
            latency::measure(
                &latency::Target {
                    services: &memory.services,
                    store: &memory.store,
                    clock: &memory.clock,
                    firm: &firm,
                    backend: "memory",
                },
                args.memory_iterations,
                20,
            )
            .await,
        );
        let clock = std::sync::Arc::new(consent::adapters::memory::SettableClock::frozen(
            consent_tests::afternoon(),
        ));
        let aws = consent_bench::aws::AwsBench::new(
            &moto,
            "bench-latency",
            clock,
            consent_tests::test_keys(),
        )
        .await;
        let firm = consent_bench::aws::register_firm(&aws.services, "bench", "+12025550142").await;
        results.extend(
            latency::measure(
                &latency::Target {
                    services: &aws.services,
                    store: &aws.store,
                    clock: &aws.clock,
                    firm: &firm,
                    backend: "moto",
                },
                args.emulator_iterations,
                5,
            )
            .await,
        );
        report.latency = Some(results);
        save(&args, &report);
    }
    if want("requests") {
        eprintln!("== AWS requests per flow");
        let moto = Moto::start().await;
        report.requests = Some(requests::measure(&moto, args.batch).await);
    }
    report.took = started.elapsed();
    let markdown = report.markdown();
    println!("{markdown}");
    if let Some(doc) = &args.doc {
        if let Err(e) = splice(doc, &markdown) {
            eprintln!("consent-bench: {e}");
            return std::process::ExitCode::FAILURE;
        }
        eprintln!("results written into {}", doc.display());
    }
    std::process::ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::shown_command;

    #[test]
    fn the_command_shown_leaves_out_the_options_the_script_adds_with_their_values() {
        let args = [
            "--bin-dir",
            "/root/.cache/consent-target/release",
            "--doc",
            "docs/performance.md",
            "--sections",
            "gate",
            "--doc=other.md",
        ];
        assert_eq!(
            shown_command(args.iter().map(|a| a.to_string())),
            "scripts/bench --sections gate"
        );
    }
}
