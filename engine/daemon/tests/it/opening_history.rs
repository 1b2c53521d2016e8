//! The policy of a day's new cases counts the settlements that came with them, as the planner
//! does: found by the SIGKILL differential (`engine/cli/tests/it/crash.rs`) at 2,000 and 1,000
//! invoices, present without any kill. A day's run opens its new cases (policy assignment)
//! before it applies the facts waiting for it; the planner's payment log counts every
//! settlement dated up to the day. The daemon now counts, when it opens a day's cases, the
//! settlements and disputes of the facts waiting for that run, dated up to the day
//! (`engine/daemon/src/foresight.rs`). With the stdlib, a b2b customer whose only history is
//! an invoice paid a month late or more gets `high-risk` for its new invoice
//! (`customer.avg_days_late >= 30`), not `standard-b2b`, in both forms: the payment dated
//! before the day, imported with the day's invoices, and the payment dated on the day new
//! invoices of the customer are issued. Each fact reaches the daemon on its own date (what is
//! older on the first day), before that day's run, as in the differential; this file must not
//! test anything else.

use chrono::NaiveDate;

use relance_core::domain::Portfolio;
use relance_daemon::server::{self, ClockMode};

use crate::parity::{Fact, arrivals, decided, differences, planned};
use crate::support::TempDir;

/// An older invoice of the customer, settled on 28 March (36 days late), imported on the first
/// day (31 March) together with it and with a new invoice issued on 15 March.
const BEFORE_THE_DAY: &str = r#"{
  "customers": [
    {"id": "C45", "segment": "b2b", "risk_score": 41, "language": "fr",
     "contacts": {"accounting": {"email": "compta@c45.example"}}}
  ],
  "invoices": [
    {"id": "OLD", "customer": "C45", "amount": "158.93", "issued": "2026-01-21", "due": "2026-02-20"},
    {"id": "NEW", "customer": "C45", "amount": "5181.72", "issued": "2026-03-15", "due": "2026-04-14"}
  ],
  "events": [
    {"date": "2026-03-28", "type": "payment", "invoice": "OLD", "amount": "158.93"}
  ]
}"#;

/// The older invoice's case runs from the first day; it is paid on 10 April (49 days late),
/// the day the new invoice is issued: both reach the daemon on 10 April, before its run.
const ON_THE_DAY: &str = r#"{
  "customers": [
    {"id": "C45", "segment": "b2b", "risk_score": 41, "language": "fr",
     "contacts": {"accounting": {"email": "compta@c45.example"}}}
  ],
  "invoices": [
    {"id": "OLD", "customer": "C45", "amount": "158.93", "issued": "2026-01-21", "due": "2026-02-20"},
    {"id": "NEW", "customer": "C45", "amount": "5181.72", "issued": "2026-04-10", "due": "2026-05-11"}
  ],
  "events": [
    {"date": "2026-04-10", "type": "payment", "invoice": "OLD", "amount": "158.93"}
  ]
}"#;

fn date(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// The facts of one day as one import.
fn portfolio(facts: &[Fact]) -> Portfolio {
    let mut p = Portfolio::default();
    for f in facts {
        match f {
            Fact::Customer(c) => p.customers.push(c.clone()),
            Fact::Invoice(i) => p.invoices.push(i.clone()),
            Fact::Event(e) => p.events.push(e.clone()),
        }
    }
    p
}

#[test]
fn a_settlement_sent_with_the_days_invoices_counts_in_their_policy() {
    let cases = [
        ("before the day", BEFORE_THE_DAY, "2026-04-30"),
        ("on the day", ON_THE_DAY, "2026-05-15"),
    ];
    let mut failures = Vec::new();
    for (name, json, until) in cases {
        let tmp = TempDir::new("opening-history");
        let p = relance_data::portfolio::from_json(json).expect("portfolio");
        let set = crate::workspace().join("stdlib-scenarios");
        let from = date("2026-03-31");
        let until = date(until);
        let (plan, _, _) = planned(&p, &set, from, until);
        assert!(
            plan["NEW"]
                .iter()
                .any(|(_, key, _)| key.contains("/confirm/")),
            "{name}: the planner gives NEW the high-risk scenario (its `confirm` call): {plan:?}"
        );
        let config = crate::support::config(&tmp.0);
        let engine = server::open(
            &config,
            ClockMode::Virtual { start: Some(from) },
            Some(&set),
        )
        .expect("engine");
        let by_day = arrivals(&p, from);
        let mut day = from;
        while day <= until {
            engine.move_virtual_clock(day).expect("clock");
            if let Some(facts) = by_day.get(&day) {
                engine
                    .import_keyed(&portfolio(facts), None)
                    .expect("import");
            }
            engine.catch_up(day).expect("run");
            day = day.succ_opt().expect("date");
        }
        let (got, _) = decided(&engine, &p);
        let diff = differences(&plan, &got, 5);
        if !diff.is_empty() {
            failures.push(format!("{name}:\n{}", diff.join("\n")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
