//! Collection activity and payment behaviour computed from real engine runs (so that a change
//! in the runtime's records shows up here): the report fixture over the stdlib scenarios, and
//! a table of one-invoice cases with a small inline scenario ([`ONE_INVOICE`]) for what each
//! promise and dispute count must count once.

use std::path::Path;

use chrono::NaiveDate;
use relance_core::interest::RateTable;
use relance_core::rules::RuleSet;
use relance_core::runtime::Shared;
use relance_dsl::{SetContext, SourceFile, compile};
use relance_sim::reports::activity::{BEFORE_ANY_STEP, activity};
use relance_sim::reports::behaviour::{Trend, behaviour};
use relance_sim::simulator::{Run, Simulator};
use relance_sim::testing;
use rust_decimal::Decimal;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn run_fixture(at: NaiveDate) -> (relance_core::domain::Portfolio, Run) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let p = relance_data::portfolio::load_dir(&root.join("../data/tests-data/import/reports"))
        .expect("fixture");
    let set =
        relance_core::scenario_set::load(&root.join("../../stdlib-scenarios")).expect("stdlib");
    let compiled = set.compile();
    let ir = compiled.set.as_ref().expect("stdlib compiles");
    let shared = Shared {
        set: ir,
        rules: &set.rules,
        rates: RateTable::builtin(),
    };
    let from = p.start().expect("start");
    let run = Simulator::new(shared, &p).run(from, at, &mut |_| {});
    (p, run)
}

#[test]
fn activity_counts_what_the_engine_did() {
    let at = d("2026-04-30");
    let (_, run) = run_fixture(at);
    let a = activity(&run.actions, &run.records, at);
    assert!(!a.messages.is_empty(), "the stdlib sends reminders");
    assert!(
        a.messages
            .iter()
            .all(|m| m.messages <= m.actions && m.messages > 0)
    );
    assert_eq!(a.promises_made, 1);
    assert_eq!(
        (a.promises_kept, a.promises_broken),
        (0, 1),
        "B2's promise of 2026-03-20 was not kept"
    );
    assert_eq!(a.promises_kept_pct, Some(Decimal::ZERO));
    assert_eq!((a.disputes_opened, a.disputes_resolved), (2, 1));
    assert_eq!(
        a.mean_resolution_days,
        Some(Decimal::from(7)),
        "A1: 2026-02-20 to 2026-02-27"
    );
    let collected: Decimal = a.collected.iter().map(|c| c.amount).sum();
    assert_eq!(
        collected,
        Decimal::from(2800),
        "every payment is attributed to a step or to none"
    );
    assert_eq!(a.collected.iter().map(|c| c.payments).sum::<usize>(), 3);
    assert!(
        a.collected.iter().any(|c| c.step != BEFORE_ANY_STEP),
        "{:?}",
        a.collected
    );
    assert!(
        a.to_text()
            .contains("promises: 1 made, 0 kept on time, 1 broken")
    );
    assert!(a.to_csv().starts_with("section,key,detail,value\n"));
}

#[test]
fn behaviour_per_customer() {
    let at = d("2026-04-30");
    let (p, run) = run_fixture(at);
    let rows = behaviour(&p, &run.records, at);
    let a = rows.iter().find(|b| b.customer == "A").expect("A");
    assert_eq!(
        (
            a.settled_invoices,
            a.average_days_late,
            a.open_overdue,
            a.disputes_opened
        ),
        (0, None, 2, 2)
    );
    let b = rows.iter().find(|b| b.customer == "B").expect("B");
    // B1 settled 46 days late, B4 on time; B3 written off is not a payment.
    assert_eq!(b.settled_invoices, 2);
    assert_eq!(b.average_days_late, Some("23.0".parse().expect("d")));
    assert_eq!(b.paid_on_time_pct, Some("50.0".parse().expect("d")));
    assert_eq!((b.promises_made, b.promises_broken), (1, 1));
    assert_eq!(
        b.trend,
        Trend::Unknown,
        "nothing settled from November to January"
    );
    assert_eq!(b.months.len(), 6);
    assert_eq!(b.months[0].month, "2025-11");
    assert_eq!(b.months[3].settled, 1);
}

/// What the activity report should count for one row of [`ONE_INVOICE`].
struct Counts {
    made: usize,
    kept: usize,
    broken: usize,
    kept_pct: Option<&'static str>,
    opened: usize,
    resolved: usize,
    mean_resolution_days: Option<&'static str>,
    payments: usize,
}

