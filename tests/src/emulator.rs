//! The AWS emulator for tests: a moto server of the test's own on a free loopback port,
//! killed when dropped. If it cannot start, the test panics with what to do: tests that need
//! the emulator are never skipped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use consent_aws::{DynamoStore, ensure_table};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{SeenEmail, SeenSms, Sent};

/// How long moto may take to answer before the test gives up.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A moto server of this test's own.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    addr: String,
    log: PathBuf,
}

impl Moto {
    /// Starts `$MOTO_SERVER` (or the repository's `.venv/bin/moto_server`) and waits until it
    /// answers.
    pub async fn start() -> Self {
        let program = std::env::var_os("MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server")
            });
        // A port taken between our probe and moto's bind makes moto exit: try another.
        let mut last_failure = String::new();
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .expect("no free loopback port for moto");
            let log = std::env::temp_dir().join(format!("consent-moto-{port}.log"));
            let log_file = std::fs::File::create(&log).expect("cannot create the moto log file");
            let log_err = log_file
                .try_clone()
                .expect("cannot clone the moto log file");
            let child = Command::new(&program)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(log_file)
                .stderr(log_err)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot start moto server at {}: {e}. Run scripts/test (it creates .venv), \
                         or set MOTO_SERVER",
                        program.display()
                    )
                });
            let mut moto = Moto {
                child,
                addr: format!("127.0.0.1:{port}"),
                log,
            };
            match moto.wait_ready().await {
                Ok(()) => return moto,
                Err(failure) => last_failure = failure,
            }
        }
        panic!("moto server did not start: {last_failure}");
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "it exited with {status}; see {}",
                    self.log.display()
                ));
            }
            if let Ok((200, _)) = http_get(&self.addr, "/moto-api/").await {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!(
            "no answer within {READY_TIMEOUT:?}; see {}",
            self.log.display()
        ))
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The SDK config for this server, independent of the process's environment.
    pub fn sdk(&self) -> SdkConfig {
        SdkConfig::builder()
            .endpoint_url(self.endpoint())
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "test", "test", None, None, "moto",
            )))
            .behavior_version(BehaviorVersion::latest())
            .build()
    }

    /// What moto recorded (`GET /moto-api/data.json`).
    pub async fn data(&self) -> serde_json::Value {
        let (status, body) = http_get(&self.addr, "/moto-api/data.json")
            .await
            .expect("moto data.json");
        assert_eq!(status, 200, "data.json answered {status}: {body}");
        serde_json::from_str(&body).expect("data.json is JSON")
    }

    /// A DynamoDB store on a new table of this server.
    pub async fn store(&self, table: &str) -> DynamoStore {
        let client = aws_sdk_dynamodb::Client::new(&self.sdk());
        ensure_table(&client, table)
            .await
            .expect("the table can be created");
        DynamoStore::new(client, table)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A minimal HTTP/1.0 GET (the server closes the connection after the answer).
pub async fn http_get(addr: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_string()))
}

/// The numbers moto's SNS lists as opted out (`ListPhoneNumbersOptedOut`) when it starts: a
/// fixed list (moto/sns/models.py, `opt_out_numbers`), one page with no `nextToken`, with no
/// API to add to it; `OptInPhoneNumber` removes a number and never refuses one. AWS lists the
/// account's opted-out numbers in pages of up to 100, and refuses a second opt-in of one number
/// within 30 days (tested on the in-memory outbox, which models it:
/// shared/consent/tests/carrier_reconciliation.rs). moto's `CheckIfPhoneNumberIsOptedOut`
/// answers from another rule (numbers ending in 99), so these numbers pass the check before an
/// opt-in request, as a number opted out after its contact was created would. Only the first
/// two are numbers a carrier assigns; the rest are Ofcom's drama ranges, which the service reads
/// as no phone number (the reconciliation counts them `unreadable`).
pub const MOTO_OPTED_OUT: [&str; 8] = [
    "+447420500600",
    "+447420505401",
    "+447632960543",
    "+447632960028",
    "+447700900149",
    "+447700900550",
    "+447700900545",
    "+447700900907",
];

#[async_trait]
impl Sent for Moto {
    /// moto reports numbers ending in 99 as opted out when asked about one, and lists its fixed
    /// [`MOTO_OPTED_OUT`] from the start; it can be told nothing else.
    fn opt_out_at_carrier(&self, phone: &str) {
        assert!(
            phone.ends_with("99") || MOTO_OPTED_OUT.contains(&phone),
            "moto only reports numbers ending in 99 or in its fixed list as opted out; {phone} \
             is neither"
        );
    }

    async fn sms(&self) -> Vec<SeenSms> {
        let data = self.data().await;
        data["sns"]["SMS"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| SeenSms {
                to: s["phone_number"].as_str().unwrap_or_default().to_string(),
                body: s["message"].as_str().unwrap_or_default().to_string(),
            })
            .collect()
    }

    async fn emails(&self) -> Vec<SeenEmail> {
        let data = self.data().await;
        data["ses"]["Message"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|m| {
                let subject = m["subject"].as_str().unwrap_or_default().to_string();
                let body = m["body"].as_str().unwrap_or_default().to_string();
                m["destinations"]["ToAddresses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(move |to| SeenEmail {
                        to: to.as_str().unwrap_or_default().to_string(),
                        subject: subject.clone(),
                        body: body.clone(),
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

/// The address the emulated service mails from (SES refuses it until it is an identity).
pub const SCENARIO_FROM: &str = "consent@hartwell.example";

/// A service under test on the AWS adapters against a moto server of its own (table
/// `consent-scenario-<index>`), for suites outside `tests/tests/emulator.rs`; keep the server
/// alive as long as the service.
pub async fn scenario_service(index: u16) -> (crate::TestService, std::sync::Arc<Moto>) {
    use std::sync::Arc;

    let moto = Arc::new(Moto::start().await);
    let sdk = moto.sdk();
    let store = moto.store(&format!("consent-scenario-{index}")).await;
    let ses = aws_sdk_sesv2::Client::new(&sdk);
    if let Err(e) = consent_aws::ensure_sender_identity(&ses, SCENARIO_FROM).await {
        panic!("creating the SES identity: {e}");
    }
    let clock = Arc::new(consent::adapters::memory::SettableClock::frozen(
        crate::afternoon(),
    ));
    let service = crate::TestService::new(
        Arc::new(store),
        Arc::new(consent_aws::SnsSmsSender::new(aws_sdk_sns::Client::new(
            &sdk,
        ))),
        Arc::new(consent_aws::SesMailer::new(
            ses,
            SCENARIO_FROM.to_string(),
            None,
        )),
        moto.clone(),
        clock,
        index,
    );
    (service, moto)
}
