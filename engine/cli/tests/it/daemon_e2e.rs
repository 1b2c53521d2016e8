//! End to end with the real `relance` binary: `relance serve --clock virtual` against an SMTP
//! server and a webhook receiver started here on 127.0.0.1, a small portfolio loaded through
//! the API, 120 virtual days. Then the same run while the daemon is killed with SIGKILL at
//! seeded random moments (at least 20 times) and restarted: every message arrives, final
//! states and timelines equal the uninterrupted run's, and every duplicate carries the
//! Message-ID / Idempotency-Key (and content) of its original. Bounded: every wait has a
//! deadline, the daemon is stopped (SIGTERM) at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::support::TempDir;

const TOKEN: &str = "e2e-admin-token-000001";
const DAYS: u64 = 120;

fn start_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 5).expect("date")
}

// ----- an SMTP server (mailin-embedded) that records what it receives (`crash.rs` uses it too) ---------------------

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Mail {
    pub to: Vec<String>,
    pub message_id: String,
    pub subject: String,
}

#[derive(Clone)]
struct Smtp {
    received: Arc<Mutex<Vec<Mail>>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl mailin_embedded::Handler for Smtp {
    fn rcpt(&mut self, to: &str) -> mailin_embedded::Response {
        if to.starts_with("bounce@") {
            mailin_embedded::response::NO_MAILBOX
        } else {
            mailin_embedded::response::OK
        }
    }
    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        self.to = to.to_vec();
        self.data.clear();
        mailin_embedded::response::OK
    }
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }
    fn data_end(&mut self) -> mailin_embedded::Response {
        let text = String::from_utf8_lossy(&self.data).into_owned();
        // Unfold the header lines, then decode RFC 2047 words.
        let mut headers: Vec<String> = Vec::new();
        for l in text.lines() {
            if l.is_empty() {
                break;
            }
            match (l.starts_with([' ', '\t']), headers.last_mut()) {
                (true, Some(last)) => last.push_str(l),
                _ => headers.push(l.to_string()),
            }
        }
        let header = |name: &str| {
            headers
                .iter()
                .find_map(|l| l.strip_prefix(name).map(|v| decode_words(v.trim())))
                .unwrap_or_default()
        };
        let mut to = self.to.clone();
        to.sort();
        let mail = Mail {
            to,
            message_id: header("Message-ID:"),
            subject: header("Subject:"),
        };
        if let Ok(mut r) = self.received.lock() {
            r.push(mail);
        }
        mailin_embedded::response::OK
    }
}

fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for v in text.bytes().filter_map(value) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// Decodes `=?utf-8?b?...?=` words (whitespace between two words is dropped).
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, after) = rest.split_at(start);
        if !(last_was_word && before.trim().is_empty()) {
            out.push_str(before);
        }
        let parts: Vec<&str> = after[2..].splitn(3, '?').collect();
        let Some(end) = parts.get(2).and_then(|p| p.find("?=")) else {
            out.push_str(after);
            return out;
        };
        let encoded = &parts[2][..end];
        if parts[1].eq_ignore_ascii_case("b") {
            out.push_str(&String::from_utf8_lossy(&base64(encoded)));
        } else {
            out.push_str(&encoded.replace('_', " "));
        }
        rest = &parts[2][end + 2..];
        last_was_word = true;
    }
    out.push_str(rest);
    out
}

pub(crate) fn start_smtp() -> (u16, Arc<Mutex<Vec<Mail>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("smtp bind");
    let port = listener.local_addr().expect("addr").port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let mut server = mailin_embedded::Server::new(Smtp {
        received: received.clone(),
        to: vec![],
        data: vec![],
    });
    server.with_name("smtp.test").with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    (port, received)
}

// ----- a webhook receiver: one request per connection ------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hook {
    pub path: String,
    pub key: String,
    pub body: String,
}

