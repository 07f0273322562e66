//! A minimal Lambda Runtime API on loopback (HTTP/1.1), enough for `lambda_runtime`: the
//! function long-polls `GET /2018-06-01/runtime/invocation/next`, gets an event with the request
//! id, deadline, function ARN and trace id headers, and posts its answer to
//! `.../invocation/{id}/response` or `.../error` (or `/runtime/init/error` if it fails to start).
//! Every poll and every answer is timestamped when it arrives.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;

/// How the function answered an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// `POST .../response`.
    Response,
    /// `POST .../error`.
    Error,
    /// `POST /runtime/init/error`.
    InitError,
}

/// One answer, as it arrived.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// The request id it answers (empty for an init error).
    pub request_id: String,
    /// When it arrived.
    pub at: Instant,
    /// What it is.
    pub answer: Answer,
    /// Its body.
    pub body: Bytes,
}

/// An event waiting for the function's next poll.
#[derive(Debug)]
struct Invocation {
    request_id: String,
    body: Vec<u8>,
}

struct ApiState {
    pending: Mutex<mpsc::UnboundedReceiver<Invocation>>,
    polls: mpsc::UnboundedSender<Instant>,
    arrivals: mpsc::UnboundedSender<Arrival>,
    function_arn: String,
}

/// A Runtime API serving one function process.
pub struct RuntimeApi {
    addr: SocketAddr,
    events: mpsc::UnboundedSender<Invocation>,
    polls: mpsc::UnboundedReceiver<Instant>,
    arrivals: mpsc::UnboundedReceiver<Arrival>,
    server: JoinHandle<()>,
    next_id: u64,
}

impl RuntimeApi {
    /// Starts one on a free loopback port.
    pub async fn start(function_name: &str) -> std::io::Result<Self> {
        let (events, pending) = mpsc::unbounded_channel();
        let (polls_tx, polls) = mpsc::unbounded_channel();
        let (arrivals_tx, arrivals) = mpsc::unbounded_channel();
        let state = Arc::new(ApiState {
            pending: Mutex::new(pending),
            polls: polls_tx,
            arrivals: arrivals_tx,
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{function_name}"),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr,
            events,
            polls,
            arrivals,
            server,
            next_id: 0,
        })
    }

    /// `127.0.0.1:PORT`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }

    /// Queues an event for the next poll; returns its request id.
    pub fn invoke(&mut self, body: Vec<u8>) -> String {
        self.next_id += 1;
        let request_id = format!("bench-{:08}-0000-4000-8000-000000000000", self.next_id);
        let _ = self.events.send(Invocation {
            request_id: request_id.clone(),
            body,
        });
        request_id
    }

    /// The next poll of `/next`, or `None` after `timeout`.
    pub async fn next_poll(&mut self, timeout: Duration) -> Option<Instant> {
        tokio::time::timeout(timeout, self.polls.recv())
            .await
            .ok()
            .flatten()
    }

    /// The next answer, or `None` after `timeout`.
    pub async fn next_arrival(&mut self, timeout: Duration) -> Option<Arrival> {
        tokio::time::timeout(timeout, self.arrivals.recv())
            .await
            .ok()
            .flatten()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(state): State<Arc<ApiState>>) -> Response {
    let _ = state.polls.send(Instant::now());
    let invocation = state.pending.lock().await.recv().await;
    let Some(invocation) = invocation else {
        return StatusCode::GONE.into_response();
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        + 30_000;
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    put("content-type", "application/json");
    put("lambda-runtime-aws-request-id", &invocation.request_id);
    put("lambda-runtime-deadline-ms", &deadline.to_string());
    put("lambda-runtime-invoked-function-arn", &state.function_arn);
    put(
        "lambda-runtime-trace-id",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
    );
    (StatusCode::OK, headers, invocation.body).into_response()
}

fn arrived(state: &ApiState, request_id: String, answer: Answer, body: Bytes) -> StatusCode {
    let _ = state.arrivals.send(Arrival {
        request_id,
        at: Instant::now(),
        answer,
        body,
    });
    StatusCode::ACCEPTED
}

async fn response(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    arrived(&state, id, Answer::Response, body)
}

async fn error(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    arrived(&state, id, Answer::Error, body)
}

async fn init_error(State(state): State<Arc<ApiState>>, body: Bytes) -> StatusCode {
    arrived(&state, String::new(), Answer::InitError, body)
}
