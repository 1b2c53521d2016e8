//! Two `relance serve` on one PostgreSQL database: the second waits as a standby (it does not
//! serve) while the first holds the database's leader lock, and takes over — opens the engine
//! and serves what the first wrote — once the first is killed with SIGKILL.
//!
//! Needs `RELANCE_TEST_PG` (see `store_copy.rs`'s `Db`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::store_copy::Db;
use crate::support::TempDir;

const TOKEN: &str = "standby-admin-token-0001";

/// A `relance serve` process, killed on drop; `addr` arrives once it listens.
struct Serve {
    child: Child,
    listening: mpsc::Receiver<String>,
}

impl Serve {
    fn start(cfg: &Path, log: &Path) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_relance"))
            .env("RELANCE_LOG", "info")
            .args([
                "serve",
                "--config",
                &cfg.display().to_string(),
                "--clock",
                "virtual",
                "--start",
                "2026-01-05",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).expect("log"))
            .spawn()
            .expect("relance serve");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("relance: listening on ") {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
                }
            }
        });
        Serve {
            child,
            listening: rx,
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("answer");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn a_standby_takes_over_when_the_daemon_is_killed() {
    let Some(db) = Db::new("standby") else { return };
    let dir = TempDir::new("pg-standby");
    let cfg = dir.0.join("relance.toml");
    // A password in the URL (the test server trusts loopback): never in a log.
    let url = match db.url.split_once('@') {
        Some((user, rest)) if !user["postgres://".len()..].contains(':') => {
            format!("{user}:pw-secret-1@{rest}")
        }
        _ => db.url.clone(),
    };
    std::fs::write(
        &cfg,
        format!(
            "store = \"{}\"\nscenarios = \"{}\"\nspool = \"{}\"\nlisten = \"127.0.0.1:0\"\n[[tokens]]\nname = \"ops\"\ntoken = \"{TOKEN}\"\nrole = \"admin\"\n",
            url,
            crate::workspace().join("stdlib-scenarios").display(),
            dir.0.join("spool").display(),
        ),
    )
    .expect("config");
    let mut first = Serve::start(&cfg, &dir.0.join("first.log"));
    let a = first
        .listening
        .recv_timeout(Duration::from_secs(180))
        .expect("the first daemon serves");
    let (status, body) = http(&a, "POST", "/v1/customers", r#"{"id":"ACME"}"#);
    assert_eq!(status, 200, "{body}");

    let second = Serve::start(&cfg, &dir.0.join("second.log"));
    assert!(
        second
            .listening
            .recv_timeout(Duration::from_secs(5))
            .is_err(),
        "the second daemon waits while the first holds the database"
    );
    let log = std::fs::read_to_string(dir.0.join("second.log")).unwrap_or_default();
    assert!(log.contains("standby"), "{log}");

    first.child.kill().expect("SIGKILL");
    let _ = first.child.wait();
    let b = second
        .listening
        .recv_timeout(Duration::from_secs(180))
        .expect("the standby takes over");
    let (status, body) = http(&b, "GET", "/v1/customers/ACME", "");
    assert_eq!(status, 200, "what the first daemon wrote is served: {body}");
    let log = std::fs::read_to_string(dir.0.join("second.log")).unwrap_or_default();
    assert!(
        !log.contains("pw-secret-1"),
        "no password in the log: {log}"
    );
}
