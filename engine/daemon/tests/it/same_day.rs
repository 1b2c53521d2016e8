//! The canonical order of one day's facts (LANGUAGE.md, "What happens first on one day",
//! rule 2; `relance_core::fact_order`), through the daemon's HTTP import against the planner.
//! A data folder holds, on one day, a full payment of an invoice in `payments.csv` and a
//! dispute on it in `events.csv`: the planner takes the payment first (the invoice is closed,
//! the dispute changes nothing). The daemon gets the same files one request each, in the
//! order a user may send them (customers, invoices, then `events.csv` before
//! `payments.csv`), and must decide what `relance plan` decides; before the canonical order it
//! applied the dispute first (date then order of receipt) and opened a task the planner never
//! plans. The facts stored keep their file, kind and line as typed data.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use reqwest::StatusCode;
use serde_json::{Value, json};

use relance_core::fact_order::{FileKind, FileLine};
use relance_daemon::Engine;
use relance_daemon::model::{StoredEvent, decode};
use relance_daemon::server::{self, ClockMode};
use relance_daemon::store::Tree;
use relance_data::portfolio;

use crate::parity::{assert_agree, decided, planned};
use crate::support::{ADMIN, INTEGRATION, TempDir, config, serve_engine};

const CUSTOMERS: &str =
    "id,name,segment,risk_score,credit_insured,language,payment_terms_days,tags,accounting_email
C1,Ateliers Martin,b2b,10,false,fr,30,,compta@c1.example
";
const INVOICES: &str = "id,customer,amount,currency,issued,due,po_number
F-1,C1,5000.00,EUR,2026-01-05,2026-02-04,
F-2,C1,3000.00,EUR,2026-01-10,2026-02-09,
";
const PAYMENTS: &str = "date,invoice,amount,reference
2026-02-20,F-1,5000.00,VIR-1
";
const EVENTS: &str = "date,type,invoice,code,amount,promised_date
2026-02-20,dispute_opened,F-1,quality,,
";

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

async fn post(
    client: &reqwest::Client,
    url: String,
    token: &str,
    body: reqwest::Body,
) -> (StatusCode, Value) {
    let resp = client
        .post(url)
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Opens a store on `from` (its run not done: the day's imports come first) and serves it.
async fn daemon(tmp: &TempDir, from: NaiveDate) -> (Arc<Engine>, String, reqwest::Client) {
    let config = config(&tmp.0);
    let engine = server::open(
        &config,
        ClockMode::Virtual { start: Some(from) },
        Some(&crate::workspace().join("stdlib-scenarios")),
    )
    .expect("engine");
    let (base, client) = serve_engine(engine.clone(), config, Duration::from_secs(60)).await;
    (engine, base, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_days_payment_and_dispute_from_two_files_count_as_the_planner_counts_them() {
    let tmp = TempDir::new("same-day");
    let data = tmp.0.join("folder");
    std::fs::create_dir_all(&data).expect("folder");
    for (name, text) in [
        ("customers.csv", CUSTOMERS),
        ("invoices.csv", INVOICES),
        ("payments.csv", PAYMENTS),
        ("events.csv", EVENTS),
    ] {
        std::fs::write(data.join(name), text).expect("write");
    }
    let p = portfolio::load_dir(&data).expect("the folder loads");
    let (from, on, until) = (day("2026-02-01"), day("2026-02-20"), day("2026-03-20"));
    let stdlib = crate::workspace().join("stdlib-scenarios");
    let (plan, plan_states, _) = planned(&p, Path::new(&stdlib), from, until);
    assert!(
        plan.get("F-1")
            .is_some_and(|a| a.iter().any(|(d, _, _)| *d < on)),
        "F-1 is chased before the day: {plan:?}"
    );
    assert!(
        !plan
            .get("F-1")
            .is_some_and(|a| a.iter().any(|(d, _, _)| *d >= on)),
        "paid first, F-1 gets nothing from the dispute: {plan:?}"
    );

    let (engine, base, client) = daemon(&tmp, from).await;
    let upload = |path: &str, text: &'static str| {
        post(&client, format!("{base}{path}"), INTEGRATION, text.into())
    };
    let advance = |body: Value| {
        post(
            &client,
            format!("{base}/v1/clock/advance"),
            ADMIN,
            body.to_string().into(),
        )
    };
    for (path, text) in [
        ("/v1/import/csv/customers", CUSTOMERS),
        ("/v1/import/csv/invoices", INVOICES),
    ] {
        let (st, v) = upload(path, text).await;
        assert_eq!(st, StatusCode::OK, "{path}: {v}");
    }
    let (st, v) = advance(json!({"to": on, "run": false})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // The user's order: the events file first, then the payments.
    for (path, text) in [
        ("/v1/import/events", EVENTS),
        ("/v1/import/csv/payments", PAYMENTS),
    ] {
        let (st, v) = upload(path, text).await;
        assert_eq!(st, StatusCode::OK, "{path}: {v}");
        assert_eq!(v["written"], true, "{path}: {v}");
    }
    let (st, v) = advance(json!({"to": until})).await;
    assert_eq!(st, StatusCode::OK, "{v}");

    let (got, got_states) = decided(&engine, &p);
    assert_agree(0, (&plan, &plan_states), (&got, &got_states));

    // Each fact keeps where it was read, as typed data.
    let mut stored: Vec<(String, Option<String>, Option<FileLine>)> = Vec::new();
    engine
        .store()
        .scan(Tree::Events, &mut |_, v| {
            let e: StoredEvent = decode("event", v).expect("a stored event");
            if e.event.kind.invoice() == Some("F-1") {
                stored.push((e.source.via, e.source.file, e.source.at));
            }
            Ok(())
        })
        .expect("scan");
    stored.sort_by_key(|(_, file, _)| file.clone());
    let at = |kind| {
        Some(FileLine {
            kind,
            file: 0,
            line: 2,
        })
    };
    assert_eq!(
        stored,
        [
            (
                "import".to_string(),
                Some("events.csv".to_string()),
                at(FileKind::Events)
            ),
            (
                "import".to_string(),
                Some("payments.csv".to_string()),
                at(FileKind::Payments)
            ),
        ]
    );
}
