//! Cold starts and peak memory of the release binaries, each a fresh process on our Runtime
//! API with its first invocation a real request against moto; hello-lambda in the same rounds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use chrono::Utc;
use consent::adapters::memory::SettableClock;
use consent::evidence::token::TokenKeyring;
use consent::flows::send::{SendOutcome, SendRequest};
use consent::model::firm::Firm;
use consent::model::gate::{MessageCategory, MessageKind};
use consent::model::phone::PhoneNumber;
use consent_tests::emulator::Moto;
use serde_json::{Value, json};

use crate::aws::{self, AwsBench, Seed};
use crate::events;
use crate::lambda::{self, Function, Run};
use crate::stats::{self, Summary};

/// The functions measured, in report order; `hello-lambda` is the baseline.
pub const FUNCTIONS: &[&str] = &[
    "hello-lambda",
    "contact-created",
    "inbound-sms",
    "email-confirm",
    "send-gate",
    "firm-admin",
    "deferred-release",
    "carrier-reconciliation",
    "consent-events",
];

/// How the function gets its token keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// `TOKEN_KEYS` inline.
    Inline,
    /// `TOKEN_KEYS_SECRET_ARN`, as the SAM template deploys it (a Secrets Manager read at start).
    Secret,
    /// Inline, with the SDK config loaded by `aws_config::load_defaults` (the full default
    /// credential and region chains, as before `load_sdk_config` took them from the
    /// environment); init probe only.
    InlineDefaultChains,
}

impl Keys {
    /// The label in the report.
    pub fn label(self) -> &'static str {
        match self {
            Self::Inline => "inline (TOKEN_KEYS)",
            Self::Secret => "Secrets Manager (as deployed)",
            Self::InlineDefaultChains => "inline, `aws_config::load_defaults` (before)",
        }
    }
}

/// One function's cold starts under one key source.
#[derive(Debug, Clone)]
pub struct ColdStarts {
    /// The function.
    pub function: String,
    /// The key source.
    pub keys: Keys,
    /// Exec to first `/next`.
    pub init: Summary,
    /// Exec to first response.
    pub first_response: Summary,
    /// Failed starts or wrong answers (count, first reason).
    pub failures: (usize, Option<String>),
}

/// One function's long run: cold start plus many invocations.
#[derive(Debug, Clone)]
pub struct MemoryRun {
    /// The function.
    pub function: String,
    /// Invocations after the cold one.
    pub invocations: usize,
    /// Peak RSS, KiB.
    pub peak_rss_kib: Option<u64>,
    /// Warm invocations through the Runtime API against moto.
    pub warm: Summary,
    /// Wrong answers (count, first reason).
    pub failures: (usize, Option<String>),
    /// What the invocations did.
    pub note: String,
}

/// Median time per init step (or why the probe failed).
pub type StepTimes = Result<BTreeMap<String, Duration>, String>;

/// The results of this section.
#[derive(Debug, Clone, Default)]
pub struct Results {
    /// Cold starts per function and key source.
    pub cold: Vec<ColdStarts>,
    /// Long runs per function.
    pub memory: Vec<MemoryRun>,
    /// The time zone the seeded contacts were given, so their sends fall in daytime.
    pub zone: String,
    /// Init step medians of fresh processes, per key source.
    pub probe: Vec<(Keys, StepTimes)>,
}

const TABLE: &str = "bench-lambda";
const FIRM: &str = "bench";
const FIRM_NUMBER: &str = "+12025550142";

/// Everything the Lambda runs share.
struct Setup {
    bench: AwsBench,
    firm: Firm,
    firm_number: PhoneNumber,
    keys: TokenKeyring,
    zone: String,
    env: Vec<(String, String)>,
    secret_arn: String,
    proof_secret_arn: String,
    bin_dir: PathBuf,
    log_dir: PathBuf,
    counter: u64,
}

/// The proof-signing key firm-admin gets: `kid:base64seed` (a 32-byte Ed25519 seed).
fn proof_key() -> String {
    format!(
        "proof1:{}",
        base64::engine::general_purpose::STANDARD.encode([7u8; 32])
    )
}

