//! The contact cadence in the daemon (`cadence.rs`): the stdlib's own cadence test
//! (`standard-b2b: the cadence sends one reminder a day, at least 5 days apart`, 5 days) run
//! by the daily run, with the engine closed and reopened while a message waits out the gap,
//! and the same with the waiting invoice paid, or its customer placed under a collective
//! procedure (L622-21: no action for prior claims), before its message goes out; then a message
//! decided after the day's run. Expectations are the stdlib test's, computed by hand there:
//! reminder-1 on due + 5, reminder-2 on due + 15, a gap of 5 days.

use std::sync::Arc;

use chrono::NaiveDate;

use relance_core::domain::Portfolio;
use relance_daemon::Engine;
use relance_daemon::cadence;
use relance_daemon::config::Config;
use relance_daemon::server::{self, ClockMode};
use relance_data::portfolio;

use crate::support::TempDir;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn open(tmp: &TempDir, from: NaiveDate) -> Arc<Engine> {
    let config = Config {
        data: tmp.0.join("data"),
        spool: tmp.0.join("spool"),
        ..Config::default()
    };
    let scenarios = crate::workspace().join("stdlib-scenarios");
    server::open(
        &config,
        ClockMode::Virtual { start: Some(from) },
        Some(&scenarios),
    )
    .expect("engine")
}

/// ACME (b2b, so `standard-b2b`): three invoices of 800 EUR (no preventive email).
fn acme() -> Portfolio {
    portfolio::from_json(
        r#"{
  "customers": [{"id": "ACME", "name": "Acme SA", "segment": "b2b"}],
  "invoices": [
    {"id": "A-1", "customer": "ACME", "amount": "800", "currency": "EUR", "issued": "2026-03-02", "due": "2026-04-01"},
    {"id": "A-2", "customer": "ACME", "amount": "800", "currency": "EUR", "issued": "2026-03-12", "due": "2026-04-11"},
    {"id": "A-3", "customer": "ACME", "amount": "800", "currency": "EUR", "issued": "2026-03-14", "due": "2026-04-13"}
  ]
}"#,
    )
    .expect("a valid portfolio")
}

