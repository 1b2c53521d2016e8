//! `relance store verify --data postgres://…` and `relance backup --data postgres://…`: a
//! stopped daemon's PostgreSQL store is verified and backed up like a sled folder. A store
//! written by the engine (a generated portfolio, the load day run) is copied from sled to
//! PostgreSQL; then verify reports the same trees and counts on both, the two backups are
//! byte-identical, an undecodable record is found, a database held by a daemon or holding no
//! store is refused (and left without tables), and the password is never printed.
//!
//! Needs `RELANCE_TEST_PG` (see engine/pg/tests): without it the test prints a notice and
//! passes, except under CI, where it fails.

use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::Value;

use relance_daemon::Engine;
use relance_daemon::clock::VirtualClock;
use relance_daemon::store::SledStore;

use crate::store_copy::{Db, relance};
use crate::support::TempDir;

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A sled store written by the engine: a generated portfolio of `n` invoices imported, the
/// load day run (cases opened, timers set), flushed and closed.
fn engine_store(dir: &Path, n: usize) {
    let as_of: NaiveDate = "2026-03-31".parse().expect("date");
    let gen_dir = dir.join("gen");
    relance_data::generator::generate(
        relance_data::generator::Spec {
            customers: n / 10,
            invoices: n,
            seed: 7,
            as_of,
        },
        &gen_dir,
        &mut |_| {},
    )
    .expect("generate");
    let portfolio = relance_data::portfolio::load_dir(&gen_dir).expect("load");
    let store = Arc::new(SledStore::open(&dir.join("sled")).expect("open"));
    let engine = Engine::open(store, Arc::new(VirtualClock::new(as_of))).expect("engine");
    let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-scenarios");
    engine
        .deploy(relance_daemon::catalog::Bundle::read_dir(&scenarios).expect("stdlib"))
        .expect("deploy");
    engine.import(&portfolio).expect("import");
    engine.run_day(as_of).expect("load day");
    engine.flush().expect("flush");
}

/// `relance store verify --format json` of `data`: exit status and report.
fn verify(data: &str) -> (Option<i32>, Value) {
    let out = relance(&["store", "verify", "--data", data, "--format", "json"]);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    (out.status.code(), v)
}

/// With a password after the URL's user (ignored by the test server's trust authentication).
fn with_password(url: &str) -> String {
    let user = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[user..].find('@') {
        Some(at) => format!("{}:pw-s3cret-9{}", &url[..user + at], &url[user + at..]),
        None => url.to_string(),
    }
}

#[test]
fn a_postgres_store_is_verified_and_backed_up_like_a_sled_folder() {
    let Some(db) = Db::new("ops") else { return };
    let dir = TempDir::new("pg-ops");
    engine_store(&dir.0, 200);
    let sled = dir.0.join("sled").display().to_string();
    let url = with_password(&db.url);
    assert!(url.contains("pw-s3cret-9"), "{url}");

    // A database with no relance store: refused, and nothing created in it.
    let out = relance(&["store", "verify", "--data", &url]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no store here"), "{}", text(&out));
    let out = relance(&[
        "backup",
        "--data",
        &url,
        &dir.0.join("none.jsonl").display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let mut admin = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
    let tables: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .expect("tables")
        .get(0);
    assert_eq!(tables, 0, "verify and backup created nothing");

    let out = relance(&["store", "copy", "--from", &sled, "--to", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // The same report on both stores: trees, counts, sound.
    let (code, on_sled) = verify(&sled);
    assert_eq!(code, Some(0), "{on_sled}");
    let (code, on_pg) = verify(&url);
    assert_eq!(code, Some(0), "{on_pg}");
    assert_eq!(on_pg["ok"], true);
    assert_eq!(on_pg["trees"], on_sled["trees"]);
    let invoices = on_pg["trees"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["tree"] == "invoices"))
        .map(|t| t["entries"].clone());
    assert_eq!(invoices, Some(Value::from(200)));
    assert!(!on_pg.to_string().contains("pw-s3cret-9"), "{on_pg}");

    // Byte-identical backups.
    let from_sled = dir.0.join("sled.jsonl");
    let from_pg = dir.0.join("pg.jsonl");
    for (data, file) in [(&sled, &from_sled), (&url, &from_pg)] {
        let out = relance(&["backup", "--data", data, &file.display().to_string()]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(!text(&out).contains("pw-s3cret-9"), "{}", text(&out));
    }
    let a = std::fs::read(&from_sled).expect("sled backup");
    let b = std::fs::read(&from_pg).expect("pg backup");
    assert!(a.len() > 10_000, "a real store: {} bytes", a.len());
    assert!(a == b, "the two backups differ");

    // Held by a daemon: refused, both commands, saying why.
    {
        let held = relance_pg::open_exclusive(&db.url).expect("hold the leader lock");
        let refused = dir.0.join("refused.jsonl").display().to_string();
        for args in [
            vec!["store", "verify", "--data", &url],
            vec!["backup", "--data", &url, &refused],
        ] {
            let out = relance(&args);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
            assert!(text(&out).contains("stop it first"), "{}", text(&out));
            assert!(!text(&out).contains("pw-s3cret-9"), "{}", text(&out));
        }
        drop(held);
    }

    // An undecodable record written behind the daemon's back is found.
    let key: Vec<u8> = admin
        .query_one(
            "SELECT key FROM tree_invoices ORDER BY key LIMIT 1 OFFSET 7",
            &[],
        )
        .expect("a key")
        .get(0);
    admin
        .execute(
            "UPDATE tree_invoices SET value = $2 WHERE key = $1",
            &[&key, &br#"{"id": "#.to_vec()],
        )
        .expect("damage");
    let (code, damaged) = verify(&url);
    assert_eq!(code, Some(1), "{damaged}");
    assert_eq!(damaged["ok"], false);
    assert_eq!(damaged["problem_count"], 1);
    assert_eq!(damaged["problems"][0]["tree"], "invoices");
    assert_eq!(
        damaged["problems"][0]["key"],
        String::from_utf8_lossy(&key).as_ref()
    );
}
