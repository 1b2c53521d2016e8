//! A daemon for the tests: the stdlib scenarios and the example portfolio in a temporary
//! store, `DAYS` virtual days run through the daily run and the outbox (SMS and webhooks
//! without a URL dead-letter, so the outbox has dead letters), then the API and the console
//! served on 127.0.0.1 (a free port) until [`Daemon::stop`]. Console users, one per role, all
//! with the password [`PASSWORD`].
//!
//! It must not listen on anything but loopback.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use relance_core::domain::Portfolio;
use relance_daemon::Engine;
use relance_daemon::api::{self, AppState};
use relance_daemon::config::{Config, ConsoleUser, EmailTransport, Role, Token};
use relance_daemon::dispatcher::Dispatcher;
use relance_daemon::server::{self, ClockMode};
use tokio::sync::{Notify, oneshot};

pub const PASSWORD: &str = "correct horse battery";
pub const FROM: (i32, u32, u32) = (2026, 4, 1);
pub const DAYS: u64 = 40;

/// (user name, role) of the console users.
pub const USERS: &[(&str, Role)] = &[
    ("ana-admin", Role::Admin),
    ("camille-cm", Role::CreditManager),
    ("sam-sales", Role::Sales),
    ("erp-integration", Role::Integration),
];

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub struct Daemon {
    pub base: String,
    pub engine: Arc<Engine>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Daemon {
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        let _ = self.engine.flush();
    }
}

fn config(dir: &Path) -> Config {
    let mut config = Config {
        data: dir.join("data"),
        spool: dir.join("spool"),
        spool_unconfigured: false,
        ..Config::default()
    };
    config.email.transport = EmailTransport::Spool;
    config.email.from = "Example SA <credit@example.com>".into();
    config.company.name = "Example SA".into();
    config.outbox.max_attempts = 1;
    config.tokens = vec![Token {
        name: "ops".into(),
        token: "admin-token-for-the-console-tests".into(),
        role: Role::Admin,
    }];
    let hash = relance_console::password::hash(PASSWORD).expect("hash");
    config.console.users = USERS
        .iter()
        .map(|(name, role)| ConsoleUser {
            name: name.to_string(),
            password_hash: hash.clone(),
            role: *role,
            agenda: Vec::new(),
        })
        .collect();
    config
}

/// Starts a daemon on the example portfolio, run for `DAYS` days.
pub async fn start() -> Daemon {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path());
    let from = NaiveDate::from_ymd_opt(FROM.0, FROM.1, FROM.2).expect("date");
    let cfg = config.clone();
    let engine = tokio::task::spawn_blocking(move || {
        let engine = server::open(
            &cfg,
            ClockMode::Virtual { start: Some(from) },
            Some(&repo().join("stdlib-scenarios")),
        )
        .expect("open");
        let p = relance_data::portfolio::load_dir(&repo().join("examples")).expect("examples");
        let (past, _): (Vec<_>, Vec<_>) = p.events.iter().cloned().partition(|e| e.date <= from);
        engine
            .import(&Portfolio {
                from: None,
                customers: p.customers.clone(),
                invoices: p.invoices.clone(),
                events: past,
            })
            .expect("import");
        engine.catch_up(from).expect("catch up");
        engine
    })
    .await
    .expect("open");
    let dispatcher = Dispatcher::new(engine.clone(), &config).expect("dispatcher");
    dispatcher.drain().await.expect("drain");
    for d in 1..=DAYS {
        let e = engine.clone();
        let day = from.checked_add_days(Days::new(d)).expect("day");
        tokio::task::spawn_blocking(move || e.advance_to(day))
            .await
            .expect("join")
            .expect("advance");
        dispatcher.drain().await.expect("drain");
    }
    engine.flush().expect("flush");
    let wake = Arc::new(Notify::new());
    let state = Arc::new(AppState::new(engine.clone(), &config, wake));
    let app = api::router(state.clone(), true).merge(relance_console::router(state, &config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = oneshot::channel::<()>();
    let http = config.http.clone();
    let task = tokio::spawn(async move {
        relance_daemon::http::serve(listener, app, &http, async {
            let _ = rx.await;
        })
        .await;
    });
    Daemon {
        base,
        engine,
        stop: Some(tx),
        task: Some(task),
        _dir: dir,
    }
}
