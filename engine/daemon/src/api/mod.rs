//! The HTTP API (axum, JSON): routes, shared state, and the helpers handlers share (running
//! engine work off the async threads, acknowledging only durable writes).
//!
//! `models` is the wire contract: every JSON body the API answers with, as serde types, and
//! their encoding ([`models::Wire`]). `auth` is access control, `case_actions` a person's
//! hand on a case (pause, resume, postpone, note), `error` the JSON errors, `write` the data
//! writes, `read` the views, `admin` the scheduler, outbox, clock and backup
//! endpoints, `import` the file imports (CSV, FEC, camt.053), `reports` the reports,
//! `openapi` the OpenAPI document (`GET /v1/openapi.json`) and the table of routes it is
//! checked against, `stream` the streamed bodies (the backup). Handlers
//! translate HTTP to engine calls and fill the models; they must not hold business rules nor
//! build response bodies of their own.

pub mod admin;
pub mod auth;
pub mod case_actions;
pub mod error;
pub mod import;
pub mod models;
pub mod openapi;
pub mod read;
pub mod reports;
pub mod stream;
pub mod write;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, get, post};
use tokio::sync::Notify;

use super::config::Config;
use super::engine::Engine;
use super::error::DaemonError;
use super::health::Heartbeat;
use super::metrics::Metrics;
use error::ApiError;
use models::Wire;

/// A handler's answer: a body of the wire contract, or an error.
pub type Reply<T> = Result<Wire<T>, ApiError>;

/// What every handler sees.
pub struct AppState {
    pub engine: Arc<Engine>,
    pub tokens: auth::Tokens,
    /// Wakes the dispatcher after a write that may have produced messages.
    pub wake: Arc<Notify>,
    /// The dispatcher's heartbeat (`/healthz`); `None` when this process runs none.
    pub heartbeat: Option<Arc<Heartbeat>>,
    /// How long a client may take to accept each chunk of a streamed answer
    /// (`http.send_timeout_secs`).
    pub send_timeout: std::time::Duration,
}

impl AppState {
    /// The state of a daemon serving `engine` with `config`'s tokens and `metrics_public`.
    pub fn new(engine: Arc<Engine>, config: &Config, wake: Arc<Notify>) -> AppState {
        AppState {
            engine,
            tokens: auth::tokens(&config.tokens).public_metrics(config.metrics_public),
            wake,
            heartbeat: None,
            send_timeout: config.http.send_timeout(),
        }
    }

    /// The state of a daemon whose dispatcher beats `heartbeat`.
    pub fn with_heartbeat(mut self, heartbeat: Arc<Heartbeat>) -> AppState {
        self.heartbeat = Some(heartbeat);
        self
    }
}

/// Runs blocking engine work on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, DaemonError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => Err(ApiError::from(DaemonError::Io(format!("worker: {e}")))),
    }
}

/// Runs a write, makes it durable (flush), then wakes the dispatcher: the response is sent only
/// once the write would survive a crash.
pub async fn durable<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&Engine) -> Result<T, DaemonError> + Send + 'static,
) -> Result<T, ApiError> {
    let engine = state.engine.clone();
    let out = blocking(move || {
        // Acknowledged only if the store was not opened again under the write (its commits
        // could be lost, `Store::flush_since`).
        let since = engine.generation();
        let out = f(&engine)?;
        engine.flush_since(since)?;
        Ok(out)
    })
    .await;
    match &out {
        Ok(_) => {
            Metrics::add(&state.engine.metrics.api_writes, 1);
            state.wake.notify_one();
        }
        Err(_) => Metrics::add(&state.engine.metrics.api_errors, 1),
    }
    out
}

/// The body limit of the file imports (axum's default, 2 MB, is too small for a FEC).
fn file_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(import::MAX_FILE_BYTES)
}

/// A router that keeps the list of its paths (axum's cannot list them), for the test that
/// every route is in the OpenAPI document ([`openapi`]).
#[derive(Default)]
struct Listed {
    router: Router<Arc<AppState>>,
    paths: Vec<&'static str>,
}

impl Listed {
    fn route(mut self, path: &'static str, method: MethodRouter<Arc<AppState>>) -> Listed {
        self.router = self.router.route(path, method);
        self.paths.push(path);
        self
    }
}

/// Every route. `virtual_clock` adds the admin-only clock endpoints.
pub fn router(state: Arc<AppState>, virtual_clock: bool) -> Router {
    routes(virtual_clock)
        .router
        .layer(axum::middleware::from_fn(auth::tell))
        .with_state(state)
}

/// The paths [`router`] serves, in the order they are added.
pub fn route_paths(virtual_clock: bool) -> Vec<&'static str> {
    routes(virtual_clock).paths
}

fn routes(virtual_clock: bool) -> Listed {
    let mut r = Listed::default()
        .route("/healthz", get(read::healthz))
        .route("/metrics", get(read::metrics))
        .route(openapi::PATH, get(openapi::serve))
        .route("/v1/customers", post(write::customers))
        .route("/v1/customers/{id}", get(read::customer))
        .route("/v1/invoices", post(write::invoices))
        .route("/v1/invoices/{id}", get(read::invoice))
        .route(
            "/v1/invoices/{id}/actions",
            get(case_actions::list_actions).post(case_actions::act),
        )
        .route(
            "/v1/invoices/{id}/payments",
            write::invoice_event_route("payment"),
        )
        .route(
            "/v1/invoices/{id}/credit-notes",
            write::invoice_event_route("credit_note"),
        )
        .route(
            "/v1/invoices/{id}/write-off",
            write::invoice_event_route("write_off"),
        )
        .route(
            "/v1/invoices/{id}/disputes",
            write::invoice_event_route("dispute_opened"),
        )
        .route(
            "/v1/invoices/{id}/disputes/resolve",
            write::invoice_event_route("dispute_resolved"),
        )
        .route(
            "/v1/invoices/{id}/promises",
            write::invoice_event_route("promise_made"),
        )
        .route(
            "/v1/invoices/{id}/task-outcomes",
            write::invoice_event_route("task_outcome"),
        )
        .route("/v1/import", post(write::import))
        .route(
            "/v1/import/csv/{kind}",
            post(import::csv).layer(file_limit()),
        )
        .route("/v1/import/fec", post(import::fec).layer(file_limit()))
        .route(
            "/v1/import/events",
            post(import::events).layer(file_limit()),
        )
        .route(
            "/v1/import/batch",
            post(import::batch).layer(DefaultBodyLimit::max(import::MAX_BATCH_BYTES)),
        )
        .route(
            "/v1/import/camt053",
            post(import::camt053).layer(file_limit()),
        )
        .route("/v1/reports/aged", get(reports::aged))
        .route("/v1/reports/dso", get(reports::dso))
        .route("/v1/reports/activity", get(reports::activity))
        .route("/v1/reports/behaviour", get(reports::behaviour))
        .route("/v1/events", post(write::events))
        .route("/v1/scenarios", get(read::scenarios).post(write::deploy))
        .route("/v1/agenda", get(read::agenda))
        .route("/v1/agenda/{id}/outcome", post(write::agenda_outcome))
        .route("/v1/outbox", get(read::outbox))
        .route("/v1/outbox/{id}/retry", post(admin::retry))
        .route("/v1/run", post(admin::run))
        .route("/v1/backup", get(admin::backup));
    if virtual_clock {
        r = r
            .route("/v1/clock", get(admin::clock))
            .route("/v1/clock/advance", post(admin::advance));
    }
    r
}