/// `(case, handlers added to the scenario, events of the test block, what is counted)`: one
/// invoice F-1 of 1000 EUR due 2026-01-31 (reminder-1 02-03, reminder-2 02-15, notice 03-02,
/// promise grace 3 days), run to 2026-03-31. Each fact is counted once, whatever status change
/// it also causes (a kept or broken promise ends the wait for it, a resolution resumes the
/// case, a `stop` closes it: those changes repeat their cause).
const ONE_INVOICE: &[(&str, &str, &str, Counts)] = &[
    (
        "a promise kept by a full payment before the promised date",
        "",
        // Waits until 02-23; paid 02-18: kept, the wait ends, the case closes.
        "on 2026-02-05 promise F-1 2026-02-20
         on 2026-02-18 payment F-1 1000 EUR",
        Counts {
            made: 1,
            kept: 1,
            broken: 0,
            kept_pct: Some("100"),
            opened: 0,
            resolved: 0,
            mean_resolution_days: None,
            payments: 1,
        },
    ),
    (
        "a promise of an amount kept by a part payment",
        "",
        // 400 EUR promised and paid: kept, the wait ends and the chase resumes.
        "on 2026-02-05 promise F-1 2026-02-20 400 EUR
         on 2026-02-18 payment F-1 400 EUR",
        Counts {
            made: 1,
            kept: 1,
            broken: 0,
            kept_pct: Some("100"),
            opened: 0,
            resolved: 0,
            mean_resolution_days: None,
            payments: 1,
        },
    ),
    (
        "a promise kept with an `on promise kept` handler",
        "on promise kept { resume }",
        "on 2026-02-05 promise F-1 2026-02-20 400 EUR
         on 2026-02-18 payment F-1 400 EUR",
        Counts {
            made: 1,
            kept: 1,
            broken: 0,
            kept_pct: Some("100"),
            opened: 0,
            resolved: 0,
            mean_resolution_days: None,
            payments: 1,
        },
    ),
    (
        "a promise kept on the day it is judged (the payment comes before the tick)",
        "",
        // 02-20 + 3 days = 02-23: the payment of that day keeps it, the tick judges nothing.
        "on 2026-02-05 promise F-1 2026-02-20
         on 2026-02-23 payment F-1 1000 EUR",
        Counts {
            made: 1,
            kept: 1,
            broken: 0,
            kept_pct: Some("100"),
            opened: 0,
            resolved: 0,
            mean_resolution_days: None,
            payments: 1,
        },
    ),
    (
        "a promise broken while the case waits for it (no handler)",
        "",
        // Broken 02-23: the wait ends with it.
        "on 2026-02-05 promise F-1 2026-02-20",
        Counts {
            made: 1,
            kept: 0,
            broken: 1,
            kept_pct: Some("0"),
            opened: 0,
            resolved: 0,
            mean_resolution_days: None,
            payments: 0,
        },
    ),
    (
        "a promise broken with an `on promise broken` handler",
        "on promise broken { goto notice }",
        "on 2026-02-05 promise F-1 2026-02-20",
        Counts {
            made: 1,
            kept: 0,
            broken: 1,
            kept_pct: Some("0"),
            opened: 0,
            resolved: 0,
            mean_resolution_days: None,
            payments: 0,
        },
    ),
    (
        "a payment after a broken promise keeps nothing",
        "",
        // Broken by the tick of 02-23; the payment of 03-01 closes the case, no promise left.
        "on 2026-02-05 promise F-1 2026-02-20
         on 2026-03-01 payment F-1 1000 EUR",
        Counts {
            made: 1,
            kept: 0,
            broken: 1,
            kept_pct: Some("0"),
            opened: 0,
            resolved: 0,
            mean_resolution_days: None,
            payments: 1,
        },
    ),
    (
        "a broken promise, then a kept one",
        "",
        // The first is broken on 02-13; the second (by 02-25) is kept on 02-20.
        "on 2026-02-05 promise F-1 2026-02-10
         on 2026-02-14 promise F-1 2026-02-25
         on 2026-02-20 payment F-1 1000 EUR",
        Counts {
            made: 2,
            kept: 1,
            broken: 1,
            kept_pct: Some("50"),
            opened: 0,
            resolved: 0,
            mean_resolution_days: None,
            payments: 1,
        },
    ),
    (
        "a promise obtained by a call, kept",
        "",
        "on 2026-02-11 outcome F-1 \"Will pay on the 25th\" promise 2026-02-25
         on 2026-02-20 payment F-1 1000 EUR",
        Counts {
            made: 1,
            kept: 1,
            broken: 0,
            kept_pct: Some("100"),
            opened: 0,
            resolved: 0,
            mean_resolution_days: None,
            payments: 1,
        },
    ),
    (
        "a promise made and kept during a dispute",
        "",
        // Paused by the dispute: no wait for the promise, nothing to end when it is kept.
        "on 2026-02-02 dispute F-1 \"logistics/missing-delivery-note\"
         on 2026-02-05 promise F-1 2026-02-20
         on 2026-02-18 payment F-1 1000 EUR",
        Counts {
            made: 1,
            kept: 1,
            broken: 0,
            kept_pct: Some("100"),
            opened: 1,
            resolved: 0,
            mean_resolution_days: None,
            payments: 1,
        },
    ),
    (
        "a dispute resolved (no handler: the resolution resumes the case)",
        "",
        "on 2026-02-02 dispute F-1 \"logistics/missing-delivery-note\"
         on 2026-02-20 resolve F-1",
        Counts {
            made: 0,
            kept: 0,
            broken: 0,
            kept_pct: None,
            opened: 1,
            resolved: 1,
            mean_resolution_days: Some("18"),
            payments: 0,
        },
    ),
    (
        "a dispute resolved with an `on dispute resolved` handler",
        "on dispute resolved { resume after 2 days }",
        "on 2026-02-02 dispute F-1 \"logistics/missing-delivery-note\"
         on 2026-02-20 resolve F-1",
        Counts {
            made: 0,
            kept: 0,
            broken: 0,
            kept_pct: None,
            opened: 1,
            resolved: 1,
            mean_resolution_days: Some("18"),
            payments: 0,
        },
    ),
    (
        "a dispute resolved while a promise holds, the promise then broken",
        "",
        // The resolution of 02-15 goes back to waiting for the promise (until 02-28), which is
        // broken that day.
        "on 2026-02-05 promise F-1 2026-02-25
         on 2026-02-10 dispute F-1 \"logistics/missing-delivery-note\"
         on 2026-02-15 resolve F-1",
        Counts {
            made: 1,
            kept: 0,
            broken: 1,
            kept_pct: Some("0"),
            opened: 1,
            resolved: 1,
            mean_resolution_days: Some("5"),
            payments: 0,
        },
    ),
    (
        "a `stop` whose reason reads like a fact is not that fact",
        "on payment { stop \"promise kept\" }",
        "on 2026-02-10 payment F-1 100 EUR",
        Counts {
            made: 0,
            kept: 0,
            broken: 0,
            kept_pct: None,
            opened: 0,
            resolved: 0,
            mean_resolution_days: None,
            payments: 1,
        },
    ),
];

