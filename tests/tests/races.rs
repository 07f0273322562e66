//! Races: YES and STOP (and a firm message, every other round in a batch) at once, repeated YES, two contact-created calls for
//! one number, fired concurrently many times, on the in-memory and SQLite stores and on the AWS
//! adapters (the store on DynamoDB Local, SNS and SES on moto). After each round the invariants
//! must hold:
//! - one opt-in request per number, ever (SMS and email);
//! - exactly one opt-out confirmation per opt-out episode (an episode that a concurrent YES
//!   ended before its confirmation's turn may have none, recorded as blocked; the current
//!   one must have it), never two;
//! - no firm message allowed unless opted in: in particular none after an opt-out that no later
//!   opt-in followed (the audit events ordered by id and replayed);
//! - every status change has its event, with the right `from`, and every SMS that went out was
//!   allowed first (`consent_tests::invariants`);
//! - the store never accepts two writes conditioned on one version, never keeps a refused
//!   write and never loses an accepted one, and no request fails.
//!
//! On the embedded store the calls interleave at every store and provider call (random yields,
//! two worker threads). On DynamoDB Local they race over HTTP. moto is not used for the store
//! here because it does not serialise concurrent conditional writes to one item; DynamoDB Local
//! does, as DynamoDB does (`dynamodb_local_serialises_conditional_writes_to_one_item`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::{Method, StatusCode};
use consent::adapters::memory::SettableClock;
use consent::model::gate::MessageKind;
use consent::model::phone::PhoneNumber;
use consent::ports::{Clock, Mailer, SmsSender};
use consent_aws::{DynamoStore, SesMailer, SnsSmsSender, ensure_sender_identity};
use consent_tests::dynamodb_local::DynamoDbLocal;
use consent_tests::emulator::Moto;
use consent_tests::faults::{FaultyService, Recorder};
use consent_tests::invariants::{check_journal, check_sent_against_trail, check_trail};
use consent_tests::sqlite::TempDatabase;
use consent_tests::{afternoon, sns_event};
use serde_json::{Value, json};

const MEMORY_ROUNDS: u64 = 200;
/// Fewer on SQLite: each round opens a database and syncs every write to disk.
const SQLITE_ROUNDS: u64 = 30;
/// Fewer on DynamoDB Local: every store call is an HTTP request to a JVM.
const DYNAMODB_LOCAL_ROUNDS: u64 = 42;
const FROM: &str = "consent@hartwell.example";

/// Where a round starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    Pending,
    OptedIn,
    OptedOut,
}

/// The contact's number.
const N: u16 = 1;

/// A service under test and how many requests it had to retry.
struct Racer {
    s: FaultyService,
    retried: AtomicUsize,
    /// Requests that did not get an answer they may get, as violations.
    failed: std::sync::Mutex<Vec<String>>,
}

