//! Hostile request bodies never break the daemon (issue 15, the crash and hostile-input
//! runs): seeded mutations of valid bodies for every writing endpoint (JSON records and
//! events, case actions, agenda outcomes, deployments, and the files of the import endpoints:
//! CSV, `events.csv`, FEC, camt.053, batches) go to a real server on 127.0.0.1 over a real sled
//! store. Every answer must be a client error or a success, never a 5xx (a 500 is a panic or
//! an unhandled case), never a 401/403 (the caller may write, so the body is what is judged),
//! and the process keeps serving. Then the accepted data must run: the virtual clock advances
//! sixty days through the daily runs, every view, report, the outbox, the agenda and a backup
//! answer 200, `/healthz` says ok, and `relance store verify`'s check finds the store whole.
//!
//! The JSON mutations replace a value anywhere in the body with a hostile one (huge, negative
//! or sub-cent amounts, dates out of range or malformed, wrong types, long and odd strings),
//! remove or add a key, or duplicate an array item; the text mutations cut a file, flip or
//! insert bytes (NUL, non-UTF-8, a BOM, CRLF), duplicate or swap lines, or put a hostile value
//! in a cell. Paths take hostile ids too. Bounded: 500 requests for one seed (about ten
//! seconds in a debug build); a failure prints the seed, the request and its body.
//!
//! The readers' own hostile-input runs are `relance-data`'s and `relance-sim`'s
//! `never_panics`; this file tests what the HTTP layer adds on top of them (JSON shapes,
//! idempotency keys, paths, the write path, and the daily run over what was accepted).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{ADMIN, CREDIT, METRICS, TempDir, config, serve_engine};
use crate::workspace;
use relance_daemon::server::{self, ClockMode};
use relance_daemon::verify;

/// The requests sent per seed (`RELANCE_HOSTILE_REQUESTS` for a longer run by hand).
const REQUESTS: usize = 500;

/// A number from the environment, else `default` (a longer or other run by hand:
/// `RELANCE_HOSTILE_SEED=7 RELANCE_HOSTILE_REQUESTS=5000 cargo test -p relance-daemon --test it
/// hostile_http`).
fn from_env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Values that stand in for any JSON value.
fn hostile_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(""),
        json!(" "),
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(1e300),
        json!(u64::MAX),
        json!(i64::MIN),
        json!([]),
        json!({}),
        (0..40).fold(json!(1), |v, _| json!([v])),
        json!("0"),
        json!("-0"),
        json!("-5.00"),
        json!("0.001"),
        json!("1e5"),
        json!("NaN"),
        json!("79228162514264337593543950335"),
        json!("79228162514264337593543950336"),
        json!("1000000000000000.01"),
        json!("999999999999999.99"),
        json!("1 200,50"),
        json!("0001-01-01"),
        json!("9999-12-31"),
        json!("1899-12-31"),
        json!("2201-01-01"),
        json!("2026-02-30"),
        json!("2026-13-01"),
        json!("+10000-01-01"),
        json!("2026-01-01T00:00:00Z"),
        json!("=cmd|' /C calc'!A0"),
        json!("\u{0}"),
        json!("é\u{202e}\u{feff}"),
        json!("../../etc/passwd"),
        json!("x".repeat(10_000)),
        json!("F-1"),
        json!("ACME"),
        json!("EUR"),
        json!("XXX"),
        json!("pause"),
        json!("reached"),
        json!("quality"),
        json!("payment"),
        json!("b2c"),
    ]
}

/// Keys a mutation may add (known fields in the wrong place, unknown ones).
const KEYS: [&str; 12] = [
    "id",
    "amount",
    "date",
    "currency",
    "invoice",
    "customer",
    "type",
    "due",
    "issued",
    "installments",
    "unknown_field",
    "__proto__",
];

