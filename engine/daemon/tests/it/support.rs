//! What the daemon's integration tests share: a temporary folder removed on drop, the five
//! role tokens and a config using them, a real API server on 127.0.0.1 (port 0) with a
//! virtual clock and the standard scenario set, and the runner of table-driven API tests
//! ([`Row`], [`run_rows`]: each row a request and what it must answer). Each test file uses
//! the part it needs (`mod support;`, or `#[path]` from the CLI's tests); request helpers of
//! other shapes stay in the files, shaped for what each one tests. Nothing here asserts
//! anything a row does not ask for, except that every JSON answer is written as the API
//! writes JSON (compact, keys in alphabetical order).

#![allow(dead_code)] // not every test file uses every helper

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use relance_daemon::api::{self, AppState};
use relance_daemon::config::{Config, Role, Token};
use relance_daemon::http;
use relance_daemon::server::{self, ClockMode};

/// A fresh folder under the system temp dir (per process and tag), removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh folder, unique per call: two tests of one process may pass the same tag (the
    /// differential's seeds did, and wiped each other's stores).
    pub fn new(tag: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("relance-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The store URL of `differential.rs`' daemon: none here (sled); engine/pg's tests, which
/// run that same file, answer a fresh PostgreSQL database.
pub fn store_for(_: &TempDir) -> Option<String> {
    None
}

/// Whether `differential.rs` has no store to run on (engine/pg's tests without a server).
pub fn skip_store_tests() -> bool {
    false
}

pub const ADMIN: &str = "admin-token-0000000001";
pub const CREDIT: &str = "credit-token-000000002";
pub const SALES: &str = "sales-token-0000000003";
pub const INTEGRATION: &str = "integration-token-0004";
pub const METRICS: &str = "metrics-token-00000005";

/// A config storing under `dir`, with one token per role.
pub fn config(dir: &Path) -> Config {
    let token = |name: &str, token: &str, role| Token {
        name: name.into(),
        token: token.into(),
        role,
    };
    Config {
        data: dir.join("data"),
        spool: dir.join("spool"),
        tokens: vec![
            token("ops", ADMIN, Role::Admin),
            token("credit", CREDIT, Role::CreditManager),
            token("sales", SALES, Role::Sales),
            token("erp", INTEGRATION, Role::Integration),
            token("prometheus", METRICS, Role::Metrics),
        ],
        ..Config::default()
    }
}

/// Starts the real router over a store in `dir` (virtual clock on `today`, the stdlib set
/// deployed, the first day run) and returns its base URL and a client with `timeout`.
pub async fn serve(dir: &Path, today: &str, timeout: Duration) -> (String, reqwest::Client) {
    serve_with(config(dir), today, timeout).await
}

/// [`serve`] with a config of the test's own (its HTTP limits, `metrics_public`, tokens),
/// on the daemon's own HTTP server (`relance_daemon::http`).
pub async fn serve_with(
    config: Config,
    today: &str,
    timeout: Duration,
) -> (String, reqwest::Client) {
    let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-scenarios");
    let engine = server::open(
        &config,
        ClockMode::Virtual {
            start: today.parse().ok(),
        },
        Some(&scenarios),
    )
    .expect("engine");
    engine.catch_up(engine.today()).expect("first run");
    serve_engine(engine, config, timeout).await
}

/// Serves the real router over an engine the test opened itself (and keeps, to read its
/// store afterwards), on the daemon's own HTTP server; its base URL and a client.
pub async fn serve_engine(
    engine: Arc<relance_daemon::Engine>,
    config: Config,
    timeout: Duration,
) -> (String, reqwest::Client) {
    let state = Arc::new(AppState::new(
        engine,
        &config,
        Arc::new(tokio::sync::Notify::new()),
    ));
    let app = api::router(state, true);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        http::serve(listener, app, &config.http, std::future::pending()).await;
    });
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .expect("client");
    (base, client)
}

