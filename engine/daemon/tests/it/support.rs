//! What the daemon's integration tests share: a temporary folder removed on drop, the four
//! role tokens and a config using them, and a real API server on 127.0.0.1 (port 0) with a
//! virtual clock and the standard scenario set. Each test file uses the part it needs
//! (`mod support;`); request helpers stay in the files, shaped for what each one tests.

#![allow(dead_code)] // not every test file uses every helper

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use relance_daemon::api::{self, AppState, auth};
use relance_daemon::config::{Config, Role, Token};
use relance_daemon::server::{self, ClockMode};

/// A fresh folder under the system temp dir (per process and tag), removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("relance-test-{tag}-{}", std::process::id()));
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

pub const ADMIN: &str = "admin-token-0000000001";
pub const CREDIT: &str = "credit-token-000000002";
pub const SALES: &str = "sales-token-0000000003";
pub const INTEGRATION: &str = "integration-token-0004";

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
        ],
        ..Config::default()
    }
}

/// Starts the real router over a store in `dir` (virtual clock on `today`, the stdlib set
/// deployed, the first day run) and returns its base URL and a client with `timeout`.
pub async fn serve(dir: &Path, today: &str, timeout: Duration) -> (String, reqwest::Client) {
    let config = config(dir);
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
    let state = Arc::new(AppState {
        engine,
        tokens: auth::tokens(&config.tokens),
        wake: Arc::new(tokio::sync::Notify::new()),
    });
    let app = api::router(state, true);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .expect("client");
    (base, client)
}
