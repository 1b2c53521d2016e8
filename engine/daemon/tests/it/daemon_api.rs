//! The HTTP API against a real server on 127.0.0.1 (port 0): the access matrix (every role
//! against every endpoint family), bad input (400/422 naming the field, nothing written), and
//! a small durable flow (import, events, virtual days, views).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{ADMIN, CREDIT, INTEGRATION, SALES, TempDir, serve};

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

    async fn raw(&self, path: &str, token: &str, body: &str) -> (StatusCode, Value) {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_matrix_every_role_against_every_family() {
    let s = Server::start("api-auth").await;
    let (st, _) = s
        .call(Method::POST, "/v1/import", Some(ADMIN), Some(portfolio()))
        .await;
    assert_eq!(st, StatusCode::OK);

    type Req = (Method, &'static str, Option<Value>);
    let families: Vec<(&str, Vec<Req>)> = vec![
        (
            "read",
            vec![
                (Method::GET, "/v1/customers/ACME", None),
                (Method::GET, "/v1/invoices/F-1", None),
                (Method::GET, "/v1/agenda", None),
                (Method::GET, "/v1/outbox", None),
                (Method::GET, "/v1/scenarios", None),
            ],
        ),
        (
            "data",
            vec![
                (Method::POST, "/v1/customers", Some(json!({"id": "GAMMA"}))),
                (
                    Method::POST,
                    "/v1/invoices",
                    Some(
                        json!({"id": "F-9", "customer": "GAMMA", "amount": "10.00", "issued": "2026-01-01", "due": "2026-01-31"}),
                    ),
                ),
                (
                    Method::POST,
                    "/v1/import",
                    Some(json!({"customers": [{"id": "DELTA"}]})),
                ),
                (
                    Method::POST,
                    "/v1/invoices/F-2/payments",
                    Some(json!({"amount": "1.00"})),
                ),
                (
                    Method::POST,
                    "/v1/invoices/F-2/disputes",
                    Some(json!({"code": "quality"})),
                ),
                (
                    Method::POST,
                    "/v1/events",
                    Some(json!({"type": "risk_changed", "customer": "BETA", "risk_score": 30})),
                ),
            ],
        ),
        (
            "resolve",
            vec![
                (
                    Method::POST,
                    "/v1/invoices/F-2/disputes/resolve",
                    Some(json!({})),
                ),
                (
                    Method::POST,
                    "/v1/invoices/F-1/task-outcomes",
                    Some(json!({"outcome": "reached"})),
                ),
                (
                    Method::POST,
                    "/v1/events",
                    Some(json!({"type": "dispute_resolved", "invoice": "F-2"})),
                ),
                (
                    Method::POST,
                    "/v1/agenda/999/outcome",
                    Some(json!({"outcome": "reached"})),
                ),
            ],
        ),
        (
            "deploy",
            vec![(
                Method::POST,
                "/v1/scenarios",
                Some(json!({"files": [{"path": "x.relance", "text": "scenario x {"}]})),
            )],
        ),
        (
            "operate",
            vec![
                (Method::POST, "/v1/run", None),
                (Method::POST, "/v1/outbox/999/retry", None),
            ],
        ),
        (
            "admin",
            vec![
                (Method::GET, "/v1/clock", None),
                (Method::POST, "/v1/clock/advance", Some(json!({"days": 0}))),
                (Method::GET, "/v1/backup", None),
            ],
        ),
    ];
    let allowed = |role: &str, family: &str| match role {
        "admin" => true,
        "credit-manager" => family != "admin",
        "sales" => matches!(family, "read" | "resolve"),
        "integration" => matches!(family, "data" | "resolve"),
        _ => false,
    };
    let roles = [
        ("admin", ADMIN),
        ("credit-manager", CREDIT),
        ("sales", SALES),
        ("integration", INTEGRATION),
    ];
    let mut checked = 0;
    for (family, requests) in &families {
        for (method, path, body) in requests {
            let (st, b) = s.call(method.clone(), path, None, body.clone()).await;
            assert_eq!(
                st,
                StatusCode::UNAUTHORIZED,
                "{method} {path} without a token: {b}"
            );
            assert_eq!(b["error"], "unauthorized");
            let (st, _) = s
                .call(
                    method.clone(),
                    path,
                    Some("not-a-token-at-all"),
                    body.clone(),
                )
                .await;
            assert_eq!(
                st,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with a wrong token"
            );
            for (role, token) in roles {
                let (st, b) = s
                    .call(method.clone(), path, Some(token), body.clone())
                    .await;
                if allowed(role, family) {
                    assert!(
                        st != StatusCode::FORBIDDEN && st != StatusCode::UNAUTHORIZED,
                        "{role} may {family}: {method} {path} gave {st} {b}"
                    );
                } else {
                    assert_eq!(
                        st,
                        StatusCode::FORBIDDEN,
                        "{role} may not {family}: {method} {path} gave {st} {b}"
                    );
                    assert_eq!(b["error"], "forbidden");
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 80);
    for path in ["/healthz", "/metrics"] {
        let (st, _) = s.call(Method::GET, path, None, None).await;
        assert_eq!(st, StatusCode::OK, "{path} is public");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_rejected_naming_the_field_and_nothing_is_written() {
    let s = Server::start("api-bad").await;
    let (st, _) = s
        .call(Method::POST, "/v1/import", Some(CREDIT), Some(portfolio()))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, before) = s
        .call(Method::GET, "/v1/invoices/F-1", Some(CREDIT), None)
        .await;
    let (_, metrics_before) = s
        .call(Method::GET, "/v1/customers/ACME", Some(CREDIT), None)
        .await;

    // Malformed JSON: 400.
    let (st, b) = s.raw("/v1/invoices", CREDIT, "{\"id\": \"F-5\", ").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(b["error"], "malformed");
    // A wrong type: 400 naming the field.
    let (st, b) = s
        .raw(
            "/v1/invoices/F-1/payments",
            CREDIT,
            "{\"amount\": \"lots\"}",
        )
        .await;
    assert_eq!(
        (st, &b["field"]),
        (StatusCode::BAD_REQUEST, &json!("amount")),
        "{b}"
    );
    // A missing field: 400 naming it.
    let (st, b) = s.raw("/v1/invoices/F-1/disputes", CREDIT, "{}").await;
    assert_eq!(
        (st, &b["field"]),
        (StatusCode::BAD_REQUEST, &json!("code")),
        "{b}"
    );
    // Unknown customer: 422 on `customer`, with a suggestion.
    let bad = json!({"id": "F-5", "customer": "ACM", "amount": "10.00", "issued": "2026-01-01", "due": "2026-01-31"});
    let (st, b) = s
        .call(Method::POST, "/v1/invoices", Some(CREDIT), Some(bad))
        .await;
    assert_eq!(
        (st, &b["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("customer")),
        "{b}"
    );
    let (st, _) = s
        .call(Method::GET, "/v1/invoices/F-5", Some(CREDIT), None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "nothing written");
    // Negative amount: 422 on `amount`.
    let (st, b) = s
        .call(
            Method::POST,
            "/v1/invoices/F-1/payments",
            Some(CREDIT),
            Some(json!({"amount": "-5.00"})),
        )
        .await;
    assert_eq!(
        (st, &b["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("amount")),
        "{b}"
    );
    // Currency mismatch: 422 on `currency`.
    let (st, b) = s
        .call(
            Method::POST,
            "/v1/invoices/F-1/payments",
            Some(CREDIT),
            Some(json!({"amount": "5.00", "currency": "USD"})),
        )
        .await;
    assert_eq!(
        (st, &b["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("currency")),
        "{b}"
    );
    // Unknown invoice: 422 on `invoice`.
    let (st, b) = s
        .call(
            Method::POST,
            "/v1/invoices/F-404/payments",
            Some(CREDIT),
            Some(json!({"amount": "5.00"})),
        )
        .await;
    assert_eq!(
        (st, &b["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("invoice")),
        "{b}"
    );
    // A future event: 422 on `date`.
    let (st, b) = s
        .call(
            Method::POST,
            "/v1/invoices/F-1/payments",
            Some(CREDIT),
            Some(json!({"amount": "5.00", "date": "2030-01-01"})),
        )
        .await;
    assert_eq!(
        (st, &b["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("date")),
        "{b}"
    );
    // A bulk write with one bad record writes nothing at all.
    let bulk = json!([
        {"id": "F-6", "customer": "ACME", "amount": "10.00", "issued": "2026-01-01", "due": "2026-01-31"},
        {"id": "F-7", "customer": "ACME", "amount": "0", "issued": "2026-01-01", "due": "2026-01-31"}
    ]);
    let (st, b) = s
        .call(Method::POST, "/v1/invoices", Some(CREDIT), Some(bulk))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["problems"][0]["path"], "invoices[1] (F-7)");
    let (st, _) = s
        .call(Method::GET, "/v1/invoices/F-6", Some(CREDIT), None)
        .await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "the good record of a rejected bulk is not written"
    );
    // An existing invoice with other values: 422; the same values again: accepted, unchanged.
    let changed = json!({"id": "F-1", "customer": "ACME", "amount": "1.00", "issued": "2025-12-01", "due": "2025-12-31"});
    let (st, _) = s
        .call(Method::POST, "/v1/invoices", Some(CREDIT), Some(changed))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let same = json!({"id": "F-1", "customer": "ACME", "amount": "1200.00", "currency": "EUR", "issued": "2025-12-01", "due": "2025-12-31"});
    let (st, b) = s
        .call(Method::POST, "/v1/invoices", Some(CREDIT), Some(same))
        .await;
    assert_eq!((st, &b["unchanged"]), (StatusCode::OK, &json!(1)), "{b}");
    // An invalid scenario set: 422 with the diagnostics.
    let (st, b) = s
        .call(Method::POST, "/v1/scenarios", Some(CREDIT), Some(json!({"files": [{"path": "x.relance", "text": "scenario x { step a at due + 3 dayz { } }"}]})))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(
        b["diagnostics"].as_array().is_some_and(|d| !d.is_empty()),
        "{b}"
    );

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
    assert_eq!(metrics_before, customer_after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_flow_through_the_api() {
    let s = Server::start("api-flow").await;
    let (st, b) = s
        .call(
            Method::POST,
            "/v1/import",
            Some(INTEGRATION),
            Some(portfolio()),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["invoices"], 3);
    let (st, b) = s
        .call(
            Method::POST,
            "/v1/invoices/F-3/disputes",
            Some(INTEGRATION),
            Some(json!({"code": "logistics/missing-delivery-note"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (_, v) = s
        .call(Method::GET, "/v1/customers/BETA", Some(SALES), None)
        .await;
    assert_eq!(
        v["disputes"][0]["code"], "logistics/missing-delivery-note",
        "{v}"
    );
    let (st, _) = s
        .call(
            Method::POST,
            "/v1/invoices/F-3/disputes/resolve",
            Some(SALES),
            Some(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, b) = s
        .call(
            Method::POST,
            "/v1/clock/advance",
            Some(ADMIN),
            Some(json!({"days": 30})),
        )
        .await;
    assert_eq!(
        (st, &b["today"]),
        (StatusCode::OK, &json!("2026-02-04")),
        "{b}"
    );
    let (_, v) = s
        .call(Method::GET, "/v1/invoices/F-1", Some(CREDIT), None)
        .await;
    assert!(v["timeline"].as_array().is_some_and(|t| t.len() > 3), "{v}");
    let (_, o) = s.call(Method::GET, "/v1/outbox", Some(CREDIT), None).await;
    let total = o["counts"]["pending"].as_u64().unwrap_or(0)
        + o["counts"]["delivered"].as_u64().unwrap_or(0);
    assert!(total > 0, "{o}");
    let (st, b) = s
        .call(
            Method::POST,
            "/v1/invoices/F-1/payments",
            Some(INTEGRATION),
            Some(json!({"amount": "1200.00", "currency": "EUR"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (_, v) = s
        .call(Method::GET, "/v1/invoices/F-1", Some(CREDIT), None)
        .await;
    assert_eq!(v["state"], "closed", "{v}");
    let (_, m) = s.call(Method::GET, "/metrics", None, None).await;
    assert!(
        m.as_str()
            .is_some_and(|t| t.contains("relance_transitions_total")),
        "{m}"
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
    (status, resp.json().await.unwrap_or(Value::Null), replayed)
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