fn handle_hook(mut stream: TcpStream, hooks: &Mutex<Vec<Hook>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    // A sender killed mid-request closes the connection early: such a request was never
    // delivered, so end of input anywhere before the body is complete records nothing.
    let eof = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "request cut short");
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(eof());
    }
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let (mut length, mut key) = (0usize, String::new());
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            return Err(eof());
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "idempotency-key" => key = value.trim().to_string(),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    if let Ok(mut h) = hooks.lock() {
        h.push(Hook {
            path,
            key,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
    }
    stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
}

pub(crate) fn start_hooks() -> (u16, Arc<Mutex<Vec<Hook>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("hook bind");
    let port = listener.local_addr().expect("addr").port();
    let hooks = Arc::new(Mutex::new(Vec::new()));
    let shared = hooks.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = handle_hook(stream, &shared);
        }
    });
    (port, hooks)
}

// ----- the daemon --------------------------------------------------------------------------

fn root() -> PathBuf {
    crate::workspace()
}

/// A daemon's config for the tests that start `relance serve`: the store (`store` URL, else
/// sled in `data/`), the stdlib set, the SMTP sink and the webhook receiver on loopback, fast
/// retries, one admin token. Also the crash run's (`crash.rs`).
pub(crate) fn write_config(
    dir: &Path,
    store: Option<&str>,
    token: &str,
    smtp: u16,
    hooks: u16,
) -> PathBuf {
    let store_line = match store {
        Some(url) => format!("store = \"{url}\"\n"),
        None => String::new(),
    };
    let text = format!(
        r#"{store_line}listen = "127.0.0.1:0"
data = "{data}"
spool = "{spool}"
scenarios = "{scenarios}"
[company]
name = "Example SA"
iban = "FR76 0000"
email = "credit@example.com"
[email]
transport = "smtp"
from = "Example SA <credit@example.com>"
host = "127.0.0.1"
port = {smtp}
tls = "none"
timeout_secs = 5
[sms]
url = "http://127.0.0.1:{hooks}/sms"
[webhooks.insurer]
url = "http://127.0.0.1:{hooks}/insurer"
[webhooks.escalation]
url = "http://127.0.0.1:{hooks}/escalation"
[outbox]
base_delay_ms = 100
max_delay_ms = 1000
poll_ms = 20
[[tokens]]
name = "test"
token = "{token}"
role = "admin"
"#,
        data = dir.join("data").display(),
        spool = dir.join("spool").display(),
        scenarios = crate::workspace().join("stdlib-scenarios").display(),
    );
    let path = dir.join("relance.toml");
    std::fs::write(&path, text).expect("config");
    path
}

struct Daemon {
    child: Child,
    base: String,
}

