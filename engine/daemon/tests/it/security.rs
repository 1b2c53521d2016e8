//! The daemon's security properties against a real server on 127.0.0.1 (port 0): CSV exports
//! that carry no live spreadsheet formula, `/metrics` behind a token and fed by kept counts,
//! slow clients cut off by the HTTP server's deadlines without stalling others, the connection
//! limit, and error answers that tell a role nothing it may not read (the integration role
//! learns nothing about stored invoices from a refusal; a credit-manager learns nothing about
//! the server's files). Constant-time token lookup is tested in `src/api/auth.rs`, the kept
//! tree counts in `src/store.rs`.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{
    ADMIN, CREDIT, INTEGRATION, METRICS, SALES, TempDir, config, serve, serve_with,
};

const TODAY: &str = "2026-03-02";

struct Server {
    base: String,
    client: reqwest::Client,
    _dir: TempDir,
}

impl Server {
    async fn start(tag: &str) -> Server {
        let dir = TempDir::new(tag);
        let (base, client) = serve(&dir.0, TODAY, Duration::from_secs(30)).await;
        Server {
            base,
            client,
            _dir: dir,
        }
    }

    /// A request: status, the answer as JSON (or its text as a string) and its text.
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value, String) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        let value = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()));
        (status, value, text)
    }

    /// A file upload (`POST` of raw bytes).
    async fn upload(&self, path: &str, token: &str, body: &str) -> (StatusCode, Value) {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .body(body.to_string())
            .send()
            .await
            .expect("upload");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

/// Customers whose ids and names are spreadsheet formulas, their overdue invoices and a
/// payment (so that every report has rows about them).
fn hostile_portfolio() -> Value {
    json!({
        "customers": [
            {"id": "@SUM(1+1)", "name": "=cmd|' /C calc'!A0", "segment": "b2b", "language": "fr",
             "contacts": {"accounting": {"email": "a@x.example"}}},
            {"id": "+ACME", "name": "-2+3", "segment": "b2b", "language": "fr",
             "contacts": {"accounting": {"email": "b@x.example"}}},
            {"id": "-MINUS", "name": "=HYPERLINK(\"http://evil.example\",\"x\")", "segment": "b2b",
             "language": "fr", "contacts": {"accounting": {"email": "c@x.example"}}},
            {"id": "PLAIN", "name": "\tTabbed", "segment": "b2b", "language": "fr",
             "contacts": {"accounting": {"email": "d@x.example"}}}
        ],
        "invoices": [
            {"id": "=F1", "customer": "@SUM(1+1)", "amount": "100.00", "currency": "EUR",
             "issued": "2025-11-01", "due": "2025-12-01"},
            {"id": "F-2", "customer": "+ACME", "amount": "50.00", "currency": "EUR",
             "issued": "2025-12-01", "due": "2025-12-31"},
            {"id": "F-3", "customer": "-MINUS", "amount": "70.00", "currency": "EUR",
             "issued": "2026-01-01", "due": "2026-01-31"},
            {"id": "F-4", "customer": "PLAIN", "amount": "30.00", "currency": "EUR",
             "issued": "2026-01-01", "due": "2026-02-20"}
        ],
        "events": [
            {"type": "payment", "invoice": "F-2", "amount": "20.00", "date": "2026-01-15"},
            {"type": "payment", "invoice": "F-4", "amount": "10.00", "date": "2026-02-25"},
            {"type": "credit_note", "invoice": "=F1", "amount": "10.00", "date": "2026-02-01"}
        ]
    })
}

/// The cells of a CSV text.
fn cells(text: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    reader
        .records()
        .flat_map(|r| {
            r.expect("a CSV record")
                .iter()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_reports_carry_no_live_formula() {
    let s = Server::start("sec-csv").await;
    let (st, _, text) = s
        .call(
            Method::POST,
            "/v1/import",
            Some(ADMIN),
            Some(&hostile_portfolio()),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{text}");
    // Each CSV report and the hostile texts it must show neutralised (a leading quote).
    let rows: [(&str, &[&str]); 4] = [
        (
            "/v1/reports/aged?format=csv",
            &[
                "'@SUM(1+1)",
                "'=cmd|' /C calc'!A0",
                "'+ACME",
                "'-2+3",
                "'-MINUS",
                "'=HYPERLINK(\"http://evil.example\",\"x\")",
                "'\tTabbed",
            ],
        ),
        (
            "/v1/reports/behaviour?format=csv",
            &["'@SUM(1+1)", "'+ACME", "'-MINUS"],
        ),
        ("/v1/reports/dso?format=csv", &[]),
        ("/v1/reports/activity?format=csv", &[]),
    ];
    for (path, neutralised) in rows {
        let (st, _, text) = s.call(Method::GET, path, Some(SALES), None).await;
        assert_eq!(st, StatusCode::OK, "{path}: {text}");
        let cells = cells(&text);
        for cell in &cells {
            let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
            assert!(
                !formula || cell.parse::<Decimal>().is_ok(),
                "{path}: the cell {cell:?} would be evaluated as a formula:\n{text}"
            );
        }
        for want in neutralised {
            assert!(
                cells.iter().any(|c| c == want),
                "{path}: no cell {want:?}:\n{text}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_a_token_unless_configured_public() {
    let closed = Server::start("sec-metrics").await;
    let dir = TempDir::new("sec-metrics-public");
    let (open_base, open_client) = serve_with(
        relance_daemon::config::Config {
            metrics_public: true,
            ..config(&dir.0)
        },
        TODAY,
        Duration::from_secs(30),
    )
    .await;
    let open = Server {
        base: open_base,
        client: open_client,
        _dir: dir,
    };
    // (server, path, token, status)
    let rows = [
        (&closed, "/metrics", None, 401),
        (&closed, "/metrics", Some("not-a-token-at-all"), 401),
        (&closed, "/metrics", Some("metrics-token-0000000"), 401),
        (&closed, "/metrics", Some(METRICS), 200),
        (&closed, "/metrics", Some(SALES), 200),
        (&closed, "/metrics", Some(INTEGRATION), 200),
        (&closed, "/metrics", Some(ADMIN), 200),
        (&closed, "/v1/reports/aged", Some(METRICS), 403),
        (&closed, "/healthz", None, 200),
        (&open, "/metrics", None, 200),
        (&open, "/metrics", Some(METRICS), 200),
        (&open, "/v1/reports/aged", None, 401),
    ];
    for (i, (server, path, token, want)) in rows.into_iter().enumerate() {
        let (st, _, text) = server.call(Method::GET, path, token, None).await;
        assert_eq!(st.as_u16(), want, "row {i}: {path} with {token:?}: {text}");
        if want == 200 && path == "/metrics" {
            assert!(text.contains("relance_invoices "), "row {i}: {text}");
        }
    }
}

/// The value of a metric in a Prometheus text.
fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_gauges_follow_the_writes() {
    let s = Server::start("sec-gauges").await;
    let scrape = || async {
        let (st, _, text) = s.call(Method::GET, "/metrics", Some(METRICS), None).await;
        assert_eq!(st, StatusCode::OK);
        text
    };
    let before = scrape().await;
    assert_eq!(metric(&before, "relance_invoices"), 0);
    let (st, _, text) = s
        .call(
            Method::POST,
            "/v1/import",
            Some(ADMIN),
            Some(&hostile_portfolio()),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{text}");
    let (st, _, text) = s
        .call(
            Method::POST,
            "/v1/clock/advance",
            Some(ADMIN),
            Some(&json!({"days": 3})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{text}");
    let after = scrape().await;
    let (_, outbox, _) = s.call(Method::GET, "/v1/outbox", Some(CREDIT), None).await;
    let undelivered = ["pending", "retrying", "dead"]
        .iter()
        .map(|k| outbox["counts"][k].as_u64().expect("a count"))
        .sum::<u64>();
    assert_eq!(metric(&after, "relance_invoices"), 4, "{after}");
    assert_eq!(metric(&after, "relance_cases"), 4, "{after}");
    assert_eq!(
        metric(&after, "relance_outbox_undelivered"),
        undelivered,
        "{after}\n{outbox}"
    );
    assert!(
        undelivered > 0,
        "the overdue invoices have messages: {outbox}"
    );
    assert!(metric(&after, "relance_api_writes_total") >= 1, "{after}");
}

/// What a slow client sends before it stops, and whether the server then answers it (408)
/// or only closes the connection.
struct Slow {
    name: &'static str,
    sends: &'static str,
    answer: Option<&'static str>,
}

/// Whether the server has closed `stream` (end of stream or reset); waits up to `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> (bool, String) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return (false, String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(0)) | Ok(Err(_)) => return (true, String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Whether the server has already closed `stream`, without waiting.
fn already_closed(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 1];
    match stream.try_read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_and_do_not_stall_others() {
    let dir = TempDir::new("sec-slow");
    let mut cfg = config(&dir.0);
    cfg.http.header_timeout_secs = 3;
    cfg.http.body_timeout_secs = 3;
    cfg.http.max_connections = 16;
    let (base, client) = serve_with(cfg, TODAY, Duration::from_secs(30)).await;
    let addr = base.trim_start_matches("http://").to_string();
    let body_head: &'static str = Box::leak(
        format!(
            "POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"id\": \"SLO"
        )
        .into_boxed_str(),
    );
    let rows = [
        Slow {
            name: "connects and sends nothing",
            sends: "",
            answer: None,
        },
        Slow {
            name: "sends half its headers",
            sends: "GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: slo",
            answer: None,
        },
        Slow {
            name: "sends its headers and part of its body",
            sends: body_head,
            answer: Some("HTTP/1.1 408"),
        },
    ];
    let mut slow = Vec::new();
    for row in &rows {
        let mut stream = TcpStream::connect(&addr).await.expect("connect");
        stream
            .write_all(row.sends.as_bytes())
            .await
            .expect("partial request");
        slow.push(stream);
    }
    // Another client is answered at once, while the slow ones still hold their connections.
    for _ in 0..3 {
        let resp = client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .expect("healthz");
        assert_eq!(resp.status(), StatusCode::OK);
    }
    for (row, stream) in rows.iter().zip(&slow) {
        assert!(
            !already_closed(stream),
            "{}: still connected while another client is served",
            row.name
        );
    }
    // Each slow client is then cut off (a generous bound: the deadlines are 3 s).
    for (row, stream) in rows.iter().zip(slow.iter_mut()) {
        let (closed, got) = closed_within(stream, Duration::from_secs(30)).await;
        assert!(closed, "{}: not disconnected", row.name);
        match row.answer {
            None => assert!(got.is_empty(), "{}: answered {got:?}", row.name),
            Some(status) => {
                assert!(got.starts_with(status), "{}: answered {got:?}", row.name);
                assert!(got.contains("\"error\":\"timeout\""), "{}: {got}", row.name);
            }
        }
    }
    let (st, v) = {
        let resp = client
            .get(format!("{base}/v1/customers/SLO"))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("customer");
        (resp.status(), resp.text().await.unwrap_or_default())
    };
    assert_eq!(st, StatusCode::NOT_FOUND, "the cut body wrote nothing: {v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_limit_queues_clients_until_a_slot_frees() {
    let dir = TempDir::new("sec-limit");
    let mut cfg = config(&dir.0);
    cfg.http.header_timeout_secs = 2;
    cfg.http.max_connections = 2;
    let (base, _) = serve_with(cfg, TODAY, Duration::from_secs(30)).await;
    let addr = base.trim_start_matches("http://").to_string();
    // Two silent clients take both slots (the listen queue is served in order).
    let silent = [
        TcpStream::connect(&addr).await.expect("connect"),
        TcpStream::connect(&addr).await.expect("connect"),
    ];
    let mut third = TcpStream::connect(&addr).await.expect("connect");
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("request");
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(30), third.read_to_string(&mut answer))
        .await
        .expect("the third client is answered once a slot frees")
        .expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The third was served in a slot a silent client gave back: at least one of them was cut
    // off by then (the other may be cut a moment later: its timer started a little after).
    assert!(
        silent.iter().any(already_closed),
        "the third client was served while both silent clients held their slots"
    );
    for (i, mut stream) in silent.into_iter().enumerate() {
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut rest))
            .await
            .unwrap_or_else(|_| panic!("silent client {i} is never cut off"))
            .expect("read");
    }
}

/// Two requests that differ only in what the store holds (an invoice that exists and one
/// that does not, a folder that exists and one that does not), and the role that must get the
/// same answer to both. `differs_for` is a role that may read the data and is told the
/// difference (proof that there is one to hide).
struct Pair {
    name: &'static str,
    method: Method,
    a: (&'static str, Value),
    b: (&'static str, Value),
    blind: &'static str,
    differs_for: Option<&'static str>,
    /// The id `a` names in its own body where `b` names another (the request's own ids are
    /// echoed in problem paths): `a`'s answer is compared with this id renamed.
    rename: Option<(&'static str, &'static str)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_tell_a_role_nothing_it_may_not_read() {
    let s = Server::start("sec-roles").await;
    let (st, _, text) = s
        .call(
            Method::POST,
            "/v1/import",
            Some(ADMIN),
            Some(&hostile_portfolio()),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{text}");
    let stdlib = concat!(env!("CARGO_MANIFEST_DIR"), "/../../stdlib-scenarios");
    let rows = [
        Pair {
            name: "a negative payment",
            method: Method::POST,
            a: ("/v1/invoices/F-3/payments", json!({"amount": "-5.00"})),
            b: ("/v1/invoices/F-404/payments", json!({"amount": "-5.00"})),
            blind: INTEGRATION,
            differs_for: Some(CREDIT),
            rename: None,
        },
        Pair {
            name: "a payment in another currency",
            method: Method::POST,
            a: (
                "/v1/invoices/F-3/payments",
                json!({"amount": "5.00", "currency": "USD"}),
            ),
            b: (
                "/v1/invoices/F-404/payments",
                json!({"amount": "5.00", "currency": "USD"}),
            ),
            blind: INTEGRATION,
            differs_for: Some(CREDIT),
            rename: None,
        },
        Pair {
            name: "an event in the future",
            method: Method::POST,
            a: (
                "/v1/events",
                json!([{"type": "payment", "invoice": "F-3", "amount": "1.00", "date": "2099-01-01"}]),
            ),
            b: (
                "/v1/events",
                json!([{"type": "payment", "invoice": "F-404", "amount": "1.00", "date": "2099-01-01"}]),
            ),
            blind: INTEGRATION,
            differs_for: Some(CREDIT),
            rename: None,
        },
        Pair {
            name: "an invalid invoice whose id is taken or free",
            method: Method::POST,
            a: (
                "/v1/invoices",
                json!({"id": "F-3", "customer": "PLAIN", "amount": "-1", "currency": "EUR",
                       "issued": "2026-01-01", "due": "2026-01-31"}),
            ),
            b: (
                "/v1/invoices",
                json!({"id": "F-404", "customer": "PLAIN", "amount": "-1", "currency": "EUR",
                       "issued": "2026-01-01", "due": "2026-01-31"}),
            ),
            blind: INTEGRATION,
            differs_for: Some(CREDIT),
            rename: Some(("F-3", "F-404")),
        },
        Pair {
            name: "an invoice for a stored or an unknown customer, its id taken",
            method: Method::POST,
            a: (
                "/v1/invoices",
                json!({"id": "F-3", "customer": "PLAIN", "amount": "1", "currency": "EUR",
                       "issued": "2026-01-01", "due": "2026-01-31"}),
            ),
            b: (
                "/v1/invoices",
                json!({"id": "F-404", "customer": "NOBODY", "amount": "1", "currency": "EUR",
                       "issued": "2026-01-01", "due": "2026-01-31"}),
            ),
            blind: INTEGRATION,
            differs_for: Some(CREDIT),
            rename: Some(("F-3", "F-404")),
        },
        Pair {
            name: "a server folder that exists or not",
            method: Method::POST,
            a: ("/v1/scenarios", json!({"path": stdlib})),
            b: ("/v1/scenarios", json!({"path": "/no/such/folder"})),
            blind: CREDIT,
            differs_for: Some(ADMIN),
            rename: None,
        },
        Pair {
            name: "a system folder or a missing one",
            method: Method::POST,
            a: ("/v1/scenarios", json!({"path": "/etc"})),
            b: ("/v1/scenarios", json!({"path": "/etc/no-such-folder"})),
            blind: CREDIT,
            differs_for: None,
            rename: None,
        },
    ];
    for row in &rows {
        let (sa, va, ta) = s
            .call(row.method.clone(), row.a.0, Some(row.blind), Some(&row.a.1))
            .await;
        let (sb, vb, _) = s
            .call(row.method.clone(), row.b.0, Some(row.blind), Some(&row.b.1))
            .await;
        assert!(
            sa.is_client_error(),
            "{}: {} is refused: {sa} {ta}",
            row.name,
            row.a.0
        );
        let va: Value = match row.rename {
            Some((from, to)) => serde_json::from_str(&ta.replace(from, to)).unwrap_or(va),
            None => va,
        };
        assert_eq!(
            (sa, &va),
            (sb, &vb),
            "{}: the same answer to both",
            row.name
        );
        if let Some(reader) = row.differs_for {
            let (ra, _, rta) = s
                .call(row.method.clone(), row.a.0, Some(reader), Some(&row.a.1))
                .await;
            let (rb, _, rtb) = s
                .call(row.method.clone(), row.b.0, Some(reader), Some(&row.b.1))
                .await;
            assert!(
                (ra, &rta) != (rb, &rtb),
                "{}: a role that may read is told the difference: {rta} | {rtb}",
                row.name
            );
        }
    }

    // The request's own problems are still told in full, field included.
    let (st, v, _) = s
        .call(
            Method::POST,
            "/v1/invoices/F-404/payments",
            Some(INTEGRATION),
            Some(&json!({"amount": "-5.00"})),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["field"], "amount", "{v}");
    assert_eq!(v["problems"].as_array().map(Vec::len), Some(1), "{v}");
    // A request right in itself, refused for what is stored, is told so without saying what.
    let (st, v, _) = s
        .call(
            Method::POST,
            "/v1/invoices/F-404/payments",
            Some(INTEGRATION),
            Some(&json!({"amount": "5.00"})),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let message = v["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("refused because of what is stored"),
        "{v}"
    );
    assert!(!message.contains("F-404"), "{v}");
    // An agenda outcome with a past promise is refused before the entry is looked up.
    let (st, v, _) = s
        .call(
            Method::POST,
            "/v1/agenda/999999/outcome",
            Some(INTEGRATION),
            Some(&json!({"outcome": "reached", "promised_date": "2020-01-01"})),
        )
        .await;
    assert_eq!(
        (st, v["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("promised_date")),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_files_tell_the_integration_role_only_the_file_s_own_problems() {
    let s = Server::start("sec-files").await;
    let (st, _, text) = s
        .call(
            Method::POST,
            "/v1/import",
            Some(ADMIN),
            Some(&hostile_portfolio()),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{text}");
    let path = "/v1/import/csv/payments";
    // A bad amount after a payment to a stored invoice (F-3) or to an unknown one (F-404).
    let known = "date,invoice,amount\n2026-02-01,F-3,1.00\n2026-02-01,F-4,12x\n";
    let unknown = "date,invoice,amount\n2026-02-01,F-404,1.00\n2026-02-01,F-4,12x\n";
    let (sa, va) = s.upload(path, INTEGRATION, known).await;
    let (sb, vb) = s.upload(path, INTEGRATION, unknown).await;
    assert_eq!(sa, StatusCode::UNPROCESSABLE_ENTITY, "{va}");
    assert_eq!((sa, &va), (sb, &vb), "the same answer to both");
    assert_eq!(va["line"], 3, "the file's own problem is told: {va}");
    let (_, credit) = s.upload(path, CREDIT, unknown).await;
    assert!(
        credit.to_string().contains("unknown invoice \\\"F-404\\\""),
        "a role that may read is told: {credit}"
    );
    // A FEC's own problem (a bad amount) is told in full, line included.
    let fec = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/tests-data/import/fec/broken-bad-amount.txt"
    ))
    .expect("fixture");
    let (st, v) = s
        .upload("/v1/import/fec?name=broken.txt", INTEGRATION, &fec)
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["problems"][0]["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("broken.txt:")),
        "{v}"
    );
    // Refused only for what is stored: told so, without naming the invoice.
    let (st, v) = s
        .upload(
            path,
            INTEGRATION,
            "date,invoice,amount\n2026-02-01,F-404,1.00\n",
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(!v.to_string().contains("F-404"), "{v}");
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("refused because of what is stored")),
        "{v}"
    );
}