/// The time zone among a few whose local hour is nearest 13:00 now, so that sends to contacts
/// in it are inside their 8:00 to 21:00 window while the bench runs.
pub fn daytime_zone() -> String {
    const ZONES: &[&str] = &[
        "America/Los_Angeles",
        "America/Chicago",
        "America/New_York",
        "America/Sao_Paulo",
        "Europe/London",
        "Europe/Berlin",
        "Asia/Dubai",
        "Asia/Kolkata",
        "Asia/Singapore",
        "Asia/Tokyo",
        "Australia/Sydney",
        "Pacific/Auckland",
        "Pacific/Honolulu",
    ];
    use chrono::Timelike;
    let now = Utc::now();
    ZONES
        .iter()
        .min_by_key(|zone| {
            let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
            let hour = now.with_timezone(&tz).hour() as i32;
            (hour - 13).abs()
        })
        .map(|z| z.to_string())
        .unwrap_or_else(|| "UTC".to_string())
}

impl Setup {
    async fn new(moto: &Moto, bin_dir: &Path, log_dir: &Path) -> Self {
        let secret = base64::engine::general_purpose::STANDARD.encode([42u8; 32]);
        let spec = format!("bench1:{secret}");
        let keys = match TokenKeyring::from_secret_spec(&spec) {
            Ok(keys) => keys,
            Err(e) => panic!("bench key ring: {e}"),
        };
        let clock = Arc::new(SettableClock::new());
        let bench = AwsBench::new(moto, TABLE, clock, keys.clone()).await;
        let firm = aws::register_firm(&bench.services, FIRM, FIRM_NUMBER).await;
        let secret_arn = aws_sdk_secretsmanager::Client::new(&moto.sdk())
            .create_secret()
            .name("consent-bench/token-keys")
            .secret_string(json!({ "TOKEN_KEYS": spec }).to_string())
            .send()
            .await
            .ok()
            .and_then(|out| out.arn)
            .unwrap_or_else(|| panic!("creating the token key secret on moto"));
        let proof_secret_arn = aws_sdk_secretsmanager::Client::new(&moto.sdk())
            .create_secret()
            .name("consent-bench/proof-key")
            .secret_string(json!({ "PROOF_KEY": proof_key() }).to_string())
            .send()
            .await
            .ok()
            .and_then(|out| out.arn)
            .unwrap_or_else(|| panic!("creating the proof key secret on moto"));
        let mut env: Vec<(String, String)> = [
            ("AWS_REGION", "us-east-1".to_string()),
            ("AWS_DEFAULT_REGION", "us-east-1".to_string()),
            ("AWS_ACCESS_KEY_ID", "test".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
            ("AWS_SESSION_TOKEN", "test".to_string()),
            ("AWS_ENDPOINT_URL", moto.endpoint()),
            ("TABLE_NAME", TABLE.to_string()),
            ("CONFIRM_BASE_URL", aws::CONFIRM_BASE_URL.to_string()),
            ("SES_FROM_ADDRESS", aws::FROM_ADDRESS.to_string()),
            ("TOKEN_TTL_DAYS", "14".to_string()),
            (consent_aws::config::EVENT_BUS, "default".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        // As infra/template.yaml sets it.
        env.push((
            consent_aws::tls::TRUSTED_ROOTS.to_string(),
            "amazon".to_string(),
        ));
        // Variables a function needs beyond these (a new required one, say) are passed as
        // BENCH_FUNCTION_ENV_<NAME>=<value>.
        for (name, value) in std::env::vars() {
            if let Some(name) = name.strip_prefix("BENCH_FUNCTION_ENV_") {
                env.push((name.to_string(), value));
            }
        }
        Self {
            firm_number: firm.sms_number.clone(),
            bench,
            firm,
            keys,
            zone: daytime_zone(),
            env,
            secret_arn,
            proof_secret_arn,
            bin_dir: bin_dir.to_path_buf(),
            log_dir: log_dir.to_path_buf(),
            counter: 0,
        }
    }

    fn function(&self, name: &str, keys: Keys) -> Function {
        let mut env = self.env.clone();
        if name != "hello-lambda" {
            match keys {
                Keys::Inline | Keys::InlineDefaultChains => {
                    let spec = format!(
                        "bench1:{}",
                        base64::engine::general_purpose::STANDARD.encode([42u8; 32])
                    );
                    env.push(("TOKEN_KEYS".to_string(), spec));
                }
                Keys::Secret => {
                    env.push(("TOKEN_KEYS_SECRET_ARN".to_string(), self.secret_arn.clone()))
                }
            }
            // Only firm-admin signs proof documents, and only it is given the key (as the SAM
            // template does).
            if name == "firm-admin" {
                env.push(match keys {
                    Keys::Inline | Keys::InlineDefaultChains => {
                        ("PROOF_KEY".to_string(), proof_key())
                    }
                    Keys::Secret => (
                        "PROOF_KEY_SECRET_ARN".to_string(),
                        self.proof_secret_arn.clone(),
                    ),
                });
            }
        } else {
            env.retain(|(k, _)| k.starts_with("AWS_"));
        }
        Function {
            name: name.to_string(),
            binary: self.bin_dir.join(name),
            env,
            log: self.log_dir.join(format!("{name}.log")),
        }
    }

    fn next_id(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    async fn seeded(&self, n: usize, seed: Seed) -> Vec<PhoneNumber> {
        let phones = aws::fresh_phones(n);
        aws::seed(
            &self.bench.store,
            &self.firm,
            &phones,
            seed,
            Some(&self.zone),
            Utc::now(),
        )
        .await;
        phones
    }

    /// One firm message to an opted-in number, deferred by the gate at a night hour so that it
    /// is due now.
    async fn seed_deferred(&self) {
        let phone = self.seeded(1, Seed::OptedIn).await.remove(0);
        let clock = &self.bench.clock;
        clock.set(Some(Utc::now() - chrono::Duration::hours(12)));
        let outcome = self
            .bench
            .services
            .gate
            .send(
                &self.firm,
                &SendRequest {
                    to: phone,
                    kind: MessageKind::FirmMessage,
                    category: MessageCategory::Marketing,
                    body: "Your documents are ready for signature.".to_string(),
                    idempotency_key: None,
                },
            )
            .await;
        clock.set(None);
        match outcome {
            Ok(SendOutcome::Deferred { .. }) => {}
            other => panic!("seeding a deferred send: expected deferred, got {other:?}"),
        }
    }

    /// The events of a run of `n` invocations of `name` (seeding what they need), what each
    /// answer must be, and a note saying what they do.
    async fn plan(&mut self, name: &str, n: usize) -> (Vec<Vec<u8>>, Expect, String) {
        let zone = self.zone.clone();
        let mut events = Vec::with_capacity(n);
        let note;
        let expect;
        match name {
            "hello-lambda" => {
                for i in 0..n {
                    events.push(json!({ "hello": i }));
                }
                expect = Expect::Any;
                note = "echo".to_string();
            }
            "contact-created" => {
                for _ in 0..n {
                    let id = format!("lambda-{}", self.next_id());
                    let phone = aws::fresh_phone();
                    let body = events::contact_body(&id, &phone, Some(&zone));
                    events.push(events::http(
                        "POST",
                        &format!("/v1/firms/{FIRM}/contacts"),
                        Some(&body),
                        &id,
                    ));
                }
                expect = Expect::Status(201);
                note = "a new contact each (SMS + email opt-in request)".to_string();
            }
            "firm-admin" => {
                for i in 0..n {
                    events.push(events::http(
                        "GET",
                        &format!("/v1/firms/{FIRM}"),
                        None,
                        &format!("admin-{i}"),
                    ));
                }
                expect = Expect::Status(200);
                note = "GET the firm".to_string();
            }
            "send-gate" => {
                let pool = self.seeded(n.clamp(1, 200), Seed::OptedIn).await;
                for i in 0..n {
                    let body = events::message_body(&pool[i % pool.len()]);
                    events.push(events::http(
                        "POST",
                        &format!("/v1/firms/{FIRM}/messages"),
                        Some(&body),
                        &format!("gate-{i}"),
                    ));
                }
                expect = Expect::Status(202);
                note = format!("one message to an opted-in number ({} numbers)", pool.len());
            }
            "email-confirm" => {
                let pool = self.seeded(n.clamp(1, 200), Seed::Pending).await;
                for i in 0..n {
                    let token = events::token(&self.keys, FIRM, &pool[i % pool.len()], Utc::now());
                    events.push(events::http(
                        "POST",
                        &format!("/confirm/{token}"),
                        None,
                        &format!("confirm-{i}"),
                    ));
                }
                expect = Expect::Status(200);
                note = format!(
                    "POST the link of a pending number ({} numbers; repeats answer 'already confirmed')",
                    pool.len()
                );
            }
            "inbound-sms" => {
                let pool = self.seeded(n.clamp(1, 20), Seed::Pending).await;
                for i in 0..n {
                    let text = if (i / pool.len()) % 2 == 0 {
                        "YES"
                    } else {
                        "STOP"
                    };
                    let id = format!("lambda-in-{}", self.next_id());
                    events.push(events::sns(
                        &pool[i % pool.len()],
                        &self.firm_number,
                        text,
                        &id,
                    ));
                }
                expect = Expect::Any;
                note = format!(
                    "YES, then STOP, then YES ... from {} pending numbers",
                    pool.len()
                );
            }
            "deferred-release" => {
                self.seed_deferred().await;
                for _ in 0..n {
                    events.push(events::scheduled());
                }
                expect = Expect::ReleasedFirst;
                note = "one due deferred send for the first; empty queue after".to_string();
            }
            "carrier-reconciliation" => {
                for _ in 0..n {
                    events.push(events::scheduled());
                }
                expect = Expect::Any;
                note = "the daily reconciliation with the carrier's opt-out list".to_string();
            }
            "consent-events" => {
                // Init is what is measured; an empty batch publishes nothing.
                for _ in 0..n {
                    events.push(json!({ "Records": [] }));
                }
                expect = Expect::Any;
                note = "an empty batch of stream records".to_string();
            }
            other => panic!("unknown function {other}"),
        }
        let events = events
            .into_iter()
            .map(|e| serde_json::to_vec(&e).unwrap_or_default())
            .collect();
        (events, expect, note)
    }
}

/// What an answer must be.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Any,
    Status(u64),
    ReleasedFirst,
}

fn check(expect: Expect, i: usize, answer: &[u8]) -> Result<(), String> {
    match expect {
        Expect::Any => Ok(()),
        Expect::Status(want) => match events::status_of(answer) {
            Some(status) if status == want || (want == 201 && status == 200 && i > 0) => Ok(()),
            _ => Err(format!(
                "expected status {want}, got {}",
                String::from_utf8_lossy(answer)
                    .chars()
                    .take(300)
                    .collect::<String>()
            )),
        },
        Expect::ReleasedFirst => {
            let value: Value = serde_json::from_slice(answer).unwrap_or(Value::Null);
            if i > 0 || value["taken"].as_u64().unwrap_or(0) >= 1 {
                Ok(())
            } else {
                Err(format!(
                    "expected a released send, got {}",
                    String::from_utf8_lossy(answer)
                ))
            }
        }
    }
}

async fn run_planned(
    setup: &mut Setup,
    name: &str,
    keys: Keys,
    n: usize,
) -> (Result<Run, String>, String) {
    let (events, expect, note) = setup.plan(name, n).await;
    let function = setup.function(name, keys);
    let mut events = events.into_iter();
    let mut source = move |_: usize| events.next().unwrap_or_default();
    let mut judge =
        move |i: usize, arrival: &crate::runtime_api::Arrival| check(expect, i, &arrival.body);
    let run = lambda::run(&function, n, &mut source, &mut judge).await;
    (run, note)
}

/// The samples of one function and key source.
#[derive(Debug, Clone, Default)]
struct Samples {
    init: Vec<Duration>,
    first: Vec<Duration>,
    failures: (usize, Option<String>),
}

/// Runs `starts` cold starts of every function (interleaved round by round, so each sees the
/// same machine load as hello-lambda), then one long run of `invocations` per function.
pub async fn measure(
    moto: &Moto,
    bin_dir: &Path,
    log_dir: &Path,
    starts: usize,
    invocations: usize,
) -> Results {
    let mut setup = Setup::new(moto, bin_dir, log_dir).await;
    eprintln!(
        "cold starts: {starts} per function; contacts in {} (daytime now)",
        setup.zone
    );
    let variants: Vec<(&str, Keys)> = FUNCTIONS
        .iter()
        .flat_map(|&f| {
            if f == "hello-lambda" {
                vec![(f, Keys::Inline)]
            } else {
                vec![(f, Keys::Inline), (f, Keys::Secret)]
            }
        })
        .collect();
    let mut samples: Vec<Samples> = vec![Samples::default(); variants.len()];
    // One start of each first, unmeasured: page cache and moto warm.
    for &(name, keys) in &variants {
        let _ = run_planned(&mut setup, name, keys, 1).await;
    }
    for round in 0..starts {
        for (i, &(name, keys)) in variants.iter().enumerate() {
            let (run, _) = run_planned(&mut setup, name, keys, 1).await;
            let slot = &mut samples[i];
            match run {
                Ok(run) => {
                    slot.init.push(run.init);
                    slot.first.push(run.first_answer);
                    if run.failures.0 > 0 {
                        slot.failures.0 += run.failures.0;
                        slot.failures.1 = slot.failures.1.take().or(run.failures.1);
                    }
                }
                Err(e) => {
                    slot.failures.0 += 1;
                    slot.failures.1.get_or_insert(e);
                }
            }
        }
        eprintln!("  round {}/{starts}", round + 1);
    }
    let cold = variants
        .iter()
        .zip(samples)
        .map(|(&(name, keys), samples)| ColdStarts {
            function: name.to_string(),
            keys,
            init: stats::summarize(&samples.init),
            first_response: stats::summarize(&samples.first),
            failures: samples.failures,
        })
        .collect();

    let mut probe = Vec::new();
    if let Ok(bench) = std::env::current_exe() {
        for keys in [Keys::Inline, Keys::Secret, Keys::InlineDefaultChains] {
            eprintln!("init breakdown: {}", keys.label());
            let mut env = setup.function("contact-created", keys).env;
            if keys == Keys::InlineDefaultChains {
                env.push(("BENCH_PROBE_DEFAULT_CHAINS".to_string(), "1".to_string()));
            }
            probe.push((keys, crate::probe::measure(&bench, &env, starts.max(1))));
        }
    }

    let mut memory = Vec::new();
    for &name in FUNCTIONS {
        eprintln!("memory: {name}, a cold start and {invocations} invocations");
        // A fresh moto per function keeps each long run independent of the ones before it
        // (on stock moto, which copies a table per transaction, one server through all of
        // them stalled past the 30 s answer limit).
        let moto = Moto::start().await;
        let mut setup = Setup::new(&moto, bin_dir, log_dir).await;
        let (run, note) = run_planned(&mut setup, name, Keys::Secret, invocations + 1).await;
        memory.push(match run {
            Ok(run) => MemoryRun {
                function: name.to_string(),
                invocations,
                peak_rss_kib: run.peak_rss_kib,
                warm: stats::summarize(&run.invocations[1.min(run.invocations.len())..]),
                failures: run.failures,
                note,
            },
            Err(e) => MemoryRun {
                function: name.to_string(),
                invocations,
                peak_rss_kib: None,
                warm: Summary::default(),
                failures: (1, Some(e)),
                note,
            },
        });
    }
    Results {
        cold,
        memory,
        zone: setup.zone.clone(),
        probe,
    }
}