/// The emails in the outbox: (day, template action, invoices listed), in date order.
fn emails(engine: &Engine) -> Vec<(NaiveDate, String, Vec<String>)> {
    let mut out: Vec<_> = engine
        .outbox()
        .expect("outbox")
        .into_iter()
        .filter(|m| m.channel == "email")
        .map(|m| {
            let invoices = m.items.iter().map(|i| i.invoice.clone()).collect();
            (m.date, m.text, invoices)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_daily_run_merges_and_defers_and_a_restart_keeps_what_waits() {
    let reminder_1 = r#"email "reminder-1" to accounting"#;
    let reminder_2 = r#"email "reminder-2" to accounting cc sales"#;
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // (what happens on 19 April, the emails expected through 22 April)
    let payment = r#"{"date": "2026-04-19", "type": "payment", "invoice": "A-3", "amount": "800"}"#;
    let insolvency = r#"{"date": "2026-04-19", "type": "insolvency_opened", "customer": "ACME", "procedure": "redressement", "judgment_on": "2026-04-19"}"#;
    let cases = [
        (
            None,
            vec![
                (d("2026-04-06"), reminder_1.to_string(), owned(&["A-1"])),
                // A-1's second reminder and A-2's first: one email, the second reminder's.
                (
                    d("2026-04-16"),
                    reminder_2.to_string(),
                    owned(&["A-1", "A-2"]),
                ),
                // A-3's first reminder, due 18 April, waited for 16 April + 5 days.
                (d("2026-04-21"), reminder_1.to_string(), owned(&["A-3"])),
            ],
        ),
        (
            Some(payment),
            vec![
                (d("2026-04-06"), reminder_1.to_string(), owned(&["A-1"])),
                (
                    d("2026-04-16"),
                    reminder_2.to_string(),
                    owned(&["A-1", "A-2"]),
                ),
                // A-3 paid while its reminder waited: dropped.
            ],
        ),
        (
            Some(insolvency),
            vec![
                (d("2026-04-06"), reminder_1.to_string(), owned(&["A-1"])),
                (
                    d("2026-04-16"),
                    reminder_2.to_string(),
                    owned(&["A-1", "A-2"]),
                ),
                // ACME under a procedure while A-3's reminder waited: its claim is frozen,
                // the reminder dropped.
            ],
        ),
    ];
    for (n, (event, expected)) in cases.into_iter().enumerate() {
        let paid = event.unwrap_or("none");
        let tmp = TempDir::new(&format!("cadence-{n}"));
        let from = d("2026-03-15");
        let engine = open(&tmp, from);
        engine.import(&acme()).expect("import");
        engine.advance_to(d("2026-04-18")).expect("advance");
        let waiting = cadence::waiting(engine.store()).expect("waiting");
        let got: Vec<_> = waiting
            .iter()
            .map(|m| (m.invoice.as_str(), m.due_on, m.date))
            .collect();
        assert_eq!(
            got,
            [("A-3", Some(d("2026-04-18")), d("2026-04-21"))],
            "event {paid}"
        );
        // Closed and reopened from disk while the message waits.
        engine.flush().expect("flush");
        drop(engine);
        let engine = open(&tmp, from);
        assert_eq!(cadence::waiting(engine.store()).expect("waiting"), waiting);
        engine.move_virtual_clock(d("2026-04-19")).expect("clock");
        if let Some(event) = event {
            // Read with its invoice (validation resolves references), sent alone.
            let with_invoice = portfolio::from_json(&format!(
                r#"{{"customers": [{{"id": "ACME"}}],
                    "invoices": [{{"id": "A-3", "customer": "ACME", "amount": "800", "currency": "EUR", "issued": "2026-03-14", "due": "2026-04-13"}}],
                    "events": [{event}]}}"#,
            ))
            .expect("a valid event");
            let payment = Portfolio {
                events: with_invoice.events,
                ..Portfolio::default()
            };
            engine.import(&payment).expect("payment");
        }
        engine.advance_to(d("2026-04-22")).expect("advance");
        assert_eq!(emails(&engine), expected, "event {paid}");
        assert!(
            cadence::waiting(engine.store())
                .expect("waiting")
                .is_empty(),
            "event {paid}: nothing waits any more"
        );
    }
}

/// A fact sent after the day's run goes through the cadence at once: on 16 April, after the
/// run sent A-1 and A-2 their merged reminder, A-1 is moved back to `standard-b2b` from its
/// first step (OCA's policy changer); its tick catches up to reminder-2 (due 16 April), whose
/// email finds ACME contacted that day and waits for 16 + 5 = 21 April, where it merges with
/// A-3's first reminder (due 18 April, waiting too): one email, reminder-2's, for both.
#[test]
fn a_message_decided_after_the_run_waits_for_the_gap() {
    let reminder_1 = r#"email "reminder-1" to accounting"#;
    let reminder_2 = r#"email "reminder-2" to accounting cc sales"#;
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let tmp = TempDir::new("cadence-late-fact");
    let engine = open(&tmp, d("2026-03-15"));
    engine.import(&acme()).expect("import");
    engine.advance_to(d("2026-04-16")).expect("advance");
    // Read with its invoice (validation resolves references), sent alone.
    let events = portfolio::from_json(
        r#"{"customers": [{"id": "ACME"}],
            "invoices": [{"id": "A-1", "customer": "ACME", "amount": "800", "currency": "EUR", "issued": "2026-03-02", "due": "2026-04-01"}],
            "events": [{"date": "2026-04-16", "type": "scenario_changed", "invoice": "A-1", "scenario": "standard-b2b", "step": "reminder-1", "by": "marie", "because": "start again"}]}"#,
    )
    .expect("a valid change")
    .events;
    let change = Portfolio {
        events,
        ..Portfolio::default()
    };
    engine.import(&change).expect("change");
    let waiting: Vec<_> = cadence::waiting(engine.store())
        .expect("waiting")
        .into_iter()
        .map(|m| (m.invoice, m.due_on, m.date, m.action.to_string()))
        .collect();
    assert_eq!(
        waiting,
        [(
            "A-1".to_string(),
            Some(d("2026-04-16")),
            d("2026-04-21"),
            reminder_2.to_string()
        )]
    );
    // What the customer's view (`GET /v1/customers/{id}`, `waiting`) lists: ACME's message,
    // nothing for a customer with none.
    let for_acme = cadence::waiting_for(engine.store(), "ACME").expect("waiting");
    assert_eq!(for_acme.len(), 1);
    assert_eq!(
        (for_acme[0].invoice.as_str(), for_acme[0].date),
        ("A-1", d("2026-04-21"))
    );
    assert!(
        cadence::waiting_for(engine.store(), "BETA")
            .expect("waiting")
            .is_empty()
    );
    engine.advance_to(d("2026-04-22")).expect("advance");
    assert_eq!(
        emails(&engine),
        [
            (d("2026-04-06"), reminder_1.to_string(), owned(&["A-1"])),
            (
                d("2026-04-16"),
                reminder_2.to_string(),
                owned(&["A-1", "A-2"])
            ),
            (
                d("2026-04-21"),
                reminder_2.to_string(),
                owned(&["A-1", "A-3"])
            ),
        ]
    );
}
