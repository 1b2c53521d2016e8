//! `/healthz` over a real server on 127.0.0.1: ready (200) on a sound store; after a flush
//! fails (an injected ENOSPC through the store's own sync path) a write answers 500 and
//! `/healthz` 503 naming the store while a probe write still fails; once syncs succeed again
//! (space is back) `/healthz` is 200 and writes are acknowledged again, without a restart.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use relance_daemon::api::{self, AppState};
use relance_daemon::catalog::Bundle;
use relance_daemon::clock::VirtualClock;
use relance_daemon::engine::Engine;
use relance_daemon::http;
use relance_daemon::store::SledStore;

use crate::support::{ADMIN, TempDir, config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_names_a_failed_flush_and_recovers_when_space_returns() {
    let dir = TempDir::new("health");
    let cfg = config(&dir.0);
    std::fs::create_dir_all(&cfg.data).expect("data");
    let store = Arc::new(SledStore::open(&cfg.data).expect("store"));
    let day = "2026-01-05".parse().expect("date");
    let engine =
        Arc::new(Engine::open(store.clone(), Arc::new(VirtualClock::new(day))).expect("engine"));
    engine
        .deploy(Bundle::read_dir(&crate::workspace().join("stdlib-scenarios")).expect("set"))
        .expect("deploy");
    let state = Arc::new(AppState::new(
        engine,
        &cfg,
        Arc::new(tokio::sync::Notify::new()),
    ));
    let app = api::router(state, true);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let http_cfg = cfg.http.clone();
    tokio::spawn(async move {
        http::serve(listener, app, &http_cfg, std::future::pending()).await;
    });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let health = || async {
        let r = client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .expect("healthz");
        let code = r.status().as_u16();
        (code, r.json::<Value>().await.expect("json"))
    };
    let write = |id: &'static str| {
        let client = client.clone();
        let base = base.clone();
        async move {
            client
                .post(format!("{base}/v1/customers"))
                .bearer_auth(ADMIN)
                .json(&json!({"id": id}))
                .send()
                .await
                .expect("write")
                .status()
                .as_u16()
        }
    };

    let (code, body) = health().await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["store"], "ok");
    assert_eq!(body["dispatcher"], "not_running");
    assert_eq!(body["problems"], json!([]));

    // The disk is full: the write's flush fails, and so does /healthz's probe.
    store.inject_sync_failures(2);
    assert_eq!(write("FULL").await, 500);
    let (code, body) = health().await;
    assert_eq!(code, 503, "{body}");
    assert_eq!(body["status"], "unavailable");
    assert!(
        body["store"]
            .as_str()
            .is_some_and(|s| s.contains("No space left on device")),
        "{body}"
    );
    assert!(
        body["problems"][0]
            .as_str()
            .is_some_and(|p| p.starts_with("store: ")),
        "{body}"
    );

    // Space is back: the probe succeeds, the store is ready and takes writes again.
    let (code, body) = health().await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["store"], "ok");
    assert_eq!(write("AFTER").await, 200);
    let r = client
        .get(format!("{base}/v1/customers/AFTER"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("read");
    assert_eq!(r.status().as_u16(), 200);
}
