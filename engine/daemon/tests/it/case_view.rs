//! What the daemon's views show of a case, through the HTTP API against a real server on
//! 127.0.0.1: `GET /v1/invoices/{id}` gives each installment of an invoice with installments
//! as it stands today (none for an invoice with one due date), and `GET /v1/customers/{id}`
//! gives a `per customer` account's level name exactly as the scenario writes it.

use std::time::Duration;

use chrono::NaiveDate;
use reqwest::Method;
use serde_json::{Value, json};

use relance_daemon::server::{self, ClockMode};

use crate::support::{ADMIN, Body, CREDIT, INTEGRATION, Row, TempDir, config, run_rows, serve};

fn get(path: &str) -> Row {
    Row::new(Method::GET, path, Some(CREDIT), Body::None, 200)
}

/// F-1: 1,000 EUR, 300 due 15 December 2025 and 700 due 15 February 2026, today 5 January
/// 2026. Hand-computed: the first is 16 + 5 = 21 days late, overdue; the second is due in
/// 26 + 15 = 41 days (days_late -41). After 300 paid, the first owes nothing and is no longer
/// overdue. F-2 has one due date: no `installments` key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_case_view_lists_each_installment_as_it_stands_today() {
    let dir = TempDir::new("case-view-installments");
    let (base, client) = serve(&dir.0, "2026-01-05", Duration::from_secs(20)).await;
    let portfolio = json!({
        "customers": [{"id": "ACME", "segment": "b2b",
                       "contacts": {"accounting": {"email": "compta@acme.example"}}}],
        "invoices": [
            {"id": "F-1", "customer": "ACME", "amount": "1000", "currency": "EUR",
             "issued": "2025-12-01", "due": "2026-02-15", "installments": [{"due": "2025-12-15", "amount": "300"},
                                                {"due": "2026-02-15", "amount": "700"}]},
            {"id": "F-2", "customer": "ACME", "amount": "500", "currency": "EUR",
             "issued": "2025-12-01", "due": "2025-12-31"}
        ]
    });
    let answers = run_rows(
        &client,
        &base,
        &[
            Row::new(
                Method::POST,
                "/v1/import",
                Some(INTEGRATION),
                Body::Json(portfolio),
                200,
            ),
            Row::new(Method::POST, "/v1/run", Some(ADMIN), Body::None, 200),
            get("/v1/invoices/F-1"),
            get("/v1/invoices/F-2"),
            Row::new(
                Method::POST,
                "/v1/invoices/F-1/payments",
                Some(INTEGRATION),
                Body::Json(json!({"amount": "300", "currency": "EUR"})),
                200,
            ),
            get("/v1/invoices/F-1"),
        ],
    )
    .await;
    assert_eq!(
        answers[2]["installments"],
        json!([
            {"number": 1, "due": "2025-12-15", "amount": "300", "unpaid": "300",
             "days_late": 21, "overdue": true},
            {"number": 2, "due": "2026-02-15", "amount": "700", "unpaid": "700",
             "days_late": -41, "overdue": false}
        ]),
        "{}",
        answers[2]
    );
    assert!(answers[3].get("installments").is_none(), "{}", answers[3]);
    assert_eq!(
        answers[5]["installments"],
        json!([
            {"number": 1, "due": "2025-12-15", "amount": "300", "unpaid": "0",
             "days_late": 21, "overdue": false},
            {"number": 2, "due": "2026-02-15", "amount": "700", "unpaid": "700",
             "days_late": -41, "overdue": false}
        ]),
        "{}",
        answers[5]
    );
}

/// A `per customer` scenario whose level names mix capitals, hyphens and underscores (the
/// simulator's `timelines::account_level_names_show_in_the_timeline_as_written` uses the
/// same): the account view names the level as written, and the account's messages carry
/// `level NAME` as their step. F-1 due 31 January 2026: 30 days late on 2 March, 40 on
/// 12 March; on 15 March the account stands in MISE_EN_DEMEURE-2 since 12 March.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_view_names_the_level_as_written() {
    const SET: &str = r#"
scenario overdue {
  per customer
  level Relance-Amiable_1 when customer.oldest_overdue_days >= 30 {
    webhook "first"
  }
  level MISE_EN_DEMEURE-2 when customer.oldest_overdue_days >= 40 {
    webhook "second"
  }
}
"#;
    let dir = TempDir::new("case-view-levels");
    let set = dir.0.join("set");
    std::fs::create_dir_all(&set).expect("set dir");
    std::fs::write(set.join("overdue.relance"), SET).expect("set");
    let config = config(&dir.0);
    let engine = server::open(
        &config,
        ClockMode::Virtual {
            start: Some("2026-02-15".parse().expect("date")),
        },
        Some(&set),
    )
    .expect("a per customer set is served");
    let p = relance_data::portfolio::from_json(
        r#"{"customers": [{"id": "ACME", "segment": "b2b"}],
            "invoices": [{"id": "F-1", "customer": "ACME", "amount": "100", "issued": "2026-01-01", "due": "2026-01-31"}]}"#,
    )
    .expect("case");
    engine.import(&p).expect("import");
    engine
        .advance_to("2026-03-15".parse().expect("date"))
        .expect("advance");
    let mut steps: Vec<(NaiveDate, String)> = engine
        .outbox()
        .expect("outbox")
        .into_iter()
        .flat_map(|m| {
            let date = m.date;
            m.items.into_iter().map(move |i| (date, i.step))
        })
        .collect();
    steps.sort();
    assert_eq!(
        steps,
        [
            (
                "2026-03-02".parse().expect("date"),
                "level Relance-Amiable_1".to_string()
            ),
            (
                "2026-03-12".parse().expect("date"),
                "level MISE_EN_DEMEURE-2".to_string()
            ),
        ]
    );
    let (base, client) =
        crate::support::serve_engine(engine, config, Duration::from_secs(20)).await;
    let answers = run_rows(&client, &base, &[get("/v1/customers/ACME")]).await;
    let accounts: &Value = &answers[0]["accounts"];
    assert_eq!(
        accounts,
        &json!([{"scenario": "overdue", "currency": "EUR", "level": "MISE_EN_DEMEURE-2",
                  "since": "2026-03-12", "invoices": ["F-1"]}]),
        "{}",
        answers[0]
    );
}
