//! `relance serve`: opens the store (refused when a restore into it did not finish, or when
//! the full scan of `verify` finds a problem), deploys the configured set, catches up missed days, then
//! runs the HTTP API (on [`http::serve`], with its timeouts and connection limit), the scheduler (the daily run at the configured hour) and the dispatcher
//! on tokio until SIGTERM or Ctrl-C, and shuts down gracefully (in-flight requests answered,
//! the current pass finished, the store flushed).
//!
//! This module wires parts together; it must not hold engine rules.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::NaiveDate;
use tokio::sync::{Notify, watch};

use super::api::{self, AppState};
use super::backup;
use super::catalog::Bundle;
use super::clock::{Clock, VirtualClock, WallClock};
use super::config::Config;
use super::dispatcher::Dispatcher;
use super::engine::{Engine, VIRTUAL_TODAY};
use super::error::DaemonError;
use super::health::Heartbeat;
use super::http;
use super::keys;
use super::migrate;
use super::store::{Op, SledStore, Store, StoreError, Tree};
use super::verify;

/// Which clock the daemon runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMode {
    Wall,
    /// Starts at the stored virtual day, else at `start`, else at today's date.
    Virtual {
        start: Option<NaiveDate>,
    },
}

/// Opens the store a URL names (`store = "postgres://…"` in `relance.toml`).
pub type UrlOpener = fn(&str) -> Result<Arc<dyn Store>, StoreError>;

static URL_OPENER: OnceLock<UrlOpener> = OnceLock::new();

/// Registers the opener of `store = "postgres://…"` (the CLI registers `relance-pg`'s: the
/// daemon must not depend on a database client). The first registration wins.
pub fn register_url_store(opener: UrlOpener) {
    let _ = URL_OPENER.set(opener);
}

/// Opens the store `config` names: the database of `store` (through the registered opener),
/// else sled in the `data` folder (created if missing; an interrupted restore is refused
/// before the store is even opened).
pub fn open_store(config: &Config) -> Result<Arc<dyn Store>, DaemonError> {
    let store: Arc<dyn Store> = match &config.store {
        Some(url) => {
            let opener = URL_OPENER.get().ok_or_else(|| {
                DaemonError::Config("store: this relance cannot open a database URL".into())
            })?;
            opener(url)?
        }
        None => {
            std::fs::create_dir_all(&config.data)
                .map_err(|e| DaemonError::Io(format!("{}: {e}", config.data.display())))?;
            backup::check_complete(&config.data, None)?;
            Arc::new(SledStore::open(&config.data)?)
        }
    };
    backup::check_complete(&config.data, Some(&*store))?;
    Ok(store)
}

