//! The test database: a fresh PostgreSQL database per test, dropped at the end.

use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

/// A database made for one test (dropped, connections and all, on drop).
pub struct TestDb {
    admin: String,
    pub name: String,
    pub config: postgres::Config,
    /// The URL of the database (for the CLI and `PgStore::open`).
    pub url: String,
}

/// The server's URL, or `None` (after a notice) when no server is configured; under CI a
/// missing server fails the test.
pub fn server() -> Option<String> {
    match std::env::var("RELANCE_TEST_PG") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("RELANCE_TEST_PG is not set under CI: .ci/run starts a PostgreSQL server");
            }
            eprintln!("notice: RELANCE_TEST_PG is not set; PostgreSQL tests skipped");
            None
        }
    }
}

/// `url` with its database name replaced by `db`.
pub fn with_db(url: &str, db: &str) -> String {
    let scheme_end = url.find("://").expect("a URL") + 3;
    let rest = &url[scheme_end..];
    let query = rest.find('?').map(|q| &rest[q..]).unwrap_or("");
    let before_query = &rest[..rest.len() - query.len()];
    let host = before_query.split('/').next().unwrap_or("");
    format!("{}{host}/{db}{query}", &url[..scheme_end])
}

impl TestDb {
    /// A fresh database on the server, or `None` when there is no server (see [`server`]).
    pub fn new(tag: &str) -> Option<TestDb> {
        static N: AtomicU32 = AtomicU32::new(0);
        let admin = server()?;
        let name = format!(
            "relance_t_{}_{}_{}",
            tag.to_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut c =
            postgres::Client::connect(&admin, postgres::NoTls).expect("connect to RELANCE_TEST_PG");
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .expect("drop a leftover test database");
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create the test database");
        let url = with_db(&admin, &name);
        let config = postgres::Config::from_str(&url).expect("url");
        Some(TestDb {
            admin,
            name,
            config,
            url,
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

#[test]
fn urls_get_their_database_replaced() {
    let cases = [
        (
            "postgres://u:p@127.0.0.1:5432/postgres",
            "postgres://u:p@127.0.0.1:5432/x",
        ),
        (
            "postgres://u@h/postgres?sslmode=disable",
            "postgres://u@h/x?sslmode=disable",
        ),
        ("postgres://u@h", "postgres://u@h/x"),
        (
            "postgresql:///postgres?host=/tmp/s",
            "postgresql:///x?host=/tmp/s",
        ),
    ];
    for (url, want) in cases {
        assert_eq!(with_db(url, "x"), want, "{url}");
    }
}

/// A temporary folder (spool, generated data) and, when a server is configured, a fresh
/// database: what `differential.rs` (the daemon's file, run here too) calls `TempDir`.
pub struct TempDir(pub std::path::PathBuf, Option<TestDb>);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "relance-pg-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p, TestDb::new(tag))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `differential.rs`' store: the folder's database (the daemon opens it through relance-pg).
pub fn store_for(tmp: &TempDir) -> Option<String> {
    relance_daemon::server::register_url_store(relance_pg::open_store);
    Some(tmp.1.as_ref().expect("a PostgreSQL server").url.clone())
}

/// No server configured (and not under CI): the daemon's differential is not run here.
pub fn skip_store_tests() -> bool {
    server().is_none()
}