/// A writing endpoint and a valid body for it.
#[derive(Clone)]
enum Template {
    Json(&'static str, Value),
    Text(&'static str, &'static str, Vec<u8>),
}

/// The valid bodies the mutations start from.
fn templates() -> Vec<Template> {
    use Template::{Json, Text};
    let data = workspace().join("engine/data/tests-data/import");
    let read = |p: &Path| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let examples = workspace().join("examples");
    let customers = read(&examples.join("customers.csv"));
    let invoices = read(&examples.join("invoices.csv"));
    let payments = read(&examples.join("payments.csv"));
    let events = read(&examples.join("events.csv"));
    let fec = read(&data.join("fec/123456782FEC20251231.txt"));
    let camt = read(&data.join("camt053/relance-statement.xml"));
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    vec![
        Text("/v1/import/csv/customers", "text/csv", customers.clone()),
        Text("/v1/import/csv/invoices", "text/csv", invoices),
        Text("/v1/import/csv/payments", "text/csv", payments.clone()),
        Text("/v1/import/events", "text/csv", events),
        Text("/v1/import/fec", "text/plain", fec),
        Text("/v1/import/camt053", "application/xml", camt),
        Json(
            "/v1/customers",
            json!({"id": "HOSTILE", "segment": "b2b", "language": "fr",
            "contacts": {"accounting": {"email": "ap@hostile.example"}}}),
        ),
        Json(
            "/v1/invoices",
            json!({"id": "H-1", "customer": "ACME", "amount": "120.00",
            "currency": "EUR", "issued": "2026-01-05", "due": "2026-03-04",
            "installments": [{"due": "2026-02-04", "amount": "60.00"}, {"due": "2026-03-04", "amount": "60.00"}]}),
        ),
        Json(
            "/v1/import",
            json!({
                "customers": [{"id": "DELTA", "segment": "b2b", "late_interest_rate": "12"}],
                "invoices": [{"id": "D-1", "customer": "DELTA", "amount": "10.00", "issued": "2026-01-01", "due": "2026-01-31"}],
                "events": [{"date": "2026-01-20", "type": "payment", "invoice": "D-1", "amount": "4.00", "reference": "VIR-1"}]
            }),
        ),
        Json(
            "/v1/invoices/F-1/payments",
            json!({"amount": "10.00", "date": "2026-02-20", "reference": "R-1"}),
        ),
        Json(
            "/v1/invoices/F-1/credit-notes",
            json!({"amount": "5.00", "date": "2026-02-20"}),
        ),
        Json(
            "/v1/invoices/F-2/disputes",
            json!({"code": "quality", "amount": "20.00", "target_date": "2026-05-01"}),
        ),
        Json("/v1/invoices/F-2/disputes/resolve", json!({})),
        Json(
            "/v1/invoices/F-2/write-off",
            json!({"reason": "small balance"}),
        ),
        Json(
            "/v1/invoices/F-3/promises",
            json!({"amount": "100.00", "promised_date": "2026-04-20"}),
        ),
        Json(
            "/v1/invoices/F-3/task-outcomes",
            json!({"outcome": "reached"}),
        ),
        Json(
            "/v1/invoices/F-3/actions",
            json!({"action": "pause", "reason": "holiday", "until": "2026-04-20"}),
        ),
        Json("/v1/invoices/F-3/actions", json!({"action": "resume"})),
        Json(
            "/v1/events",
            json!([
                {"type": "risk_changed", "customer": "ACME", "risk_score": 30},
                {"type": "payment_reversed", "invoice": "F-1", "amount": "10.00", "reason": "other", "payment_date": "2026-02-20"},
                {"type": "contact_bounced", "customer": "ACME", "role": "accounting"},
                {"type": "tag_added", "customer": "ACME", "tag": "vip"}
            ]),
        ),
        Json(
            "/v1/agenda/1/outcome",
            json!({"outcome": "reached", "note": "called"}),
        ),
        Json(
            "/v1/scenarios",
            json!({"files": {"small.relance":
            "scenario small {\n  step reminder-1 at due + 10 days {\n    email \"reminder-1\" to accounting\n  }\n}\n"}}),
        ),
        Json(
            "/v1/import/batch",
            json!({"files": [
                {"name": "customers.csv", "format": "csv", "text": text(&customers)},
                {"name": "payments.csv", "format": "csv", "text": text(&payments)}
            ]}),
        ),
    ]
}

/// One JSON mutation of `v`, at a random place.
fn mutate_json(v: &mut Value, rng: &mut ChaCha8Rng, values: &[Value]) {
    // Walk down a random path, sometimes stopping early.
    let mut at = v;
    loop {
        let deeper = rng.random_bool(0.7);
        let next = match at {
            Value::Object(m) if deeper && !m.is_empty() => {
                let k = m.keys().nth(rng.random_range(0..m.len())).cloned();
                k.map(|k| (Some(k), None))
            }
            Value::Array(a) if deeper && !a.is_empty() => {
                Some((None, Some(rng.random_range(0..a.len()))))
            }
            _ => None,
        };
        match next {
            Some((Some(k), _)) => at = at.get_mut(&k).expect("key"),
            Some((None, Some(i))) => at = at.get_mut(i).expect("item"),
            _ => break,
        }
    }
    let hostile = values.choose(rng).expect("values").clone();
    match (rng.random_range(0..4), &mut *at) {
        (0, Value::Object(m)) if !m.is_empty() => {
            let k = m
                .keys()
                .nth(rng.random_range(0..m.len()))
                .cloned()
                .expect("key");
            m.remove(&k);
        }
        (1, Value::Object(m)) => {
            m.insert((*KEYS.choose(rng).expect("keys")).to_string(), hostile);
        }
        (2, Value::Array(a)) if !a.is_empty() => {
            let item = a[rng.random_range(0..a.len())].clone();
            a.push(item);
        }
        _ => *at = hostile,
    }
}

/// Cells a text mutation may write.
const CELLS: [&str; 14] = [
    "",
    "=HYPERLINK(\"http://x\")",
    "-0",
    "0.001",
    "1e400",
    "79228162514264337593543950336",
    "9999-12-31",
    "2026-02-30",
    "31/02/2026",
    "\"unclosed",
    "a;b,c\td",
    "<![CDATA[x]]>",
    "</Ntry>",
    "\u{0}",
];

/// One byte-level or line-level mutation of a file.
fn mutate_text(bytes: &mut Vec<u8>, rng: &mut ChaCha8Rng) {
    if bytes.is_empty() {
        bytes.extend_from_slice(b"\xff");
        return;
    }
    let at = rng.random_range(0..bytes.len());
    match rng.random_range(0..8) {
        0 => bytes.truncate(at),
        1 => bytes[at] = rng.random(),
        2 => bytes.splice(at..at, [0u8, 0xff, 0xfe]).for_each(drop),
        3 => bytes.splice(0..0, [0xef, 0xbb, 0xbf]).for_each(drop),
        4 => {
            *bytes = String::from_utf8_lossy(bytes)
                .replace('\n', "\r\n")
                .into_bytes()
        }
        5 | 6 => {
            let mut lines: Vec<Vec<u8>> =
                bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
            let i = rng.random_range(0..lines.len());
            let j = rng.random_range(0..lines.len());
            if rng.random_bool(0.5) {
                let line = lines[i].clone();
                lines.insert(j, line);
            } else {
                lines.swap(i, j);
            }
            *bytes = lines.join(&b'\n');
        }
        _ => {
            // Replace the cell (or XML text) around `at` with a hostile one.
            let stop = |b: &u8| matches!(b, b',' | b';' | b'|' | b'\t' | b'\n' | b'<' | b'>');
            let start = bytes[..at].iter().rposition(stop).map_or(0, |p| p + 1);
            let end = bytes[at..]
                .iter()
                .position(stop)
                .map_or(bytes.len(), |p| at + p);
            let cell = CELLS.choose(rng).expect("cells").as_bytes().to_vec();
            bytes.splice(start..end, cell).for_each(drop);
        }
    }
}

/// A path with its invoice id (if any) replaced by a hostile one, sometimes.
fn mutate_path(path: &str, rng: &mut ChaCha8Rng) -> String {
    let ids = [
        "F-404",
        "%2e%2e",
        "%00",
        "%C3%A9",
        "%FF",
        "a%2Fb",
        "F-1%20",
        "1",
        "99999999999999999999",
    ];
    let long = "L".repeat(5_000);
    if !path.starts_with("/v1/invoices/") && !path.starts_with("/v1/agenda/")
        || rng.random_bool(0.75)
    {
        return path.to_string();
    }
    let mut parts: Vec<&str> = path.split('/').collect();
    parts[3] = if rng.random_bool(0.1) {
        &long
    } else {
        ids.choose(rng).expect("ids")
    };
    parts.join("/")
}

/// What a request answered, for the report.
struct Sent {
    status: StatusCode,
    text: String,
}

async fn send(
    client: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
    token: &str,
    body: Option<(&str, Vec<u8>)>,
    key: Option<String>,
) -> Sent {
    let mut req = client
        .request(method, format!("{base}{path}"))
        .bearer_auth(token);
    if let Some((kind, bytes)) = body {
        req = req.header("Content-Type", kind).body(bytes);
    }
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    let resp = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: no answer: {e}"));
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    Sent { status, text }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_get_client_errors_and_leave_a_store_that_runs() {
    let seed = from_env("RELANCE_HOSTILE_SEED", 15);
    let requests = from_env("RELANCE_HOSTILE_REQUESTS", REQUESTS as u64) as usize;
    let dir = TempDir::new("hostile-http");
    let config = config(&dir.0);
    let scenarios = workspace().join("stdlib-scenarios");
    let engine = server::open(
        &config,
        ClockMode::Virtual {
            start: "2026-04-01".parse().ok(),
        },
        Some(&scenarios),
    )
    .expect("engine");
    engine.catch_up(engine.today()).expect("first run");
    let (base, client) = serve_engine(Arc::clone(&engine), config, Duration::from_secs(60)).await;

    let base_portfolio = json!({
        "customers": [
            {"id": "ACME", "segment": "b2b", "language": "fr",
             "contacts": {"accounting": {"email": "compta@acme.example"}}},
            {"id": "BETA", "segment": "b2c", "language": "en",
             "contacts": {"accounting": {"email": "ap@beta.example"}}}
        ],
        "invoices": [
            {"id": "F-1", "customer": "ACME", "amount": "1200.00", "issued": "2025-12-01", "due": "2025-12-31"},
            {"id": "F-2", "customer": "ACME", "amount": "300.00", "issued": "2025-12-10", "due": "2026-01-09"},
            {"id": "F-3", "customer": "BETA", "amount": "5000.00", "issued": "2026-01-02", "due": "2026-02-01"}
        ]
    });
    let body = serde_json::to_vec(&base_portfolio).expect("json");
    let sent = send(
        &client,
        &base,
        Method::POST,
        "/v1/import",
        CREDIT,
        Some(("application/json", body)),
        None,
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    let sent = send(&client, &base, Method::POST, "/v1/run", ADMIN, None, None).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);

    let templates = templates();
    // Each template, as it is, is a body the daemon accepts (the agenda outcome's item may not
    // exist yet): the mutations start from valid requests, so they reach the checks behind
    // the parsing.
    for template in &templates {
        let (path, kind, bytes) = match template {
            Template::Json(path, v) => (
                *path,
                "application/json",
                serde_json::to_vec(v).expect("json"),
            ),
            Template::Text(path, kind, bytes) => (*path, *kind, bytes.clone()),
        };
        let sent = send(
            &client,
            &base,
            Method::POST,
            path,
            CREDIT,
            Some((kind, bytes)),
            None,
        )
        .await;
        let absent = sent.status == StatusCode::NOT_FOUND && path.starts_with("/v1/agenda/");
        assert!(
            sent.status.is_success() || absent,
            "the template of {path}: {} {}",
            sent.status,
            sent.text
        );
    }

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let values = hostile_values();
    let (mut accepted, mut refused) = (0usize, 0usize);
    for n in 0..requests {
        let template = templates.choose(&mut rng).expect("templates").clone();
        let mutations = rng.random_range(0..=3);
        let (path, kind, bytes) = match template {
            Template::Json(path, mut v) => {
                for _ in 0..mutations {
                    mutate_json(&mut v, &mut rng, &values);
                }
                let mut bytes = serde_json::to_vec(&v).expect("json");
                if rng.random_bool(0.05) {
                    mutate_text(&mut bytes, &mut rng);
                }
                (path, "application/json", bytes)
            }
            Template::Text(path, kind, mut bytes) => {
                for _ in 0..mutations {
                    mutate_text(&mut bytes, &mut rng);
                }
                (path, kind, bytes)
            }
        };
        let path = mutate_path(path, &mut rng);
        let key = rng.random_bool(0.2).then(|| {
            ["k-1", "k-2", "", "\t", &"k".repeat(2_000)]
                .choose(&mut rng)
                .expect("keys")
                .to_string()
        });
        let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(600)]).into_owned();
        let sent = send(
            &client,
            &base,
            Method::POST,
            &path,
            CREDIT,
            Some((kind, bytes)),
            key,
        )
        .await;
        assert!(
            !sent.status.is_server_error()
                && sent.status != StatusCode::UNAUTHORIZED
                && sent.status != StatusCode::FORBIDDEN,
            "seed {seed}, request {n}: POST {path} answered {}: {}\nbody: {shown}",
            sent.status,
            sent.text
        );
        if sent.status.is_success() {
            accepted += 1;
        } else {
            refused += 1;
        }
        if n % 50 == 49 {
            let health = send(&client, &base, Method::GET, "/healthz", CREDIT, None, None).await;
            assert_eq!(
                health.status,
                StatusCode::OK,
                "seed {seed}, after {n}: {}",
                health.text
            );
        }
    }
    // The run judged bodies both ways: some were accepted, some refused.
    eprintln!("seed {seed}: {accepted} accepted, {refused} refused");
    assert!(
        accepted >= requests / 25 && refused >= requests / 5,
        "seed {seed}: accepted {accepted}, refused {refused}"
    );