impl Racer {
    fn new(s: FaultyService) -> Self {
        Self {
            s,
            retried: AtomicUsize::new(0),
            failed: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn fail(&self, what: String) {
        self.failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(what);
    }

    fn failures(&self) -> Vec<String> {
        self.failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl std::ops::Deref for Racer {
    type Target = FaultyService;

    fn deref(&self) -> &FaultyService {
        &self.s
    }
}

/// Sends a request as a client does: a 5xx (the store answered "try again", e.g. a transaction
/// conflict) is retried, the same request again. Returns the last answer.
async fn call_retrying(s: &Racer, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
    let mut answer = (StatusCode::INTERNAL_SERVER_ERROR, Value::Null);
    for _ in 0..5 {
        answer = s.t.call(method.clone(), path, Some(body.clone())).await;
        if !answer.0.is_server_error() {
            break;
        }
        s.retried.fetch_add(1, Ordering::Relaxed);
    }
    answer
}

async fn register(s: &Racer) {
    let t = &s.t;
    let (status, body) = call_retrying(
        s,
        Method::PUT,
        &format!("/v1/firms/{}", t.firm_id()),
        json!({
            "name": "Hartwell & Pine LLP",
            "sms_number": t.firm_number(),
            "support_email": "help@hartwell.example",
            "support_phone": "(202) 555-0199",
            "website": "https://hartwell.example"
        }),
    )
    .await;
    if status != StatusCode::CREATED {
        s.fail(format!("registering the firm: {status} {body}"));
    }
}

async fn create(s: &Racer, contact: &str, email: &str) {
    let t = &s.t;
    let (status, body) = call_retrying(
        s,
        Method::POST,
        &format!("/v1/firms/{}/contacts", t.firm_id()),
        json!({ "contact_id": contact, "phone": t.phone(N), "email": email }),
    )
    .await;
    if status != StatusCode::CREATED && status != StatusCode::OK {
        s.fail(format!("creating {contact}: {status} {body}"));
    }
}

/// Delivers a text through the SNS handler; a retryable failure is redelivered, as SNS does.
async fn text(s: &Racer, body: &str, id: &str) {
    let t = &s.t;
    for _ in 0..5 {
        let event = sns_event(&t.phone(N), &t.firm_number(), body, id, t.clock.now());
        if inbound_sms::handle(&t.services, event).await.is_ok() {
            return;
        }
        s.retried.fetch_add(1, Ordering::Relaxed);
    }
    s.fail(format!("the inbound text {id} kept failing"));
}

async fn firm_message(s: &Racer, body: &str) {
    let t = &s.t;
    // With a key, so that a retry after a 5xx cannot send it twice.
    let (status, answer) = call_retrying(
        s,
        Method::POST,
        &format!("/v1/firms/{}/messages", t.firm_id()),
        json!({ "to": t.phone(N), "body": body, "idempotency_key": body }),
    )
    .await;
    if status != StatusCode::ACCEPTED && status != StatusCode::FORBIDDEN {
        s.fail(format!("sending {body:?}: {status} {answer}"));
    }
}

/// The same through the batch route, whose first message to a number is claimed in its
/// group's write; a retryable failure is sent again, as a client told so does.
async fn firm_batch_message(s: &Racer, body: &str) {
    let t = &s.t;
    let path = format!("/v1/firms/{}/messages/batch", t.firm_id());
    let message =
        json!({ "messages": [{ "to": t.phone(N), "body": body, "idempotency_key": body }] });
    for _ in 0..5 {
        let (status, answer) = call_retrying(s, Method::POST, &path, message.clone()).await;
        let result = &answer["results"][0];
        if status != StatusCode::OK {
            s.fail(format!("sending {body:?} in a batch: {status} {answer}"));
            return;
        }
        if result["decision"] != "failed" {
            return;
        }
        if result["retryable"] != true {
            s.fail(format!("sending {body:?} in a batch: {answer}"));
            return;
        }
        s.retried.fetch_add(1, Ordering::Relaxed);
    }
    s.fail(format!("sending {body:?} in a batch kept failing"));
}

async fn start_at(s: &Racer, start: Start) {
    register(s).await;
    create(s, "c1", "c1@client.example").await;
    if start != Start::Pending {
        text(s, "YES", "setup-yes").await;
    }
    if start == Start::OptedOut {
        text(s, "STOP", "setup-stop").await;
    }
}

/// The invariants of the number after a round; `Err` lists the violations.
async fn check(s: &Racer, label: &str) -> Result<(), Vec<String>> {
    let t = &s.t;
    let phone = PhoneNumber::parse(&t.phone(N)).unwrap_or_else(|e| panic!("{e}"));
    let store = s.store.inner();
    let events = store
        .events(&t.firm_id(), &phone)
        .await
        .unwrap_or_else(|e| panic!("events: {e}"));
    let record = store
        .get_consent(&t.firm_id(), &phone)
        .await
        .unwrap_or_else(|e| panic!("record: {e}"));
    let (summary, mut problems) = check_trail(label, &events, record.map(|r| r.status), false);
    problems.extend(s.failures().into_iter().map(|f| format!("{label}: {f}")));
    let sent: Vec<String> = t.sms_to(&t.phone(N)).await;
    problems.extend(check_sent_against_trail(label, &events, &sent));
    let mut by_kind: HashMap<MessageKind, usize> = HashMap::new();
    for body in &sent {
        if let Some(kind) = summary.kinds_by_body.get(body) {
            *by_kind.entry(*kind).or_default() += 1;
        }
    }
    let requests = by_kind
        .get(&MessageKind::OptInRequest)
        .copied()
        .unwrap_or(0);
    if requests != 1 {
        problems.push(format!("{label}: {requests} opt-in requests sent"));
    }
    let confirmations = by_kind
        .get(&MessageKind::OptOutConfirmation)
        .copied()
        .unwrap_or(0);
    let per_episode: usize = summary.opt_out_episodes.iter().sum();
    if confirmations != per_episode {
        problems.push(format!(
            "{label}: {confirmations} opt-out confirmations sent for episodes {:?}",
            summary.opt_out_episodes
        ));
    }
    let emails = t.sent.emails().await.len();
    if emails != 1 {
        problems.push(format!("{label}: {emails} opt-in emails sent"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Whether the store did what DynamoDB never does: accepted two writes to one record
/// conditioned on the same version (or both on its absence), applied a write whose caller it
/// told that the write failed (events in the store that no accepted write carried), or lost a
/// write it had accepted. (moto does all three under concurrency.)
async fn store_fault(s: &Racer) -> Option<String> {
    let journal = s.store.journal();
    let mut seen = HashSet::new();
    if let Some(w) = journal
        .iter()
        .filter(|w| w.record.is_some() || !w.events.is_empty())
        .find(|w| !seen.insert((w.firm_id.clone(), w.phone.clone(), w.expected_version)))
    {
        return Some(format!(
            "two writes conditioned on version {:?} were both accepted",
            w.expected_version
        ));
    }
    let phone = PhoneNumber::parse(&s.t.phone(N)).unwrap_or_else(|e| panic!("{e}"));
    let stored = s
        .store
        .inner()
        .events(&s.t.firm_id(), &phone)
        .await
        .unwrap_or_else(|e| panic!("events: {e}"));
    let written: HashSet<&str> = journal
        .iter()
        .flat_map(|w| w.events.iter().map(|e| e.id.as_str()))
        .collect();
    if let Some(e) = stored.iter().find(|e| !written.contains(e.id.as_str())) {
        return Some(format!(
            "a {} event is stored whose write was answered as failed",
            e.type_name()
        ));
    }
    let kept: HashSet<&str> = stored.iter().map(|e| e.id.as_str()).collect();
    journal
        .iter()
        .filter(|w| w.firm_id == s.t.firm_id() && w.phone == phone)
        .flat_map(|w| w.events.iter())
        .find(|e| !kept.contains(e.id.as_str()))
        .map(|e| {
            format!(
                "a {} event whose write was accepted is gone from the store",
                e.type_name()
            )
        })
}

/// The races of one round, all at once.
#[derive(Debug, Clone, Copy)]
enum Race {
    /// YES, STOP and a firm message.
    YesStop(Start),
    /// Several YES with distinct ids and one id twice, plus a firm message.
    RepeatedYes,
    /// Several STOPs and a YES.
    StopStorm(Start),
    /// The same contact twice and another contact with the same number, at once.
    TwoCreates,
}

async fn round(s: Arc<Racer>, race: Race, i: u64) {
    match race {
        Race::YesStop(start) | Race::StopStorm(start) => start_at(&s, start).await,
        Race::RepeatedYes => start_at(&s, Start::Pending).await,
        Race::TwoCreates => register(&s).await,
    }
    let mut tasks = Vec::new();
    let spawn =
        |f: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>| tokio::spawn(f);
    match race {
        Race::YesStop(_) => {
            let (a, b, c) = (s.clone(), s.clone(), s.clone());
            tasks.push(spawn(Box::pin(async move {
                text(&a, "YES", &format!("yes-{i}")).await
            })));
            tasks.push(spawn(Box::pin(async move {
                text(&b, "STOP", &format!("stop-{i}")).await
            })));
            // Every other round through the batch route.
            tasks.push(spawn(Box::pin(async move {
                if i.is_multiple_of(2) {
                    firm_message(&c, "Your hearing is Monday.").await
                } else {
                    firm_batch_message(&c, "Your hearing is Monday.").await
                }
            })));
        }
        Race::RepeatedYes => {
            for id in ["y1", "y2", "y3", "y3"] {
                let a = s.clone();
                tasks.push(spawn(Box::pin(async move {
                    text(&a, "Yes", &format!("{id}-{i}")).await
                })));
            }
            let c = s.clone();
            tasks.push(spawn(Box::pin(async move {
                firm_message(&c, "Welcome.").await
            })));
        }
        Race::StopStorm(_) => {
            for (body, id) in [
                ("STOP", "s1"),
                ("stop texting me", "s2"),
                ("YES", "y1"),
                ("STOP", "s1"),
            ] {
                let a = s.clone();
                tasks.push(spawn(Box::pin(async move {
                    text(&a, body, &format!("{id}-{i}")).await
                })));
            }
            let c = s.clone();
            tasks.push(spawn(Box::pin(async move {
                firm_message(&c, "Reminder.").await
            })));
        }
        Race::TwoCreates => {
            for (contact, email) in [
                ("c1", "c1@client.example"),
                ("c1", "c1@client.example"),
                ("c2", "c2@client.example"),
            ] {
                let a = s.clone();
                tasks.push(spawn(Box::pin(async move {
                    create(&a, contact, email).await;
                })));
            }
        }
    }
    for task in tasks {
        if let Err(e) = task.await {
            panic!("a racing request panicked: {e}");
        }
    }
}

fn races() -> Vec<Race> {
    vec![
        Race::YesStop(Start::Pending),
        Race::YesStop(Start::OptedIn),
        Race::YesStop(Start::OptedOut),
        Race::RepeatedYes,
        Race::StopStorm(Start::OptedIn),
        Race::StopStorm(Start::OptedOut),
        Race::TwoCreates,
    ]
}

async fn on_memory(race: Race) {
    on_embedded(race, "in-memory", MEMORY_ROUNDS, || {
        (FaultyService::in_memory(), None)
    })
    .await;
}

async fn on_sqlite(race: Race) {
    on_embedded(race, "SQLite", SQLITE_ROUNDS, || {
        let database = TempDatabase::new("race");
        (
            FaultyService::on_store(database.store.clone()),
            Some(database),
        )
    })
    .await;
}

/// `rounds` rounds of `race` on a store in this process, each on a new service from `start`
/// (with the database it must keep until the round ends).
async fn on_embedded(
    race: Race,
    store: &str,
    rounds: u64,
    start: impl Fn() -> (FaultyService, Option<TempDatabase>),
) {
    let mut failures = Vec::new();
    let mut lost_races = 0;
    let mut outcomes: HashMap<String, usize> = HashMap::new();
    for i in 0..rounds {
        let (service, _database) = start();
        let s = Arc::new(Racer::new(service));
        s.plan.set_jitter(Some(i * 7919 + 17));
        round(s.clone(), race, i).await;
        let label = format!("{race:?} round {i}");
        if let Err(problems) = check(&s, &label).await {
            failures.extend(problems);
        }
        failures.extend(check_journal(&s.store.journal()));
        if let Some(fault) = store_fault(&s).await {
            failures.push(format!("{label}: the {store} store: {fault}"));
        }
        lost_races += s.store.conflicts();
        if s.retried.load(Ordering::Relaxed) > 0 {
            failures.push(format!("{label}: a request failed on the {store} store"));
        }
        *outcomes.entry(final_status(&s).await).or_default() += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The requests did race: writes lost on a version conflict and were decided again.
    assert!(lost_races > 0, "{race:?}: no write ever lost a race");
    println!("{race:?} on {store}: {lost_races} lost races, final statuses {outcomes:?}");
}

async fn final_status(s: &Racer) -> String {
    let phone = PhoneNumber::parse(&s.t.phone(N)).unwrap_or_else(|e| panic!("{e}"));
    let record = s
        .store
        .inner()
        .get_consent(&s.t.firm_id(), &phone)
        .await
        .unwrap_or_else(|e| panic!("record: {e}"));
    record.map_or("none".to_string(), |r| r.status.as_str().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yes_and_stop_at_once_on_memory() {
    for start in [Start::Pending, Start::OptedIn, Start::OptedOut] {
        on_memory(Race::YesStop(start)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_yes_on_memory() {
    on_memory(Race::RepeatedYes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stops_and_a_yes_at_once_on_memory() {
    for start in [Start::OptedIn, Start::OptedOut] {
        on_memory(Race::StopStorm(start)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_contact_created_calls_for_one_number_on_memory() {
    on_memory(Race::TwoCreates).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_race_on_sqlite() {
    for race in races() {
        on_sqlite(race).await;
    }
}

/// The races on the AWS adapters, the store on DynamoDB Local and SNS and SES on moto:
/// `DYNAMODB_LOCAL_ROUNDS` rounds in all, spread over the races, four rounds at a time, each
/// on its own firm and numbers in one table (as in AWS). Every round must meet every invariant.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn races_on_dynamodb_local() {
    let dynamodb = DynamoDbLocal::shared().await;
    let moto = Arc::new(Moto::start().await);
    let sdk = moto.sdk();
    let ses = aws_sdk_sesv2::Client::new(&sdk);
    ensure_sender_identity(&ses, FROM)
        .await
        .unwrap_or_else(|e| panic!("SES identity: {e}"));
    let sms: Arc<dyn SmsSender> = Arc::new(SnsSmsSender::new(aws_sdk_sns::Client::new(&sdk)));
    let mailer: Arc<dyn Mailer> = Arc::new(SesMailer::new(ses, FROM.to_string(), None));
    let table: DynamoStore = dynamodb.store("consent-races").await;
    let all = races();
    let plan: Vec<(u64, Race)> = (0..DYNAMODB_LOCAL_ROUNDS)
        .map(|i| (i, all[usize::try_from(i).unwrap_or(0) % all.len()]))
        .collect();
    let mut failures = Vec::new();
    let mut lost_races = 0;
    let mut outcomes: HashMap<String, usize> = HashMap::new();
    for batch in plan.chunks(4) {
        let mut tasks = Vec::new();
        for &(i, race) in batch {
            let index = u16::try_from(300 + i).unwrap_or(u16::MAX);
            let recorder = Arc::new(Recorder::new(sms.clone(), mailer.clone()));
            let s = Arc::new(Racer::new(FaultyService::over(
                Arc::new(table.clone()),
                recorder.clone(),
                recorder.clone(),
                recorder,
                Arc::new(SettableClock::frozen(afternoon())),
                index,
            )));
            tasks.push(tokio::spawn(async move {
                round(s.clone(), race, i).await;
                let label = format!("{race:?} round {i}");
                let mut problems = check(&s, &label).await.err().unwrap_or_default();
                problems.extend(check_journal(&s.store.journal()));
                if let Some(fault) = store_fault(&s).await {
                    problems.push(format!("{label}: DynamoDB Local: {fault}"));
                }
                let retried = s.retried.load(Ordering::Relaxed);
                if retried > 0 {
                    problems.push(format!(
                        "{label}: {retried} requests failed on DynamoDB Local and were retried"
                    ));
                }
                (problems, s.store.conflicts(), final_status(&s).await)
            }));
        }
        for task in tasks {
            let (problems, conflicts, status) = task
                .await
                .unwrap_or_else(|e| panic!("a round panicked: {e}"));
            failures.extend(problems);
            lost_races += conflicts;
            *outcomes.entry(status).or_default() += 1;
        }
    }
    println!(
        "DynamoDB Local: {} rounds, {lost_races} lost races decided again, final statuses \
         {outcomes:?}",
        plan.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The requests did race: writes lost on a version conflict and were decided again.
    assert!(
        lost_races > 0,
        "no write ever lost a race on DynamoDB Local"
    );
}

/// An error of the DynamoDB client.
type Sdk<E> = aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>;

/// What a `PutItem` of the serialisation test came to: `won`, or the error code it was refused
/// with.
fn put_outcome<T>(
    result: Result<T, Sdk<aws_sdk_dynamodb::operation::put_item::PutItemError>>,
) -> String {
    use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
    match result {
        Ok(_) => "won".to_string(),
        Err(error) => match error.as_service_error().and_then(|e| e.code()) {
            Some(code) => code.to_string(),
            None => DisplayErrorContext(&error).to_string(),
        },
    }
}

/// What a `TransactWriteItems` of the serialisation test came to: `won`, or the cancellation
/// reason of each of its items.
fn transaction_outcome<T>(
    result: Result<
        T,
        Sdk<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError>,
    >,
) -> String {
    use aws_sdk_dynamodb::error::DisplayErrorContext;
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match result {
        Ok(_) => "won".to_string(),
        Err(error) => match error.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => format!(
                "cancelled {:?}",
                cancelled
                    .cancellation_reasons()
                    .iter()
                    .map(|r| r.code().unwrap_or("?"))
                    .collect::<Vec<_>>()
            ),
            _ => DisplayErrorContext(&error).to_string(),
        },
    }
}

/// `None` if exactly one writer won and every other was refused as `loser`; else what happened.
fn serialised(what: String, outcomes: &[String], loser: &str) -> Option<String> {
    let won = outcomes.iter().filter(|o| *o == "won").count();
    let odd: Vec<&String> = outcomes
        .iter()
        .filter(|o| *o != "won" && *o != loser)
        .collect();
    (won != 1 || !odd.is_empty()).then(|| format!("{what}: {won} winners, other losers {odd:?}"))
}

/// Two conditional writes to one item are serialised on DynamoDB Local, as on DynamoDB, shown
/// with nothing but the SDK: eight concurrent `PutItem`s of one new item conditioned on
/// `attribute_not_exists(pk)`, eight concurrent `TransactWriteItems` conditioned on one version,
/// and eight concurrent transactions of a versioned record and a new item (a consent write and
/// its event). Exactly one of each wins, all or nothing, and every loser is refused on the
/// record's condition. DynamoDB may also cancel a loser whose transaction overlapped the
/// winner's with `TransactionConflict`; DynamoDB Local never does (docs/reliability.md,
/// "DynamoDB Local").
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_local_serialises_conditional_writes_to_one_item() {
    use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
    const WRITERS: usize = 8;
    let dynamodb = DynamoDbLocal::shared().await;
    let client = dynamodb.client();
    consent_aws::ensure_table(&client, "serialised")
        .await
        .unwrap_or_else(|e| panic!("table: {e}"));
    let s = |v: &str| AttributeValue::S(v.to_string());
    let versioned = |key: &str, sk: &str| {
        Put::builder()
            .table_name("serialised")
            .item("pk", s(key))
            .item("sk", s(sk))
            .item("version", AttributeValue::N("2".into()))
            .condition_expression("#v = :expected")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":expected", AttributeValue::N("1".into()))
            .build()
            .unwrap_or_else(|e| panic!("put: {e}"))
    };
    let seed = |key: String, sk: &'static str| {
        let client = client.clone();
        async move {
            client
                .put_item()
                .table_name("serialised")
                .item("pk", AttributeValue::S(key))
                .item("sk", AttributeValue::S(sk.into()))
                .item("version", AttributeValue::N("1".into()))
                .send()
                .await
                .unwrap_or_else(|e| panic!("seed item: {e}"));
        }
    };
    // Runs the writers at once (a barrier lines them up) and returns each one's outcome.
    async fn race<F, Fut>(write: F) -> Vec<String>
    where
        F: Fn(usize) -> Fut,
        Fut: std::future::Future<Output = String> + Send + 'static,
    {
        let barrier = Arc::new(tokio::sync::Barrier::new(WRITERS));
        let mut tasks = Vec::new();
        for writer in 0..WRITERS {
            let (barrier, write) = (barrier.clone(), write(writer));
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                write.await
            }));
        }
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(
                task.await
                    .unwrap_or_else(|e| panic!("a writer panicked: {e}")),
            );
        }
        outcomes
    }
    let mut problems = Vec::new();
    for round in 0..50 {
        let key = format!("new#{round}");
        let outcomes = race(|writer| {
            let put = client
                .put_item()
                .table_name("serialised")
                .item("pk", s(&key))
                .item("sk", s("x"))
                .item("writer", AttributeValue::N(writer.to_string()))
                .condition_expression("attribute_not_exists(pk)");
            async move { put_outcome(put.send().await) }
        })
        .await;
        problems.extend(serialised(
            format!("PutItem round {round}"),
            &outcomes,
            "ConditionalCheckFailedException",
        ));

        let key = format!("versioned#{round}");
        seed(key.clone(), "x").await;
        let outcomes = race(|_| {
            let write = client.transact_write_items().transact_items(
                TransactWriteItem::builder()
                    .put(versioned(&key, "x"))
                    .build(),
            );
            async move { transaction_outcome(write.send().await) }
        })
        .await;
        problems.extend(serialised(
            format!("TransactWriteItems round {round}"),
            &outcomes,
            r#"cancelled ["ConditionalCheckFailed"]"#,
        ));

        // All or nothing: the versioned record and a new event item, as the store commits a
        // consent write. The event items stored must be the winner's alone.
        let key = format!("atomic#{round}");
        seed(key.clone(), "record").await;
        let outcomes = race(|writer| {
            let event = Put::builder()
                .table_name("serialised")
                .item("pk", s(&key))
                .item("sk", s(&format!("EVT#{writer}")))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .unwrap_or_else(|e| panic!("put: {e}"));
            let write = client
                .transact_write_items()
                .transact_items(
                    TransactWriteItem::builder()
                        .put(versioned(&key, "record"))
                        .build(),
                )
                .transact_items(TransactWriteItem::builder().put(event).build());
            async move { transaction_outcome(write.send().await) }
        })
        .await;
        problems.extend(serialised(
            format!("transaction round {round}"),
            &outcomes,
            r#"cancelled ["ConditionalCheckFailed", "None"]"#,
        ));
        let events = client
            .query()
            .table_name("serialised")
            .key_condition_expression("pk = :pk AND begins_with(sk, :evt)")
            .expression_attribute_values(":pk", s(&key))
            .expression_attribute_values(":evt", s("EVT#"))
            .consistent_read(true)
            .send()
            .await
            .unwrap_or_else(|e| panic!("query: {e}"));
        let winner = outcomes.iter().position(|o| o == "won");
        let stored: Vec<String> = events
            .items()
            .iter()
            .filter_map(|item| item.get("sk").and_then(|v| v.as_s().ok()).cloned())
            .collect();
        if stored != winner.map(|w| vec![format!("EVT#{w}")]).unwrap_or_default() {
            problems.push(format!(
                "transaction round {round}: writer {winner:?} won, event items {stored:?} stored"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
