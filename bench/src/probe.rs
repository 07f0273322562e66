//! Where a function's init time goes: the bench binary re-runs itself as a fresh process
//! (`consent-bench --probe-init`) with a function's environment, times each step a function's
//! `main.rs` takes before `lambda_http::run`, and prints the times; the parent takes the
//! median of many such processes.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The steps, in the order `main.rs` takes them.
pub const STEPS: &[(&str, &str)] = &[
    (
        "runtime",
        "tokio current-thread runtime (`#[tokio::main(flavor = \"current_thread\")]`)",
    ),
    (
        "tracing",
        "`consent_aws::logging::init_lambda_logging()` (JSON, level list)",
    ),
    ("config", "`AwsConfig::from_env()` (parse, keys inline)"),
    (
        "sdk_config",
        "`load_sdk_config` (credentials and region from the environment)",
    ),
    (
        "clients",
        "DynamoDB + SNS + SES clients, first time (loads the trusted roots)",
    ),
    (
        "clients_again",
        "the same three clients again (certificates cached)",
    ),
    (
        "keys",
        "token key ring (`token_keyring`: a Secrets Manager GetSecretValue when so configured)",
    ),
];

/// Runs in the child: times the steps and prints one `PROBE {json}` line. Never returns.
pub fn run_probe() -> ! {
    let started = Instant::now();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            println!("PROBE {}", json!({ "error": e.to_string() }));
            std::process::exit(1);
        }
    };
    let mut times: BTreeMap<&str, f64> = BTreeMap::new();
    times.insert("runtime", started.elapsed().as_secs_f64());
    let result: Result<(), String> = runtime.block_on(async {
        let step = Instant::now();
        consent_aws::logging::init_lambda_logging();
        times.insert("tracing", step.elapsed().as_secs_f64());
        let step = Instant::now();
        let config = consent_aws::AwsConfig::from_env().map_err(|e| e.to_string())?;
        times.insert("config", step.elapsed().as_secs_f64());
        let step = Instant::now();
        let sdk = if std::env::var_os("BENCH_PROBE_DEFAULT_CHAINS").is_some() {
            // The way before: the full default chains (profile, web identity, ECS, IMDS
            // providers built), for comparison.
            aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
        } else {
            consent_aws::load_sdk_config().await
        };
        times.insert("sdk_config", step.elapsed().as_secs_f64());
        let step = Instant::now();
        let clients = consent_aws::AwsClients::new(&sdk);
        times.insert("clients", step.elapsed().as_secs_f64());
        let step = Instant::now();
        let again = consent_aws::AwsClients::new(&sdk);
        times.insert("clients_again", step.elapsed().as_secs_f64());
        let step = Instant::now();
        config
            .token_keyring(&sdk)
            .await
            .map_err(|e| e.to_string())?;
        times.insert("keys", step.elapsed().as_secs_f64());
        drop((clients, again));
        Ok(())
    });
    match result {
        Ok(()) => {
            println!("PROBE {}", json!(times));
            std::process::exit(0);
        }
        Err(e) => {
            println!("PROBE {}", json!({ "error": e }));
            std::process::exit(1);
        }
    }
}

/// Medians of each step over `runs` fresh processes with `env`.
pub fn measure(
    bench_binary: &Path,
    env: &[(String, String)],
    runs: usize,
) -> Result<BTreeMap<String, Duration>, String> {
    let mut samples: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    for _ in 0..runs {
        let output = std::process::Command::new(bench_binary)
            .arg("--probe-init")
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .output()
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&output.stdout);
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("PROBE "))
            .ok_or_else(|| format!("no probe output: {text}"))?;
        let value: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
        if let Some(error) = value.get("error") {
            return Err(format!("probe failed: {error}"));
        }
        for (step, seconds) in value.as_object().into_iter().flatten() {
            samples
                .entry(step.clone())
                .or_default()
                .push(Duration::from_secs_f64(seconds.as_f64().unwrap_or(0.0)));
        }
    }
    Ok(samples
        .into_iter()
        .map(|(step, s)| (step, crate::stats::summarize(&s).p50))
        .collect())
}
