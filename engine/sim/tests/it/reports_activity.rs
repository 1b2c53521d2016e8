//! Collection activity and payment behaviour computed from a real engine run over the
//! stdlib scenarios (so that a change in the runtime's records shows up here).

use std::path::Path;

use chrono::NaiveDate;
use relance_core::interest::RateTable;
use relance_core::runtime::Shared;
use relance_sim::reports::activity::{BEFORE_ANY_STEP, activity};
use relance_sim::reports::behaviour::{Trend, behaviour};
use relance_sim::simulator::{Run, Simulator};
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
