//! Integrity of `relance serve`'s store, with the real binary on 127.0.0.1: an acknowledged
//! write was `fdatasync`ed before its answer left (a syscall trace with strace), a damaged
//! store is refused (corrupted file bytes, an undecodable record) with a message naming it and
//! `relance store verify` reports it, and an interrupted restore can be neither served nor
//! backed up. Every process started here is killed by pid when its guard drops; every wait has
//! a deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::TempDir;

const TOKEN: &str = "integrity-admin-token-01";

fn relance() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_relance"));
    c.env("RELANCE_LOG", "warn");
    c
}

/// A config storing under `dir/data`, one admin token, the loopback on any port.
fn config(dir: &Path) -> PathBuf {
    let text = format!(
        "data = \"{}\"\nspool = \"{}\"\nlisten = \"127.0.0.1:0\"\n[[tokens]]\nname = \"ops\"\ntoken = \"{TOKEN}\"\nrole = \"admin\"\n",
        dir.join("data").display(),
        dir.join("spool").display(),
    );
    let path = dir.join("relance.toml");
    std::fs::write(&path, text).expect("config");
    path
}

fn serve_args(config: &Path) -> Vec<String> {
    vec![
        "serve".into(),
        "--clock".into(),
        "virtual".into(),
        "--start".into(),
        "2026-01-05".into(),
        "--config".into(),
        config.display().to_string(),
        "--scenarios".into(),
        crate::workspace()
            .join("stdlib-scenarios")
            .display()
            .to_string(),
    ]
}

