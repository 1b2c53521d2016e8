//! A collective procedure through the daemon's API: `insolvency_opened` over `POST /v1/events`
//! is stored on the customer, freezes its prior invoices (state `insolvency`, the declaration
//! with its R622-24 deadline in the case) and `insolvency_closed` brings them back; the aged
//! report shows the customer apart. A frozen case cannot be paused by hand (a pause would
//! overwrite the freeze and let the claim be dunned again).

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

/// Regression (review of the console's case actions): `Engine::case_action` paused a case
/// frozen by a collective procedure, overwriting its `insolvency` state; the next tick froze it
/// again and filed a second declaration task.
#[test]
fn a_frozen_case_cannot_be_paused_by_hand() {
    use relance_daemon::case_action::CaseAction;
    use relance_daemon::config::Config;
    use relance_daemon::server::{self, ClockMode};
    let dir = TempDir::new("insolvency-pause");
    let config = Config {
        data: dir.0.join("data"),
        spool: dir.0.join("spool"),
        ..Config::default()
    };
    let scenarios = crate::workspace().join("stdlib-scenarios");
    let engine = server::open(
        &config,
        ClockMode::Virtual {
            start: Some("2026-01-05".parse().expect("date")),
        },
        Some(&scenarios),
    )
    .expect("engine");
    let portfolio = relance_data::portfolio::from_json(
        r#"{"customers": [{"id": "ACME", "segment": "b2b"}],
            "invoices": [{"id": "F-1", "customer": "ACME", "amount": "1200.00", "currency": "EUR", "issued": "2025-12-01", "due": "2025-12-31"}],
            "events": [{"date": "2026-01-05", "type": "insolvency_opened", "customer": "ACME", "procedure": "redressement", "judgment_on": "2026-01-02"}]}"#,
    )
    .expect("a valid portfolio");
    engine.import(&portfolio).expect("import");
    engine
        .advance_to("2026-01-06".parse().expect("date"))
        .expect("run");
    let state = |engine: &relance_daemon::Engine| {
        engine
            .case("F-1")
            .expect("case")
            .map(|r| r.case.status.name().to_string())
    };
    assert_eq!(state(&engine).as_deref(), Some("insolvency"));
    let err = engine
        .case_action(
            "F-1",
            CaseAction::Pause {
                until: None,
                reason: "asked by the customer".into(),
            },
            Some("camille"),
        )
        .expect_err("a frozen case is not paused");
    assert!(err.to_string().contains("cannot be paused"), "{err}");
    assert_eq!(state(&engine).as_deref(), Some("insolvency"), "unchanged");
    // A note is still welcome.
    engine
        .case_action(
            "F-1",
            CaseAction::Note {
                text: "the mandataire called".into(),
            },
            Some("camille"),
        )
        .expect("a note");
}
