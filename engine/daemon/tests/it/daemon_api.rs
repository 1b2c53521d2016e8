//! The HTTP API against a real server on 127.0.0.1 (port 0): the access matrix (every role
//! against every endpoint family), bad input (400/422 naming the field, nothing written), a
//! small durable flow (import, events, virtual days, views) and idempotency keys. Requests of
//! one shape are tables of rows run by `support::run_rows`; keyed writes and the checks a
//! JSON fragment cannot state are written out.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{
    ADMIN, Body, CREDIT, INTEGRATION, METRICS, Row, SALES, TempDir, Want, role_of, run_rows, serve,
};

struct Server {
    base: String,
    client: reqwest::Client,
    _dir: TempDir,
}

impl Server {
    async fn start(tag: &str) -> Server {
        let dir = TempDir::new(tag);
        let (base, client) = serve(&dir.0, "2026-01-05", Duration::from_secs(20)).await;
        Server {
            base,
            client,
            _dir: dir,
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

fn portfolio() -> Value {
    json!({
        "customers": [
            {"id": "ACME", "name": "Acme", "segment": "b2b", "language": "fr",
             "contacts": {"accounting": {"email": "compta@acme.example"}}},
            {"id": "BETA", "segment": "b2b", "language": "en",
             "contacts": {"accounting": {"email": "ap@beta.example"}}}
        ],
        "invoices": [
            {"id": "F-1", "customer": "ACME", "amount": "1200.00", "currency": "EUR", "issued": "2025-12-01", "due": "2025-12-31"},
            {"id": "F-2", "customer": "ACME", "amount": "300.00", "currency": "EUR", "issued": "2025-12-10", "due": "2026-01-09"},
            {"id": "F-3", "customer": "BETA", "amount": "5000.00", "currency": "EUR", "issued": "2026-01-02", "due": "2026-02-01"}
        ]
    })
}

/// A request of the access matrix: method, path, body.
type Request = (Method, &'static str, Body);

/// The requests of each endpoint family (as `auth::Family` groups them), for the matrix.
fn families() -> Vec<(&'static str, Vec<Request>)> {
    use Body::{Json, None};
    vec![
        (
            "read",
            vec![
                (Method::GET, "/v1/customers/ACME", None),
                (Method::GET, "/v1/invoices/F-1", None),
                (Method::GET, "/v1/agenda", None),
                (Method::GET, "/v1/outbox", None),
                (Method::GET, "/v1/scenarios", None),
                (Method::GET, "/v1/reports/aged", None),
            ],
        ),
        (
            "data",
            vec![
                (Method::POST, "/v1/customers", Json(json!({"id": "GAMMA"}))),
                (
                    Method::POST,
                    "/v1/invoices",
                    Json(
                        json!({"id": "F-9", "customer": "GAMMA", "amount": "10.00", "issued": "2026-01-01", "due": "2026-01-31"}),
                    ),
                ),
                (
                    Method::POST,
                    "/v1/import",
                    Json(json!({"customers": [{"id": "DELTA"}]})),
                ),
                (
                    Method::POST,
                    "/v1/invoices/F-2/payments",
                    Json(json!({"amount": "1.00"})),
                ),
                (
                    Method::POST,
                    "/v1/invoices/F-2/disputes",
                    Json(json!({"code": "quality"})),
                ),
                (
                    Method::POST,
                    "/v1/events",
                    Json(json!({"type": "risk_changed", "customer": "BETA", "risk_score": 30})),
                ),
            ],
        ),
        (
            "resolve",
            vec![
                (
                    Method::POST,
                    "/v1/invoices/F-2/disputes/resolve",
                    Json(json!({})),
                ),
                (
                    Method::POST,
                    "/v1/invoices/F-1/task-outcomes",
                    Json(json!({"outcome": "reached"})),
                ),
                (
                    Method::POST,
                    "/v1/events",
                    Json(json!({"type": "dispute_resolved", "invoice": "F-2"})),
                ),
                (
                    Method::POST,
                    "/v1/agenda/999/outcome",
                    Json(json!({"outcome": "reached"})),
                ),
            ],
        ),
        (
            "deploy",
            vec![(
                Method::POST,
                "/v1/scenarios",
                Json(json!({"files": [{"path": "x.relance", "text": "scenario x {"}]})),
            )],
        ),
        (
            "operate",
            vec![
                (Method::POST, "/v1/run", None),
                (Method::POST, "/v1/outbox/999/retry", None),
            ],
        ),
        ("metrics", vec![(Method::GET, "/metrics", None)]),
        (
            "admin",
            vec![
                (Method::GET, "/v1/clock", None),
                (Method::POST, "/v1/clock/advance", Json(json!({"days": 0}))),
                (Method::GET, "/v1/backup", None),
            ],
        ),
    ]
}

/// The access matrix as `docs/DAEMON.md` states it, written out again (not read from `auth`).
fn allowed(role: &str, family: &str) -> bool {
    match role {
        "admin" => true,
        "credit-manager" => family != "admin",
        "sales" => matches!(family, "read" | "resolve" | "metrics"),
        "integration" => matches!(family, "data" | "resolve" | "metrics"),
        "metrics" => family == "metrics",
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_matrix_every_role_against_every_family() {
    let s = Server::start("api-auth").await;
    let setup = Row::new(
        Method::POST,
        "/v1/import",
        Some(ADMIN),
        Body::Json(portfolio()),
        200,
    );
    let mut rows = vec![setup];
    let mut by_role = 0;
    for (family, requests) in families() {
        for (method, path, body) in requests {
            let row = |token, want: Want| Row {
                method: method.clone(),
                path: path.into(),
                token,
                body: body.clone(),
                want,
                fragment: None,
            };
            let unauthorized = json!({"error": "unauthorized"});
            rows.push(row(None, 401.into()).with(unauthorized.clone()));
            rows.push(row(Some("not-a-token-at-all"), 401.into()).with(unauthorized));
            for token in [ADMIN, CREDIT, SALES, INTEGRATION, METRICS] {
                rows.push(if allowed(role_of(Some(token)), family) {
                    row(Some(token), Want::Allowed)
                } else {
                    row(Some(token), 403.into()).with(json!({"error": "forbidden"}))
                });
                by_role += 1;
            }
        }
    }
    assert!(by_role >= 80, "{by_role} role checks");
    rows.push(Row::new(Method::GET, "/healthz", None, Body::None, 200));
    run_rows(&s.client, &s.base, &rows).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_rejected_naming_the_field_and_nothing_is_written() {
    use Body::{Json, Raw};
    let s = Server::start("api-bad").await;
    let (st, _) = s
        .call(Method::POST, "/v1/import", Some(CREDIT), Some(portfolio()))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, before) = s
        .call(Method::GET, "/v1/invoices/F-1", Some(CREDIT), None)
        .await;
    let (_, customer_before) = s
        .call(Method::GET, "/v1/customers/ACME", Some(CREDIT), None)
        .await;

    let post =
        |path: &str, body: Body, want: u16| Row::new(Method::POST, path, Some(CREDIT), body, want);
    let get = |path: &str, want: u16| Row::new(Method::GET, path, Some(CREDIT), Body::None, want);
    let field = |f: &str| json!({ "field": f });
    let invoice = |id: &str, customer: &str, amount: &str| json!({"id": id, "customer": customer, "amount": amount, "issued": "2026-01-01", "due": "2026-01-31"});
    let pay = "/v1/invoices/F-1/payments";
    let rows = [
        // Malformed JSON: 400.
        post("/v1/invoices", Raw("{\"id\": \"F-5\", "), 400).with(json!({"error": "malformed"})),
        // A wrong type: 400 naming the field.
        post(pay, Raw("{\"amount\": \"lots\"}"), 400).with(field("amount")),
        // A missing field: 400 naming it.
        post("/v1/invoices/F-1/disputes", Raw("{}"), 400).with(field("code")),
        // Unknown customer: 422 on `customer`; nothing written.
        post("/v1/invoices", Json(invoice("F-5", "ACM", "10.00")), 422).with(field("customer")),
        get("/v1/invoices/F-5", 404),
        // Negative amount: 422 on `amount`.
        post(pay, Json(json!({"amount": "-5.00"})), 422).with(field("amount")),
        // Currency mismatch: 422 on `currency`.
        post(pay, Json(json!({"amount": "5.00", "currency": "USD"})), 422)
            .with(field("currency")),
        // Unknown invoice: 422 on `invoice`.
        post("/v1/invoices/F-404/payments", Json(json!({"amount": "5.00"})), 422)
            .with(field("invoice")),
        // A future event: 422 on `date`.
        post(pay, Json(json!({"amount": "5.00", "date": "2030-01-01"})), 422)
            .with(field("date")),
        // A bulk write with one bad record writes nothing at all (not even the good one).
        post(
            "/v1/invoices",
            Json(json!([invoice("F-6", "ACME", "10.00"), invoice("F-7", "ACME", "0")])),
            422,
        )
        .with(json!({"problems": [{"path": "invoices[1] (F-7)"}]})),
        get("/v1/invoices/F-6", 404),
        // An existing invoice with other values: 422; the same values again: accepted, unchanged.
        post(
            "/v1/invoices",
            Json(json!({"id": "F-1", "customer": "ACME", "amount": "1.00", "issued": "2025-12-01", "due": "2025-12-31"})),
            422,
        ),
        post(
            "/v1/invoices",
            Json(json!({"id": "F-1", "customer": "ACME", "amount": "1200.00", "currency": "EUR", "issued": "2025-12-01", "due": "2025-12-31"})),
            200,
        )
        .with(json!({"unchanged": 1})),
        // An invalid scenario set: 422 with the diagnostics (at least one).
        post(
            "/v1/scenarios",
            Json(json!({"files": [{"path": "x.relance", "text": "scenario x { step a at due + 3 dayz { } }"}]})),
            422,
        )
        .with(json!({"error": "invalid_scenarios", "diagnostics": [{}]})),
    ];
    run_rows(&s.client, &s.base, &rows).await;

    let (_, after) = s
        .call(Method::GET, "/v1/invoices/F-1", Some(CREDIT), None)
        .await;
    assert_eq!(
        before, after,
        "no rejected write changed the invoice's case or history"
    );
    let (_, customer_after) = s
        .call(Method::GET, "/v1/customers/ACME", Some(CREDIT), None)
        .await;
    assert_eq!(customer_before, customer_after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_flow_through_the_api() {
    use Body::Json;
    let s = Server::start("api-flow").await;
    let ok =
        |method: Method, path: &str, token, body| Row::new(method, path, Some(token), body, 200);
    let rows = [
        ok(Method::POST, "/v1/import", INTEGRATION, Json(portfolio())).with(json!({"invoices": 3})),
        // Imported after the day's run: the cases wait for a run (the operator's, here).
        ok(Method::GET, "/v1/invoices/F-3", CREDIT, Body::None).with(json!({"state": "new"})),
        ok(Method::POST, "/v1/run", ADMIN, Body::None),
        ok(
            Method::POST,
            "/v1/invoices/F-3/disputes",
            INTEGRATION,
            Json(json!({"code": "logistics/missing-delivery-note"})),
        ),
        ok(Method::GET, "/v1/customers/BETA", SALES, Body::None)
            .with(json!({"disputes": [{"code": "logistics/missing-delivery-note"}]})),
        ok(
            Method::POST,
            "/v1/invoices/F-3/disputes/resolve",
            SALES,
            Json(json!({})),
        ),
        ok(
            Method::POST,
            "/v1/clock/advance",
            ADMIN,
            Json(json!({"days": 30})),
        )
        .with(json!({"today": "2026-02-04"})),
    ];
    run_rows(&s.client, &s.base, &rows).await;
    let (_, v) = s
        .call(Method::GET, "/v1/invoices/F-1", Some(CREDIT), None)
        .await;
    assert!(v["timeline"].as_array().is_some_and(|t| t.len() > 3), "{v}");
    let (_, o) = s.call(Method::GET, "/v1/outbox", Some(CREDIT), None).await;
    let total = o["counts"]["pending"].as_u64().unwrap_or(0)
        + o["counts"]["delivered"].as_u64().unwrap_or(0);
    assert!(total > 0, "{o}");
    let rows = [
        ok(
            Method::POST,
            "/v1/invoices/F-1/payments",
            INTEGRATION,
            Json(json!({"amount": "1200.00", "currency": "EUR"})),
        ),
        ok(Method::GET, "/v1/invoices/F-1", CREDIT, Body::None).with(json!({"state": "closed"})),
        Row::new(Method::GET, "/metrics", Some(METRICS), Body::None, 200),
    ];
    let answers = run_rows(&s.client, &s.base, &rows).await;
    assert!(
        answers[2]
            .as_str()
            .is_some_and(|t| t.contains("relance_transitions_total")),
        "{}",
        answers[2]
    );
}

/// Changes after the start over `POST /v1/events`: a write-off reversed re-opens the case, a
/// failed payment is kept with its reason, a tag added changes the customer's record, a move to
/// another scenario is recorded with who and why (or puts the case in error when the set has no
/// such scenario).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_after_the_start_through_the_api() {
    use Body::Json;
    let s = Server::start("api-changes").await;
    let ok =
        |method: Method, path: &str, token, body| Row::new(method, path, Some(token), body, 200);
    let event = |v: Value| ok(Method::POST, "/v1/events", INTEGRATION, Json(v));
    let rows = [
        ok(Method::POST, "/v1/import", INTEGRATION, Json(portfolio())).with(json!({"invoices": 3})),
        ok(Method::POST, "/v1/run", ADMIN, Body::None),
        event(json!({"type": "write_off", "invoice": "F-1"})),
        ok(Method::GET, "/v1/invoices/F-1", CREDIT, Body::None).with(json!({"state": "closed"})),
        event(json!({"type": "write_off_reversed", "invoice": "F-1", "reason": "wrong invoice"})),
        ok(Method::GET, "/v1/invoices/F-1", CREDIT, Body::None).with(json!({"state": "active"})),
        event(json!({"type": "payment_failed", "invoice": "F-2", "reason": "INSUFFICIENT_FUNDS"})),
        ok(Method::GET, "/v1/invoices/F-2", CREDIT, Body::None)
            .with(json!({"case": {"last_failed_payment": "INSUFFICIENT_FUNDS"}})),
        event(json!({"type": "tag_added", "customer": "BETA", "tag": "key-account"})),
        ok(Method::GET, "/v1/customers/BETA", SALES, Body::None)
            .with(json!({"customer": {"tags": ["key-account"]}})),
        event(json!({"type": "tag_removed", "customer": "BETA", "tag": "key-account"})),
        event(
            json!({"type": "scenario_changed", "invoice": "F-3", "scenario": "nowhere",
                     "by": "marie", "because": "test"}),
        ),
        ok(Method::GET, "/v1/invoices/F-3", CREDIT, Body::None).with(json!({"state": "error"})),
    ];
    run_rows(&s.client, &s.base, &rows).await;
    let (_, v) = s
        .call(Method::GET, "/v1/invoices/F-1", Some(CREDIT), None)
        .await;
    let timeline = v["timeline"].to_string();
    assert!(
        timeline.contains("write off reversed: wrong invoice"),
        "{v}"
    );
    let (_, c) = s
        .call(Method::GET, "/v1/customers/BETA", Some(SALES), None)
        .await;
    assert!(c["customer"].get("tags").is_none(), "the tag is gone: {c}");
}

/// A payment that comes back over the API: paid by cheque (the means kept with the payment),
/// closed; the `payment_reversed` fact re-opens the case with its history, the outstanding back,
/// and the store keeps it (read back through `GET /v1/invoices/F-1`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reversed_payment_reopens_the_case_through_the_api() {
    use Body::Json;
    let s = Server::start("api-reversal").await;
    let ok =
        |method: Method, path: &str, token, body| Row::new(method, path, Some(token), body, 200);
    let rows = [
        ok(Method::POST, "/v1/import", INTEGRATION, Json(portfolio())).with(json!({"invoices": 3})),
        ok(Method::POST, "/v1/run", ADMIN, Body::None),
        ok(
            Method::POST,
            "/v1/invoices/F-1/payments",
            INTEGRATION,
            Json(json!({"amount": "1200.00", "means": "cheque", "reference": "CHQ-1"})),
        ),
        ok(Method::GET, "/v1/invoices/F-1", CREDIT, Body::None).with(json!({"state": "closed"})),
        ok(
            Method::POST,
            "/v1/events",
            INTEGRATION,
            Json(
                json!({"type": "payment_reversed", "invoice": "F-1", "amount": "1200.00",
                        "reason": "bounced_cheque", "reference": "CHQ-1"}),
            ),
        ),
        ok(Method::GET, "/v1/invoices/F-1", CREDIT, Body::None).with(json!({
            "state": "active",
            "case": {"outstanding": "1200.00", "counters": {"reversals": 1}}
        })),
        // More than was paid (1200, reversed already) is refused, naming the field.
        Row::new(
            Method::POST,
            "/v1/events",
            Some(INTEGRATION),
            Json(json!({"type": "payment_reversed", "invoice": "F-1", "amount": "10"})),
            422,
        )
        .with(json!({"problems": [{"path": "events[0] (payment_reversed)", "field": "amount"}]})),
        // An unknown reason is refused whole.
        Row::new(
            Method::POST,
            "/v1/events",
            Some(INTEGRATION),
            Json(
                json!({"type": "payment_reversed", "invoice": "F-1", "amount": "1",
                        "reason": "nsf"}),
            ),
            400,
        ),
    ];
    run_rows(&s.client, &s.base, &rows).await;
    let (_, v) = s
        .call(Method::GET, "/v1/invoices/F-1", Some(CREDIT), None)
        .await;
    let timeline = v["timeline"].to_string();
    assert!(
        timeline.contains(
            "payment CHQ-1 of 1200.00 reversed (bounced_cheque), outstanding 1200.00; re-opened"
        ),
        "{v}"
    );
}

impl Server {
    /// A POST with an `Idempotency-Key`: status, body, and whether it was a replay.
    async fn keyed(
        &self,
        path: &str,
        token: &str,
        key: &str,
        body: &str,
    ) -> (StatusCode, Value, bool) {
        post_keyed(
            self.client.clone(),
            format!("{}{path}", self.base),
            token,
            key,
            body.to_string(),
        )
        .await
    }

    async fn outstanding(&self, invoice: &str) -> Value {
        let (_, v) = self
            .call(
                Method::GET,
                &format!("/v1/invoices/{invoice}"),
                Some(CREDIT),
                None,
            )
            .await;
        v["case"]["outstanding"].clone()
    }
}

async fn post_keyed(
    client: reqwest::Client,
    url: String,
    token: &str,
    key: &str,
    body: String,
) -> (StatusCode, Value, bool) {
    let resp = client
        .post(url)
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let replayed = resp.headers().get("Idempotent-Replayed").is_some();
    let text = resp.text().await.expect("body");
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    // Fresh answers and replays are both written compact with sorted keys, so two equal
    // answers are the same bytes.
    assert_eq!(
        serde_json::to_string(&v).ok().as_deref(),
        Some(text.as_str()),
        "JSON as the API writes it"
    );
    (status, v, replayed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_make_event_writes_safe_to_retry() {
    let s = Server::start("api-idem").await;
    let (st, _) = s
        .call(
            Method::POST,
            "/v1/import",
            Some(INTEGRATION),
            Some(portfolio()),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s.call(Method::POST, "/v1/run", Some(ADMIN), None).await;
    assert_eq!(st, StatusCode::OK);
    let pay = r#"{"amount":"200.00","reference":"VIR-1"}"#;
    let path = "/v1/invoices/F-1/payments";

    let (st, first, replayed) = s.keyed(path, INTEGRATION, "pay-F1-1", pay).await;
    assert_eq!((st, replayed), (StatusCode::OK, false), "{first}");
    assert_eq!(s.outstanding("F-1").await, json!("1000.00"));
    // A retry of the same request: the original response, nothing written.
    let (st, again, replayed) = s.keyed(path, INTEGRATION, "pay-F1-1", pay).await;
    assert_eq!((st, replayed), (StatusCode::OK, true));
    assert_eq!(again, first);
    assert_eq!(s.outstanding("F-1").await, json!("1000.00"));

    // The same key for another body, or another route: refused, nothing written.
    let other = r#"{"amount":"300.00","reference":"VIR-1"}"#;
    let (st, err, _) = s.keyed(path, INTEGRATION, "pay-F1-1", other).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["field"], "Idempotency-Key", "{err}");
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("different request")),
        "{err}"
    );
    let (st, _, _) = s
        .keyed("/v1/invoices/F-2/payments", INTEGRATION, "pay-F1-1", pay)
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(s.outstanding("F-1").await, json!("1000.00"));
    assert_eq!(s.outstanding("F-2").await, json!("300.00"));

    // Keys belong to their caller: another token's same key is a new write.
    let (st, _, replayed) = s.keyed(path, CREDIT, "pay-F1-1", pay).await;
    assert_eq!((st, replayed), (StatusCode::OK, false));
    assert_eq!(s.outstanding("F-1").await, json!("800.00"));

    // A malformed key is refused before anything happens.
    let long = "k".repeat(300);
    let (st, err, _) = s.keyed(path, INTEGRATION, &long, pay).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["field"], "Idempotency-Key");

    // A failed write stores nothing: the same key may be used once the request is right.
    let bad = r#"{"amount":"-5.00"}"#;
    let (st, _, _) = s
        .keyed("/v1/invoices/F-2/payments", INTEGRATION, "pay-F2", bad)
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

    // Concurrent duplicates (a client retrying while the first is in flight): one write,
    // every response the same.
    let url = format!("{}/v1/invoices/F-2/payments", s.base);
    let tries: Vec<_> = (0..8)
        .map(|_| {
            let body = r#"{"amount":"50.00"}"#.to_string();
            tokio::spawn(post_keyed(
                s.client.clone(),
                url.clone(),
                INTEGRATION,
                "pay-F2",
                body,
            ))
        })
        .collect();
    let mut results = Vec::new();
    for t in tries {
        results.push(t.await.expect("request task"));
    }
    let fresh = results.iter().filter(|(_, _, replayed)| !replayed).count();
    assert_eq!(fresh, 1);
    for (st, b, _) in &results {
        assert_eq!(*st, StatusCode::OK);
        assert_eq!(b, &results[0].1);
    }
    assert_eq!(s.outstanding("F-2").await, json!("250.00"));

    // Every write route takes a key: customers, invoices, imports, generic events.
    let cust = r#"{"id":"GAMMA","segment":"b2b","language":"fr"}"#;
    let (st, a, _) = s.keyed("/v1/customers", INTEGRATION, "cust-1", cust).await;
    let (st2, b, replayed) = s.keyed("/v1/customers", INTEGRATION, "cust-1", cust).await;
    assert_eq!(
        (st, st2, replayed, &a),
        (StatusCode::OK, StatusCode::OK, true, &b)
    );
    let ev = r#"[{"type":"promise_made","invoice":"F-3","promised_date":"2026-02-20"}]"#;
    let (st, a, _) = s.keyed("/v1/events", INTEGRATION, "ev-1", ev).await;
    let (_, b, replayed) = s.keyed("/v1/events", INTEGRATION, "ev-1", ev).await;
    assert_eq!((st, replayed, &a), (StatusCode::OK, true, &b), "{a}");
}