/// The role a test token stands for, to name a row (`-` without a token, `bad token` for
/// any other string).
pub fn role_of(token: Option<&str>) -> &'static str {
    match token {
        None => "-",
        Some(ADMIN) => "admin",
        Some(CREDIT) => "credit-manager",
        Some(SALES) => "sales",
        Some(INTEGRATION) => "integration",
        Some(METRICS) => "metrics",
        Some(_) => "bad token",
    }
}

/// A row's request body.
#[derive(Debug, Clone)]
pub enum Body {
    /// No body.
    None,
    /// A JSON value.
    Json(Value),
    /// Text sent as it is, as `application/json` (malformed JSON, exact bytes).
    Raw(&'static str),
}

/// The status a row wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Exactly this status.
    Status(StatusCode),
    /// The caller gets through access control: neither 401 nor 403 (what the request then
    /// does is not the row's concern).
    Allowed,
}

impl From<u16> for Want {
    fn from(code: u16) -> Want {
        Want::Status(StatusCode::from_u16(code).expect("a status code"))
    }
}

/// One request of a table-driven test and what it must answer: the status and, if given, a
/// JSON fragment the answer must contain ([`contains`]).
#[derive(Debug, Clone)]
pub struct Row {
    pub method: Method,
    pub path: String,
    pub token: Option<&'static str>,
    pub body: Body,
    pub want: Want,
    pub fragment: Option<Value>,
}

impl Row {
    /// A row without a fragment.
    pub fn new(
        method: Method,
        path: impl Into<String>,
        token: Option<&'static str>,
        body: Body,
        want: impl Into<Want>,
    ) -> Row {
        Row {
            method,
            path: path.into(),
            token,
            body,
            want: want.into(),
            fragment: None,
        }
    }

    /// The row, wanting the answer to contain `fragment`.
    pub fn with(self, fragment: Value) -> Row {
        Row {
            fragment: Some(fragment),
            ..self
        }
    }

    /// How a failing row is named: its number, request and caller.
    pub fn name(&self, i: usize) -> String {
        format!(
            "row {i}: {} {} as {}",
            self.method,
            self.path,
            role_of(self.token)
        )
    }
}

/// Whether `actual` contains `fragment`: an object's keys each hold a value containing the
/// fragment's (other keys are ignored), an array's first items each contain the fragment's
/// items in order (`[{}]`: at least one object), anything else is equal.
pub fn contains(actual: &Value, fragment: &Value) -> bool {
    match (actual, fragment) {
        (Value::Object(a), Value::Object(f)) => f
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|x| contains(x, v))),
        (Value::Array(a), Value::Array(f)) => {
            a.len() >= f.len() && a.iter().zip(f).all(|(x, v)| contains(x, v))
        }
        (a, f) => a == f,
    }
}

/// Sends one row's request: the status and the answer (JSON, or the text as a string).
pub async fn send(client: &reqwest::Client, base: &str, row: &Row) -> (StatusCode, Value, String) {
    let mut req = client.request(row.method.clone(), format!("{base}{}", row.path));
    if let Some(t) = row.token {
        req = req.bearer_auth(t);
    }
    req = match &row.body {
        Body::None => req,
        Body::Json(v) => req.json(v),
        Body::Raw(text) => req
            .header("Content-Type", "application/json")
            .body(text.to_string()),
    };
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()));
    (status, value, text)
}

/// Runs the rows in order, asserting each (the message names the failing row and shows its
/// answer), and returns the answers.
pub async fn run_rows(client: &reqwest::Client, base: &str, rows: &[Row]) -> Vec<Value> {
    let mut answers = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let (status, value, text) = send(client, base, row).await;
        let name = row.name(i);
        match row.want {
            Want::Status(want) => assert_eq!(status, want, "{name}: {text}"),
            Want::Allowed => assert!(
                status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                "{name}: got {status} {text}"
            ),
        }
        if let Some(fragment) = &row.fragment {
            assert!(
                contains(&value, fragment),
                "{name}: the answer lacks {fragment}: {text}"
            );
        }
        if value.is_object() || value.is_array() {
            let canonical = serde_json::to_string(&value).expect("json");
            assert_eq!(
                canonical, text,
                "{name}: JSON is written compact with keys in alphabetical order"
            );
        }
        answers.push(value);
    }
    answers
}