/// Processes killed (SIGKILL, by pid) when dropped: the child, and pids found under it.
struct Running {
    child: Child,
    others: Vec<u32>,
    addr: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        for pid in &self.others {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cmd` (a `relance serve`, maybe under strace) and waits for its `listening on`.
fn start(mut cmd: Command, log: &Path) -> Running {
    let stderr = std::fs::File::create(log).expect("log");
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("relance: listening on ") {
                let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
            }
        }
    });
    let mut running = Running {
        child,
        others: Vec::new(),
        addr: String::new(),
    };
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(addr) => running.addr = addr,
        Err(_) => panic!(
            "the daemon did not start: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        ),
    }
    running
}

/// The exit status of `child` if it ends within `wait` (polled).
fn exited_within(child: &mut Child, wait: Duration) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if std::time::Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One HTTP/1.1 request on a fresh connection (closed after the answer): status and body.
fn http(addr: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nIdempotency-Key: integrity{}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        path.replace('/', "-"),
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

/// Whether strace can be used: required on CI (`CI` set), else the test is skipped.
fn strace_available() -> bool {
    let ok = Command::new("strace")
        .arg("-V")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        let ci = std::env::var("CI")
            .is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false" | "FALSE" | "False"));
        assert!(
            !ci,
            "strace is not installed: the durability test needs it on CI (apt-get install strace)"
        );
        eprintln!("skipped: strace is not installed (required on CI)");
    }
    ok
}

/// The pids of `pid`'s children (Linux `/proc`).
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// One traced system call: its text (entry and exit joined), the line where it entered and the
/// line where it returned.
#[derive(Debug)]
struct Call {
    text: String,
    entered: usize,
    returned: usize,
}

/// The calls of an `strace -f` log, with `<unfinished ...>` / `<... resumed>` pairs joined.
fn calls(log: &str) -> Vec<Call> {
    let mut open: std::collections::HashMap<String, (String, usize)> = Default::default();
    let mut out = Vec::new();
    for (n, line) in log.lines().enumerate() {
        let (pid, rest) = match line.strip_prefix("[pid") {
            Some(r) => {
                let (p, rest) = r.split_once(']').unwrap_or((r, ""));
                (p.trim().to_string(), rest.trim_start())
            }
            None => match line.split_once(' ') {
                Some((p, rest)) if p.chars().all(|c| c.is_ascii_digit()) => {
                    (p.to_string(), rest.trim_start())
                }
                _ => (String::new(), line),
            },
        };
        if let Some(start) = rest.strip_suffix("<unfinished ...>") {
            open.insert(pid, (start.to_string(), n));
        } else if rest.starts_with("<...") {
            let tail = rest.split_once("resumed>").map(|x| x.1).unwrap_or("");
            if let Some((start, entered)) = open.remove(&pid) {
                out.push(Call {
                    text: format!("{start}{tail}"),
                    entered,
                    returned: n,
                });
            }
        } else {
            out.push(Call {
                text: rest.to_string(),
                entered: n,
                returned: n,
            });
        }
    }
    out.sort_by_key(|c| c.entered);
    out
}

/// Durability, proven on the syscalls: between the request of one event write arriving and
/// its 200 leaving, the daemon wrote the store's log file and `fdatasync`ed (or `fsync`ed)
/// it, and that sync returned 0 before the answer's first byte was written to the socket.
#[test]
fn an_acknowledged_write_was_fdatasynced_before_its_answer() {
    if !strace_available() {
        return;
    }
    let dir = TempDir::new("integrity-strace");
    let cfg = config(&dir.0);
    let trace = dir.0.join("trace.log");
    let mut cmd = Command::new("strace");
    cmd.args([
        "-f",
        "-yy",
        "-s",
        "64",
        "-e",
        "trace=fsync,fdatasync,sync_file_range,pwrite64,write,writev,sendto,sendmsg,read,recvfrom",
        "-o",
    ])
    .arg(&trace)
    .arg(env!("CARGO_BIN_EXE_relance"))
    .args(serve_args(&cfg))
    .env("RELANCE_LOG", "warn");
    let mut daemon = start(cmd, &dir.0.join("stderr.log"));
    daemon.others = children(daemon.child.id());
    assert!(!daemon.others.is_empty(), "relance runs under strace");
    let addr = daemon.addr.clone();
    let customer = json!({"id": "ACME"});
    let invoice = json!({"id": "F-1", "customer": "ACME", "amount": "1200.00", "issued": "2025-12-01", "due": "2025-12-31"});
    assert_eq!(http(&addr, "POST", "/v1/customers", Some(&customer)).0, 200);
    assert_eq!(http(&addr, "POST", "/v1/invoices", Some(&invoice)).0, 200);
    let (status, body) = http(
        &addr,
        "POST",
        "/v1/invoices/F-1/payments",
        Some(&json!({"amount": "100.00"})),
    );
    assert_eq!(status, 200, "{body}");
    // Stop relance (its pid, SIGTERM: graceful), then strace ends and its log is complete.
    for pid in &daemon.others {
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
    let ended = exited_within(&mut daemon.child, Duration::from_secs(60));
    assert!(ended.is_some(), "strace ends after relance stops");
    let log = std::fs::read_to_string(&trace).expect("trace");
    let calls = calls(&log);
    let db = format!("{}>", dir.0.join("data").join("db").display());
    // The payment's request, then the first answer written to a socket after it.
    let request = calls
        .iter()
        .position(|c| {
            (c.text.starts_with("read(") || c.text.starts_with("recvfrom("))
                && c.text.contains("TCP")
                && c.text.contains("/v1/invoices/F-1/payments")
        })
        .unwrap_or_else(|| panic!("the request is in the trace:\n{log}"));
    let answer = calls[request..]
        .iter()
        .position(|c| {
            ["write(", "writev(", "sendto(", "sendmsg("]
                .iter()
                .any(|s| c.text.starts_with(s))
                && c.text.contains("TCP")
                && c.text.contains("HTTP/1.1 200")
        })
        .map(|i| i + request)
        .unwrap_or_else(|| panic!("the answer is in the trace:\n{log}"));
    let between = &calls[request..answer];
    let wrote = between
        .iter()
        .position(|c| c.text.starts_with("pwrite64(") && c.text.contains(&db))
        .unwrap_or_else(|| panic!("the write reached the log file {db} before the answer"));
    let synced = between[wrote..].iter().find(|c| {
        (c.text.starts_with("fdatasync(") || c.text.starts_with("fsync("))
            && c.text.contains(&db)
            && c.text.trim_end().ends_with("= 0")
    });
    let synced = synced.unwrap_or_else(|| {
        panic!(
            "no fdatasync/fsync of {db} between the write and the answer:\n{}",
            between
                .iter()
                .map(|c| c.text.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    assert!(
        synced.returned < calls[answer].entered,
        "the sync returned before the answer was written: {synced:?} / {:?}",
        calls[answer]
    );
}

/// A store with a customer and `n` invoices written by a real daemon (stopped gracefully).
fn filled_store(dir: &Path, n: usize) -> PathBuf {
    let cfg = config(dir);
    let mut cmd = relance();
    cmd.args(serve_args(&cfg));
    let mut daemon = start(cmd, &dir.join("fill.log"));
    let invoices: Vec<Value> = (0..n)
        .map(|i| json!({"id": format!("F-{i:04}"), "customer": "ACME", "amount": format!("{}.00", 100 + i), "issued": "2025-12-01", "due": "2025-12-31"}))
        .collect();
    let addr = daemon.addr.clone();
    assert_eq!(
        http(&addr, "POST", "/v1/customers", Some(&json!({"id": "ACME"}))).0,
        200
    );
    let (status, body) = http(&addr, "POST", "/v1/invoices", Some(&Value::from(invoices)));
    assert_eq!(status, 200, "{body}");
    let _ = Command::new("kill")
        .args(["-TERM", &daemon.child.id().to_string()])
        .status();
    let status = exited_within(&mut daemon.child, Duration::from_secs(60)).expect("stops");
    assert!(status.success(), "graceful stop: {status}");
    cfg
}

/// `relance serve` on `cfg`, expected to refuse to start: its exit status and stderr (a
/// daemon that starts instead is killed after 60 s and the test fails).
fn refused_serve(cfg: &Path) -> (Option<i32>, String) {
    let log = cfg.with_extension("refused.log");
    let stderr = std::fs::File::create(&log).expect("log");
    let child = relance()
        .args(serve_args(cfg))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("relance serve");
    let mut running = Running {
        child,
        others: Vec::new(),
        addr: String::new(),
    };
    let status = exited_within(&mut running.child, Duration::from_secs(60));
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let status = status.unwrap_or_else(|| panic!("relance serve started: {text}"));
    (status.code(), text)
}

fn run(args: &[&str]) -> Output {
    relance().args(args).output().expect("relance")
}

/// Bytes overwritten in the middle of the written part of sled's log file: sled alone would
/// open the store with what precedes the damage (in a trial: no invoice at all); the seal of its
/// clean close catches it. `relance serve` refuses the store (exit 2, the store's path named,
/// no panic), again on a second try, and `relance store verify` says why.
#[test]
fn a_store_with_corrupted_bytes_is_refused() {
    let dir = TempDir::new("integrity-bytes");
    let cfg = filled_store(&dir.0, 300);
    let data = dir.0.join("data");
    let db = data.join("db");
    let mut bytes = std::fs::read(&db).expect("db");
    // The middle of what sled wrote (it preallocates its segments with zeroes).
    let written = bytes.iter().rposition(|b| *b != 0).expect("a written log");
    let middle = written / 2;
    for b in &mut bytes[middle..middle + 256] {
        *b ^= 0x5a;
    }
    std::fs::write(&db, &bytes).expect("corrupt");
    let (code, stderr) = refused_serve(&cfg);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("the store at {} is damaged", data.display())),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let out = run(&["store", "verify", "--data", &data.display().to_string()]);
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("is damaged") && text.contains("closed cleanly with"),
        "{text}"
    );
    // Still refused: the first refusal did not accept what sled recovered.
    let (code, stderr) = refused_serve(&cfg);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(!text.contains("panicked"), "{text}");
}

/// A record that does not decode with the store's types (written behind the daemon's back):
/// `relance serve` refuses the store naming it, `relance store verify --format json` lists
/// the tree, the key and the reason with the counts of every tree; the sound store before
/// passed both.
#[test]
fn an_undecodable_record_is_refused_and_reported() {
    let dir = TempDir::new("integrity-record");
    let cfg = filled_store(&dir.0, 20);
    let data = dir.0.join("data");
    let verify = || {
        let out = run(&[
            "store",
            "verify",
            "--data",
            &data.display().to_string(),
            "--format",
            "json",
        ]);
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), v)
    };
    let (code, sound) = verify();
    assert_eq!(code, Some(0), "{sound}");
    assert_eq!(sound["ok"], true);
    let count = |v: &Value, tree: &str| {
        v["trees"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["tree"] == tree))
            .map(|t| t["entries"].clone())
    };
    assert_eq!(count(&sound, "invoices"), Some(json!(20)));
    assert_eq!(count(&sound, "customers"), Some(json!(1)));
    {
        use relance_daemon::store::{Op, SledStore, Store, Tree};
        let store = SledStore::open(&data).expect("open");
        store
            .commit(&[Op::Put(
                Tree::Invoices,
                b"F-0007".to_vec(),
                br#"{"id": "F-0007", "amount": "#.to_vec(),
            )])
            .expect("commit");
        store.flush().expect("flush");
    }
    let (code, stderr) = refused_serve(&cfg);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("the store at {} is damaged", data.display()))
            && stderr.contains("invoices [F-0007]"),
        "{stderr}"
    );
    let (code, damaged) = verify();
    assert_eq!(code, Some(1), "{damaged}");
    assert_eq!(damaged["ok"], false);
    assert_eq!(damaged["problem_count"], 1);
    assert_eq!(damaged["problems"][0]["tree"], "invoices");
    assert_eq!(damaged["problems"][0]["key"], "F-0007");
    assert_eq!(count(&damaged, "invoices"), Some(json!(20)));
}

/// A restore that stops halfway (its backup file cut in the middle) leaves its marker: the
/// store can be neither served nor backed up, both saying "restore did not finish; restore
/// again"; `relance restore` again with the whole file starts over and the store is served.
#[test]
fn an_interrupted_restore_can_be_neither_served_nor_backed_up() {
    let dir = TempDir::new("integrity-restore");
    filled_store(&dir.0, 300);
    let data = dir.0.join("data");
    let dump = dir.0.join("backup.jsonl");
    let out = run(&[
        "backup",
        "--data",
        &data.display().to_string(),
        &dump.display().to_string(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let whole = std::fs::read_to_string(&dump).expect("backup");
    let cut: String = whole
        .lines()
        .take(whole.lines().count() / 2)
        .map(|l| format!("{l}\n"))
        .collect();
    let half = dir.0.join("half.jsonl");
    std::fs::write(&half, cut).expect("half");

    let target = dir.0.join("restored");
    let restore = |file: &Path| {
        run(&[
            "restore",
            "--data",
            &target.display().to_string(),
            &file.display().to_string(),
        ])
    };
    let out = restore(&half);
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("truncated"), "{text}");

    let again_msg = "restore did not finish; restore again";
    let cfg2 = dir.0.join("restored.toml");
    std::fs::write(
        &cfg2,
        std::fs::read_to_string(dir.0.join("relance.toml"))
            .expect("config")
            .replace(&data.display().to_string(), &target.display().to_string()),
    )
    .expect("config");
    let (code, stderr) = refused_serve(&cfg2);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(again_msg) && stderr.contains(&target.display().to_string()),
        "{stderr}"
    );
    let out = run(&[
        "backup",
        "--data",
        &target.display().to_string(),
        &dir.0.join("of-half.jsonl").display().to_string(),
    ]);
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains(again_msg), "{text}");
    assert!(!dir.0.join("of-half.jsonl").exists(), "no backup written");
    let out = run(&["store", "verify", "--data", &target.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));

    // Again, whole: the store is the original one, and it is served.
    let out = restore(&dump);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let redump = dir.0.join("redump.jsonl");
    let out = run(&[
        "backup",
        "--data",
        &target.display().to_string(),
        &redump.display().to_string(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&redump).expect("redump"), whole);
    let mut cmd = relance();
    cmd.args(serve_args(&cfg2));
    let daemon = start(cmd, &dir.0.join("restored.log"));
    let (status, body) = http(&daemon.addr, "GET", "/v1/invoices/F-0299", None);
    assert_eq!(status, 200, "{body}");
}