/// Compiles the scenario of one [`ONE_INVOICE`] row with its test block and runs the
/// simulator over that test's portfolio.
fn run_one_invoice(
    handlers: &str,
    events: &str,
) -> (relance_core::domain::Portfolio, Run, NaiveDate) {
    let source = format!(
        r#"
scenario s {{
  promise grace 3 days
  step reminder-1 at due + 3 days {{ email "reminder-1" to accounting }}
  step reminder-2 at due + 15 days {{ email "reminder-2" to accounting }}
  step notice at due + 30 days {{ letter "formal-notice" to legal registered }}
  {handlers}
}}
test "t" {{
  use s
  until 2026-03-31
  customer ACME {{ segment b2b }}
  invoice F-1 {{ customer ACME amount 1000 EUR issued 2026-01-01 due 2026-01-31 }}
  {events}
}}
"#
    );
    let files = vec![SourceFile::new("inline.relance", &source)];
    let compiled = compile(&files, &SetContext::default());
    let set = compiled.set.unwrap_or_else(|| {
        panic!(
            "inline case does not compile:\n{}",
            relance_dsl::diagnostics::render(
                &compiled.diagnostics[0],
                "inline.relance",
                &source,
                false
            )
        )
    });
    let rules = RuleSet::default();
    let shared = testing::shared(&set, &rules, RateTable::builtin());
    let tc = &set.tests[0];
    let p = testing::portfolio(tc);
    let until = testing::until(tc, &p);
    let from = p.start().expect("start");
    let run = Simulator::new(shared, &p).run(from, until, &mut |_| {});
    (p, run, until)
}

#[test]
fn activity_counts_each_fact_once() {
    let dec = |s: Option<&str>| s.map(|s| s.parse::<Decimal>().expect("decimal"));
    let mut failures = Vec::new();
    for (case, handlers, events, want) in ONE_INVOICE {
        let (p, run, until) = run_one_invoice(handlers, events);
        let a = activity(&run.actions, &run.records, until);
        let got = (
            a.promises_made,
            a.promises_kept,
            a.promises_broken,
            a.promises_kept_pct,
            a.disputes_opened,
            a.disputes_resolved,
            a.mean_resolution_days,
            a.collected.iter().map(|c| c.payments).sum::<usize>(),
        );
        let expected = (
            want.made,
            want.kept,
            want.broken,
            dec(want.kept_pct),
            want.opened,
            want.resolved,
            dec(want.mean_resolution_days),
            want.payments,
        );
        if got != expected {
            // (made, kept, broken, kept %, opened, resolved, mean days, payments)
            failures.push(format!(
                "{case}:\n  got      {got:?}\n  expected {expected:?}"
            ));
        }
        // The behaviour report counts the same promises.
        let b = behaviour(&p, &run.records, until);
        let acme = b.iter().find(|b| b.customer == "ACME").expect("ACME");
        if (acme.promises_made, acme.promises_broken) != (want.made, want.broken) {
            failures.push(format!(
                "{case}: behaviour (made, broken) = {:?}, expected {:?}",
                (acme.promises_made, acme.promises_broken),
                (want.made, want.broken)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