fn spawn(config: &Path, log: &Path) -> Daemon {
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_relance"))
        .args([
            "serve",
            "--clock",
            "virtual",
            "--start",
            &start_day().to_string(),
            "--config",
        ])
        .arg(config)
        .arg("--scenarios")
        .arg(root().join("stdlib-scenarios"))
        .env("RELANCE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("relance serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("relance: listening on ") {
                let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("the daemon did not start: see {}", log.display()));
    Daemon {
        child,
        base: format!("http://{addr}"),
    }
}

fn kill9(child: &mut Child) {
    let _ = child.kill(); // SIGKILL on Unix
    let _ = child.wait();
}

fn terminate(mut d: Daemon) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(d.child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match d.child.try_wait() {
            Ok(Some(status)) => {
                assert!(status.success(), "graceful shutdown exits 0: {status}");
                return;
            }
            _ if Instant::now() > deadline => {
                kill9(&mut d.child);
                panic!("no graceful shutdown within 20 s");
            }
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

struct Api {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Api {
    fn new() -> Api {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Api { rt, client }
    }

    /// `None` when the daemon is gone (killed).
    fn call(
        &self,
        d: &Daemon,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Option<(u16, Value)> {
        self.rt.block_on(async {
            let mut req = self
                .client
                .request(method, format!("{}{path}", d.base))
                .bearer_auth(TOKEN);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.ok()?;
            let status = resp.status().as_u16();
            Some((status, resp.json().await.ok()?))
        })
    }
}

fn portfolio() -> Value {
    let contact = |email: &str| json!({"accounting": {"email": email, "phone": "+33100000000"}});
    json!({
        "customers": [
            {"id": "ACME", "name": "Acme", "segment": "b2b", "risk_score": 20, "language": "fr", "contacts": contact("compta@acme.example")},
            {"id": "BETA", "segment": "b2b", "risk_score": 10, "language": "en", "contacts": contact("ap@beta.example")},
            {"id": "DUPONT", "name": "Claire Dupont", "segment": "b2c", "language": "fr",
             "contacts": {"main": {"email": "claire@dupont.example", "phone": "+33600000001", "address": "1 rue de la Paix\n75002 Paris"}}},
            {"id": "INSURED", "segment": "b2b", "credit_insured": true, "language": "fr", "contacts": contact("compta@insured.example")},
            {"id": "BOUNCY", "segment": "b2b", "risk_score": 30, "language": "fr", "contacts": contact("bounce@bouncy.example")}
        ],
        "invoices": [
            {"id": "F-1", "customer": "ACME", "amount": "1200.00", "issued": "2025-12-01", "due": "2025-12-31"},
            {"id": "F-2", "customer": "ACME", "amount": "300.00", "issued": "2026-01-02", "due": "2026-02-01"},
            {"id": "F-3", "customer": "BETA", "amount": "5000.00", "issued": "2026-01-05", "due": "2026-02-04"},
            {"id": "F-4", "customer": "BETA", "amount": "800.00", "issued": "2026-02-01", "due": "2026-03-03"},
            {"id": "C-1", "customer": "DUPONT", "amount": "180.00", "issued": "2026-01-10", "due": "2026-02-09"},
            {"id": "I-1", "customer": "INSURED", "amount": "4000.00", "issued": "2026-01-02", "due": "2026-02-01"},
            {"id": "B-1", "customer": "BOUNCY", "amount": "900.00", "issued": "2026-01-02", "due": "2026-01-20"}
        ]
    })
}

const INVOICES: [&str; 7] = ["F-1", "F-2", "F-3", "F-4", "C-1", "I-1", "B-1"];

/// What a run leaves behind.
struct Outcome {
    mails: Vec<Mail>,
    hooks: Vec<Hook>,
    /// Invoice → (case, timeline).
    states: BTreeMap<String, Value>,
    delivered: Vec<Value>,
    dead: Vec<Value>,
    kills: usize,
    seconds: f64,
}

/// Imports the portfolio, then advances the clock one day at a time, waiting each day until
/// the outbox has nothing left to try; `kills` SIGKILLs land at seeded random moments.
fn run(tag: &str, kills: usize, seed: u64) -> Outcome {
    let started = Instant::now();
    let dir = TempDir::new(tag);
    let (smtp, mails) = start_smtp();
    let (hook_port, hooks) = start_hooks();
    let config = write_config(&dir.0, None, TOKEN, smtp, hook_port);
    let log = dir.0.join("daemon.log");
    let api = Api::new();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut killed = 0;
    let mut imported = false;
    let mut day = 0u64;
    let deadline = Instant::now() + Duration::from_secs(240);
    let daemon = 'outer: loop {
        assert!(
            Instant::now() < deadline,
            "run {tag} took too long ({killed} kills, day {day})"
        );
        let mut d = spawn(&config, &log);
        let killer = (killed < kills).then(|| {
            let pid = d.child.id();
            let delay = Duration::from_millis(rng.random_range(20..600));
            std::thread::spawn(move || {
                std::thread::sleep(delay);
                let _ = Command::new("kill")
                    .arg("-KILL")
                    .arg(pid.to_string())
                    .status();
            })
        });
        let alive = |api: &Api, d: &Daemon, ok: Option<(u16, Value)>| -> Option<Value> {
            let _ = (api, d);
            match ok {
                Some((200, v)) => Some(v),
                Some((status, v)) => panic!("unexpected {status}: {v}"),
                None => None,
            }
        };
        let mut lost = false;
        if !imported {
            match alive(
                &api,
                &d,
                api.call(&d, reqwest::Method::POST, "/v1/import", Some(portfolio())),
            ) {
                Some(_) => imported = true,
                None => lost = true,
            }
        }
        while !lost && day <= DAYS {
            let target = start_day().checked_add_days(Days::new(day)).expect("date");
            if alive(
                &api,
                &d,
                api.call(
                    &d,
                    reqwest::Method::POST,
                    "/v1/clock/advance",
                    Some(json!({"to": target})),
                ),
            )
            .is_none()
            {
                lost = true;
                break;
            }
            // Wait for the outbox to settle (nothing pending or retrying).
            let settle = Instant::now() + Duration::from_secs(30);
            loop {
                match alive(
                    &api,
                    &d,
                    api.call(&d, reqwest::Method::GET, "/v1/outbox", None),
                ) {
                    None => {
                        lost = true;
                        break;
                    }
                    Some(o) if o["counts"]["pending"] == 0 && o["counts"]["retrying"] == 0 => break,
                    Some(o) => assert!(
                        Instant::now() < settle,
                        "the outbox does not settle on day {day}: {o}"
                    ),
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            if !lost {
                day += 1;
            }
        }
        if let Some(k) = killer {
            let _ = k.join();
            kill9(&mut d.child);
            killed += 1;
            continue 'outer;
        }
        if lost {
            kill9(&mut d.child);
            panic!(
                "the daemon died without being killed: see {}",
                log.display()
            );
        }
        break d;
    };
    let mut states = BTreeMap::new();
    for id in INVOICES {
        let (_, v) = api
            .call(
                &daemon,
                reqwest::Method::GET,
                &format!("/v1/invoices/{id}"),
                None,
            )
            .expect("invoice");
        states.insert(
            id.to_string(),
            json!({"case": v["case"], "timeline": v["timeline"], "next_tick": v["next_tick"]}),
        );
    }
    let (_, delivered) = api
        .call(
            &daemon,
            reqwest::Method::GET,
            "/v1/outbox?status=delivered&limit=10000",
            None,
        )
        .expect("outbox");
    let (_, dead) = api
        .call(
            &daemon,
            reqwest::Method::GET,
            "/v1/outbox?status=dead",
            None,
        )
        .expect("outbox");
    terminate(daemon);
    let mails = mails.lock().map(|m| m.clone()).unwrap_or_default();
    let hooks = hooks.lock().map(|h| h.clone()).unwrap_or_default();
    Outcome {
        mails,
        hooks,
        states,
        delivered: delivered["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
        dead: dead["messages"].as_array().cloned().unwrap_or_default(),
        kills: killed,
        seconds: started.elapsed().as_secs_f64(),
    }
}

fn by_id(mails: &[Mail]) -> BTreeMap<String, Mail> {
    mails
        .iter()
        .map(|m| (m.message_id.clone(), m.clone()))
        .collect()
}

fn by_key(hooks: &[Hook]) -> BTreeMap<String, Hook> {
    hooks.iter().map(|h| (h.key.clone(), h.clone())).collect()
}

#[test]
fn end_to_end_then_crash_safety_under_sigkill() {
    // 1. The uninterrupted run.
    let clean = run("clean", 0, 0);
    eprintln!(
        "clean run: {} emails, {} webhooks, {} delivered, {} dead, {:.1} s",
        clean.mails.len(),
        clean.hooks.len(),
        clean.delivered.len(),
        clean.dead.len(),
        clean.seconds
    );
    assert!(clean.mails.len() >= 8, "{:?}", clean.mails);
    let ids = by_id(&clean.mails);
    assert_eq!(
        ids.len(),
        clean.mails.len(),
        "one Message-ID per email, none sent twice without a crash"
    );
    // Every email is deterministic: its Message-ID derives from its first action's key.
    for m in clean.delivered.iter().filter(|m| m["channel"] == "email") {
        let expected = m["rendered"]["message_id"].as_str().expect("message id");
        let key = m["key"].as_str().expect("key");
        assert!(
            expected.starts_with("<relance.") && expected.ends_with("@example.com>"),
            "{expected}"
        );
        assert!(
            expected.contains(&key.replace('/', ".")[..key.find('/').unwrap_or(0)]),
            "{expected} from {key}"
        );
        let got = ids
            .get(expected)
            .unwrap_or_else(|| panic!("email {expected} not received"));
        let mut to: Vec<String> = m["rendered"]["to"]
            .as_array()
            .expect("to")
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect();
        to.extend(
            m["rendered"]["cc"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(String::from)),
        );
        to.sort();
        assert_eq!(got.to, to, "recipients of {expected}");
        assert_eq!(
            Some(got.subject.as_str()),
            m["rendered"]["subject"].as_str(),
            "subject of {expected}"
        );
    }
    // A French first reminder to ACME's accounting, listing F-1.
    assert!(
        clean
            .mails
            .iter()
            .any(|m| m.to == ["compta@acme.example"] && m.subject.contains("rappel")),
        "{:?}",
        clean
            .mails
            .iter()
            .map(|m| (&m.to, &m.subject))
            .collect::<Vec<_>>()
    );
    assert!(
        clean.mails.iter().any(|m| m.to == ["ap@beta.example"]),
        "English customer reached"
    );
    // Webhooks and SMS carry an Idempotency-Key equal to the message key.
    assert!(
        clean.hooks.iter().any(|h| h.path == "/insurer"),
        "{:?}",
        clean.hooks
    );
    assert!(
        clean.hooks.iter().any(|h| h.path == "/sms"),
        "{:?}",
        clean.hooks
    );
    assert!(clean.hooks.iter().all(|h| !h.key.is_empty()));
    assert_eq!(by_key(&clean.hooks).len(), clean.hooks.len());
    // The bounced address: a dead letter and `contact bounced` in B-1's timeline.
    assert!(clean.dead.iter().any(|m| {
        m["customer"] == "BOUNCY"
            && m["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("bounced"))
    }));
    let b1 = clean.states["B-1"]["timeline"].to_string();
    assert!(b1.contains("contact accounting bounced"), "{b1}");

    // 2. The same run, killed with SIGKILL at random moments and restarted.
    let crashed = run("crash", 24, 20260105);
    eprintln!(
        "crash run: {} kills, {} emails received ({} distinct), {} webhooks ({} distinct), {:.1} s",
        crashed.kills,
        crashed.mails.len(),
        by_id(&crashed.mails).len(),
        crashed.hooks.len(),
        by_key(&crashed.hooks).len(),
        crashed.seconds
    );
    assert!(crashed.kills >= 20);
    // Every expected message arrived; nothing unexpected did.
    let (clean_ids, crash_ids) = (by_id(&clean.mails), by_id(&crashed.mails));
    assert_eq!(
        clean_ids.keys().collect::<BTreeSet<_>>(),
        crash_ids.keys().collect::<BTreeSet<_>>()
    );
    // Duplicates carry the Message-ID of their original, with the same content.
    for m in &crashed.mails {
        assert_eq!(
            Some(m),
            clean_ids.get(&m.message_id),
            "an email differs from the uninterrupted run"
        );
    }
    let (clean_keys, crash_keys) = (by_key(&clean.hooks), by_key(&crashed.hooks));
    assert_eq!(
        clean_keys.keys().collect::<BTreeSet<_>>(),
        crash_keys.keys().collect::<BTreeSet<_>>()
    );
    for h in &crashed.hooks {
        assert_eq!(
            Some(h),
            clean_keys.get(&h.key),
            "a webhook differs from the uninterrupted run"
        );
    }
    // Final states and timelines equal the uninterrupted run's.
    assert_eq!(clean.states, crashed.states);
    assert_eq!(clean.delivered.len(), crashed.delivered.len());
}
