//! Account-level dunning in the daemon (`account.rs`): the simulator's semantics case
//! `engine/sim/tests/it/semantics/account-level.relance` ("the account climbs OD1, OD2, OD3,
//! steps down on a payment, clears", after Kill Bill's
//! `TestOverdueIntegration.java::testBasicOverdueState`), its emails made webhooks (no
//! templates needed), run by the daily run with the payments sent on their days and the
//! engine reopened from disk in the middle. Hand-computed there: F-1 due 31 January is 30
//! days late on 2 March (od1), 40 on 12 March (od2), 50 on 22 March (od3); F-1 paid on
//! 25 March leaves F-2 (due 10 February, 43 days late): od2 again, for F-2 alone; F-2 paid on
//! 27 March: `on clear`, for F-2 (the invoice listed last).

use chrono::NaiveDate;

use relance_core::domain::Portfolio;
use relance_daemon::account;
use relance_daemon::config::Config;
use relance_daemon::server::{self, ClockMode};
use relance_data::portfolio;

use crate::support::TempDir;

const SET: &str = r#"
scenario overdue {
  per customer
  level od1 when customer.oldest_overdue_days >= 30 {
    webhook "od1"
  }
  level od2 when customer.oldest_overdue_days >= 40 {
    webhook "od2"
  }
  level od3 when customer.oldest_overdue_days >= 50 {
    block deliveries
    alert "account blocked" to credit-manager
  }
  on clear {
    unblock deliveries
    webhook "thanks"
  }
}
"#;

const ACME: &str = r#"{
  "customers": [{"id": "ACME", "segment": "b2b"}],
  "invoices": [
    {"id": "F-1", "customer": "ACME", "amount": "100", "currency": "EUR", "issued": "2026-01-01", "due": "2026-01-31"},
    {"id": "F-2", "customer": "ACME", "amount": "200", "currency": "EUR", "issued": "2026-01-11", "due": "2026-02-10"}
  ],
  "events": [
    {"date": "2026-03-25", "type": "payment", "invoice": "F-1", "amount": "100"},
    {"date": "2026-03-27", "type": "payment", "invoice": "F-2", "amount": "200"}
  ]
}"#;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

#[test]
fn an_account_climbs_steps_down_on_a_payment_and_clears() {
    let tmp = TempDir::new("accounts");
    let set = tmp.0.join("set");
    std::fs::create_dir_all(&set).expect("set dir");
    std::fs::write(set.join("overdue.relance"), SET).expect("set");
    let config = Config {
        data: tmp.0.join("data"),
        spool: tmp.0.join("spool"),
        ..Config::default()
    };
    let from = d("2026-02-15");
    let open = || {
        server::open(
            &config,
            ClockMode::Virtual { start: Some(from) },
            Some(&set),
        )
        .expect("a per customer set is served")
    };
    let all = portfolio::from_json(ACME).expect("a valid portfolio");
    let engine = open();
    engine
        .import(&Portfolio {
            events: Vec::new(),
            ..all.clone()
        })
        .expect("import");
    engine.advance_to(d("2026-03-15")).expect("advance");
    // Reopened from disk between od2 and od3.
    engine.flush().expect("flush");
    drop(engine);
    let engine = open();
    for ev in &all.events {
        engine
            .advance_to(ev.date.pred_opt().expect("date"))
            .expect("advance");
        engine.move_virtual_clock(ev.date).expect("clock");
        let payment = Portfolio {
            events: vec![ev.clone()],
            ..Portfolio::default()
        };
        engine.import(&payment).expect("payment");
    }
    engine.advance_to(d("2026-04-30")).expect("advance");

    let mut got: Vec<(NaiveDate, String, Vec<String>)> = engine
        .outbox()
        .expect("outbox")
        .into_iter()
        .map(|m| {
            let invoices = m.items.iter().map(|i| i.invoice.clone()).collect();
            (m.date, m.text, invoices)
        })
        .collect();
    got.sort();
    let both = || vec!["F-1".to_string(), "F-2".to_string()];
    let f2 = || vec!["F-2".to_string()];
    assert_eq!(
        got,
        [
            (d("2026-03-02"), r#"webhook "od1""#.to_string(), both()),
            (d("2026-03-12"), r#"webhook "od2""#.to_string(), both()),
            (
                d("2026-03-22"),
                r#"alert "account blocked" to credit-manager"#.to_string(),
                both()
            ),
            (d("2026-03-22"), "block deliveries".to_string(), both()),
            (d("2026-03-25"), r#"webhook "od2""#.to_string(), f2()),
            (d("2026-03-27"), "unblock deliveries".to_string(), f2()),
            (d("2026-03-27"), r#"webhook "thanks""#.to_string(), f2()),
        ]
    );
    let accounts = account::accounts(engine.store()).expect("accounts");
    assert_eq!(accounts.len(), 1);
    let (customer, scenario, currency, record) = &accounts[0];
    assert_eq!(
        (customer.as_str(), scenario.as_str(), currency.as_str()),
        ("ACME", "overdue", "EUR")
    );
    assert_eq!(record.state.level, None, "clear");
    assert_eq!(record.state.runs, 5, "od1, od2, od3, od2, clear");
}

/// An account-level message's items carry the late-interest rate each invoice runs at, as the
/// per-invoice path does (regression: they carried none, and a letter fell back to the
/// customer's rate or ECB + 10, ignoring the invoice's own rate and the scenario's).
#[test]
fn account_items_carry_each_invoices_late_interest_rate() {
    let tmp = TempDir::new("accounts-rates");
    let set = tmp.0.join("set");
    std::fs::create_dir_all(&set).expect("set dir");
    std::fs::write(
        set.join("overdue.relance"),
        r#"
scenario overdue {
  per customer
  late-interest 12.5%
  level od1 when customer.oldest_overdue_days >= 30 {
    webhook "od1"
  }
}
"#,
    )
    .expect("set");
    let config = Config {
        data: tmp.0.join("data"),
        spool: tmp.0.join("spool"),
        ..Config::default()
    };
    let engine = server::open(
        &config,
        ClockMode::Virtual {
            start: Some(d("2026-02-15")),
        },
        Some(&set),
    )
    .expect("a per customer set is served");
    let p = portfolio::from_json(
        r#"{"customers": [{"id": "ACME", "segment": "b2b"}],
            "invoices": [
              {"id": "F-1", "customer": "ACME", "amount": "100", "issued": "2026-01-01", "due": "2026-01-31", "late_interest_rate": "15"},
              {"id": "F-2", "customer": "ACME", "amount": "200", "issued": "2026-01-11", "due": "2026-02-10"}]}"#,
    )
    .expect("a valid portfolio");
    engine.import(&p).expect("import");
    engine.advance_to(d("2026-03-05")).expect("advance");
    let mut got: Vec<(String, Option<String>, bool)> = engine
        .outbox()
        .expect("outbox")
        .into_iter()
        .flat_map(|m| m.items)
        .map(|i| {
            (
                i.invoice,
                i.late_interest_rate.map(|r| r.to_string()),
                i.late_interest_contractual,
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("F-1".to_string(), Some("15".to_string()), true),
            ("F-2".to_string(), Some("12.5".to_string()), true),
        ]
    );
}
