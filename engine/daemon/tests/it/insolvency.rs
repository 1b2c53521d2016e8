//! A collective procedure through the daemon's API: `insolvency_opened` over `POST /v1/events`
//! is stored on the customer, freezes its prior invoices (state `insolvency`, the declaration
//! with its R622-24 deadline in the case) and `insolvency_closed` brings them back; the aged
//! report shows the customer apart.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::support::{ADMIN, Body, CREDIT, INTEGRATION, Row, SALES, TempDir, run_rows, serve};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collective_procedure_through_the_api() {
    let dir = TempDir::new("api-insolvency");
    let (base, client) = serve(&dir.0, "2026-01-05", Duration::from_secs(20)).await;
    let ok =
        |method: Method, path: &str, token, body| Row::new(method, path, Some(token), body, 200);
    let event = |v: serde_json::Value| ok(Method::POST, "/v1/events", INTEGRATION, Body::Json(v));
    let portfolio = json!({
        "customers": [
            {"id": "ACME", "segment": "b2b", "contacts": {"accounting": {"email": "compta@acme.example"}}},
            {"id": "BETA", "segment": "b2b", "contacts": {"accounting": {"email": "ap@beta.example"}}}
        ],
        "invoices": [
            {"id": "F-1", "customer": "ACME", "amount": "1200.00", "issued": "2025-12-01", "due": "2025-12-31"},
            {"id": "F-3", "customer": "BETA", "amount": "5000.00", "issued": "2026-01-02", "due": "2026-02-01"}
        ]
    });
    // Judgment on 2 January 2026, published in the BODACC on 5 January: declare by
    // 5 March 2026 (R622-24, two months; a Thursday).
    let rows = [
        ok(
            Method::POST,
            "/v1/import",
            INTEGRATION,
            Body::Json(portfolio),
        ),
        ok(Method::POST, "/v1/run", ADMIN, Body::None),
        event(
            json!({"type": "insolvency_opened", "customer": "ACME", "procedure": "liquidation",
                     "judgment_on": "2026-01-02", "published_on": "2026-01-05"}),
        ),
        ok(Method::GET, "/v1/customers/ACME", SALES, Body::None).with(json!({"customer": {
            "insolvency": {"procedure": "liquidation", "judgment_on": "2026-01-02"}}})),
        ok(Method::GET, "/v1/invoices/F-1", CREDIT, Body::None).with(json!({
            "state": "insolvency",
            "case": {"declaration": {"declare_by": "2026-03-05", "outstanding": "1200.00"}}})),
        ok(Method::GET, "/v1/invoices/F-3", CREDIT, Body::None).with(json!({"state": "active"})),
        ok(Method::GET, "/v1/reports/aged", CREDIT, Body::None).with(
            json!({"apart": [{"customer": "ACME", "procedure": "liquidation since 2026-01-02"}]}),
        ),
        event(json!({"type": "insolvency_closed", "customer": "ACME"})),
        ok(Method::GET, "/v1/invoices/F-1", CREDIT, Body::None).with(json!({"state": "active"})),
    ];
    run_rows(&client, &base, &rows).await;
}