    // What was accepted runs: sixty days of daily runs, then every read answers.
    for _ in 0..6 {
        let body = serde_json::to_vec(&json!({"days": 10})).expect("json");
        let sent = send(
            &client,
            &base,
            Method::POST,
            "/v1/clock/advance",
            ADMIN,
            Some(("application/json", body)),
            None,
        )
        .await;
        assert_eq!(sent.status, StatusCode::OK, "seed {seed}: {}", sent.text);
    }
    let mut reads = vec![
        ("/healthz", CREDIT),
        ("/metrics", METRICS),
        ("/v1/outbox", CREDIT),
        ("/v1/outbox?status=delivered", CREDIT),
        ("/v1/agenda", CREDIT),
        ("/v1/scenarios", CREDIT),
        ("/v1/reports/aged", CREDIT),
        ("/v1/reports/dso", CREDIT),
        ("/v1/reports/activity", CREDIT),
        ("/v1/reports/behaviour", CREDIT),
        ("/v1/backup", ADMIN),
    ];
    let view = |p: &str| -> String {
        if p.contains('-') {
            format!("/v1/invoices/{p}")
        } else {
            format!("/v1/customers/{p}")
        }
    };
    // The base portfolio's records must be there; the mutated bodies' own may not be.
    let must: Vec<String> = ["ACME", "BETA", "F-1", "F-2", "F-3"].map(view).to_vec();
    let may: Vec<String> = ["DELTA", "HOSTILE", "H-1", "D-1"].map(view).to_vec();
    reads.extend(must.iter().map(|p| (p.as_str(), CREDIT)));
    for (path, token) in reads
        .into_iter()
        .chain(may.iter().map(|p| (p.as_str(), CREDIT)))
    {
        let sent = send(&client, &base, Method::GET, path, token, None, None).await;
        let absent = sent.status == StatusCode::NOT_FOUND && may.iter().any(|m| m == path);
        assert!(
            sent.status == StatusCode::OK || absent,
            "seed {seed}: GET {path} answered {}: {}",
            sent.status,
            &sent.text[..sent.text.len().min(2_000)]
        );
    }
    engine.flush().expect("flush");
    let report = verify::verify(engine.store()).expect("verify");
    assert!(report.ok(), "seed {seed}: {}", report.summary());
}