/// Opens the store and the engine with the chosen clock; deploys `scenarios` when given and
/// different from the current deployment.
pub fn open(
    config: &Config,
    mode: ClockMode,
    scenarios: Option<&PathBuf>,
) -> Result<Arc<Engine>, DaemonError> {
    let store = open_store(config)?;
    let clock: Arc<dyn Clock> = match mode {
        ClockMode::Wall => Arc::new(WallClock {
            zone: config.zone(),
        }),
        ClockMode::Virtual { start } => {
            let stored = store
                .get(Tree::Meta, VIRTUAL_TODAY)?
                .and_then(|b| keys::parse_date(&b));
            let wall = WallClock {
                zone: config.zone(),
            };
            let day = stored.or(start).unwrap_or_else(|| wall.today());
            if stored.is_none() {
                store.commit(&[Op::Put(
                    Tree::Meta,
                    VIRTUAL_TODAY.to_vec(),
                    keys::date(day).to_vec(),
                )])?;
                store.flush()?;
            }
            Arc::new(VirtualClock::new(day))
        }
    };
    if let Some(from) = migrate::migrate(&*store, clock.today())? {
        tracing::info!(
            from,
            to = crate::store::SCHEMA_VERSION,
            "store schema migrated"
        );
    }
    // Every record of every tree, decoded: a damaged store is not served.
    let report = verify::verify(&*store)?;
    if !report.ok() {
        return Err(StoreError::Damaged {
            // Never the URL: it may hold a password.
            path: match &config.store {
                Some(_) => "the database of `store`".to_string(),
                None => config.data.display().to_string(),
            },
            message: format!(
                "{} (`relance store verify --data {}` lists them all)",
                report.summary(),
                config.data.display()
            ),
        }
        .into());
    }
    let mut engine = Engine::open(store, clock)?;
    engine.idempotency_retention_days = config.idempotency_retention();
    let (rates, rates_file) =
        crate::rates::load(&config.data).map_err(|e| DaemonError::Config(e.to_string()))?;
    if let Some(file) = rates_file {
        tracing::info!(file = %file.display(), "late-payment rates read over the built-in table");
    }
    engine.set_rates(rates);
    let insurers =
        crate::insurers::load(&config.data).map_err(|e| DaemonError::Config(e.to_string()))?;
    if insurers.0.is_some() {
        tracing::info!(dir = %config.data.display(), "credit insurers' policies read from insurers.csv");
    }
    engine.set_insurers(insurers);
    engine.watch_rates(config.data.clone());
    let engine = Arc::new(engine);
    if let Some(dir) = scenarios {
        let report = engine.deploy(Bundle::read_dir(dir)?)?;
        if report.changed {
            tracing::info!(deployment = report.deployment, dir = %dir.display(), "scenario set deployed");
        }
    }
    if engine.catalog().current().is_none() {
        return Err(DaemonError::NoScenarios);
    }
    // The policies are not stored: a restart cannot tell whether insurers.csv changed while
    // the daemon was down, so insured running cases are woken under the file as read now.
    let woken = engine.wake_insured()?;
    if woken > 0 {
        tracing::info!(
            cases = woken,
            "insured customers' running cases woken under insurers.csv"
        );
    }
    Ok(engine)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// Runs the daemon until a shutdown signal. Prints `listening on ADDR` once ready.
pub async fn serve(config: Config, mode: ClockMode) -> Result<(), DaemonError> {
    serve_with(config, mode, |_, _| axum::Router::new()).await
}

/// [`serve`], with `extra` routes merged into the API's app (the web console: the daemon
/// must not depend on it, so the CLI passes it in). `extra` gets the API's state and the
/// configuration.
pub async fn serve_with(
    config: Config,
    mode: ClockMode,
    extra: impl FnOnce(Arc<AppState>, &Config) -> axum::Router,
) -> Result<(), DaemonError> {
    let scenarios = config.scenarios.clone();
    let cfg = config.clone();
    let engine = tokio::task::spawn_blocking(move || open(&cfg, mode, scenarios.as_ref()))
        .await
        .map_err(|e| DaemonError::Io(e.to_string()))??;
    // Days missed while the daemon was down, in order.
    {
        let e = engine.clone();
        let run_hour = config.run_hour;
        let days = tokio::task::spawn_blocking(move || {
            let through = e.due_through(run_hour);
            e.catch_up(through)
        })
        .await
        .map_err(|e| DaemonError::Io(e.to_string()))??;
        if !days.is_empty() {
            tracing::info!(days = days.len(), "caught up");
        }
    }
    let wake = Arc::new(Notify::new());
    let (stop_tx, stop_rx) = watch::channel(false);
    let poll = Duration::from_millis(config.outbox.poll_ms.max(10));
    // Stalled: no pass for 10 polls and at least 2 minutes (a pass may wait on slow channels).
    let heartbeat = Arc::new(Heartbeat::new((poll * 10).max(Duration::from_secs(120))));
    let dispatcher =
        Arc::new(Dispatcher::new(engine.clone(), &config)?.with_heartbeat(heartbeat.clone()));
    let dispatch_task = tokio::spawn(dispatcher.run(wake.clone(), poll, stop_rx.clone()));
    let scheduler_task = (mode == ClockMode::Wall).then(|| {
        let engine = engine.clone();
        let wake = wake.clone();
        let mut stop = stop_rx.clone();
        let run_hour = config.run_hour;
        tokio::spawn(async move {
            loop {
                let e = engine.clone();
                let ran = tokio::task::spawn_blocking(move || {
                    let through = e.due_through(run_hour);
                    e.catch_up(through)
                })
                .await;
                match ran {
                    Ok(Ok(days)) if !days.is_empty() => wake.notify_one(),
                    Ok(Err(e)) => tracing::error!(error = %e, "daily run failed"),
                    _ => {}
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(30)) => {}
                    _ = stop.changed() => return,
                }
            }
        })
    });
    let state =
        Arc::new(AppState::new(engine.clone(), &config, wake.clone()).with_heartbeat(heartbeat));
    let app = api::router(state.clone(), matches!(mode, ClockMode::Virtual { .. }))
        .merge(extra(state, &config));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| DaemonError::Io(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| DaemonError::Io(e.to_string()))?;
    println!("relance: listening on {addr} (today {})", engine.today());
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    wake.notify_one();
    http::serve(listener, app, &config.http, shutdown_signal()).await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    let _ = dispatch_task.await;
    if let Some(t) = scheduler_task {
        let _ = t.await;
    }
    engine.flush()?;
    println!("relance: stopped");
    Ok(())
}
