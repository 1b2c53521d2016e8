//! A collective procedure on a virtual clock, over the stdlib scenarios: the prior claim is
//! frozen with one declaration task (R622-24 deadline), the posterior claim is dunned as
//! usual (L622-17), and the aged balance shows the customer apart.

use std::path::Path;

use chrono::NaiveDate;
use relance_core::interest::RateTable;
use relance_core::runtime::{Shared, Status};
use relance_dsl::ir::Action;
use relance_sim::reports::aged::aged_balance;
use relance_sim::simulator::Simulator;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

const CASE: &str = r#"{
  "customers": [
    {"id": "ACME", "segment": "b2b", "contacts": {"accounting": {"email": "compta@acme.example"}}},
    {"id": "BETA", "segment": "b2b", "contacts": {"accounting": {"email": "compta@beta.example"}}}
  ],
  "invoices": [
    {"id": "F-1", "customer": "ACME", "amount": "10000", "issued": "2026-01-01", "due": "2026-01-31"},
    {"id": "F-2", "customer": "ACME", "amount": "500", "issued": "2026-03-15", "due": "2026-04-14"},
    {"id": "F-3", "customer": "BETA", "amount": "800", "issued": "2026-01-01", "due": "2026-01-31"}
  ],
  "events": [
    {"date": "2026-03-25", "type": "insolvency_opened", "customer": "ACME",
     "procedure": "redressement", "judgment_on": "2026-03-10", "published_on": "2026-03-20"}
  ]
}"#;

#[test]
fn the_prior_claim_is_frozen_and_declared_the_posterior_one_dunned() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let p = relance_data::portfolio::from_json(CASE).expect("case");
    let set =
        relance_core::scenario_set::load(&root.join("../../stdlib-scenarios")).expect("stdlib");
    let compiled = set.compile();
    let ir = compiled.set.as_ref().expect("stdlib compiles");
    let shared = Shared {
        set: ir,
        rules: &set.rules,
        rates: RateTable::builtin(),
    };
    let run = Simulator::new(shared, &p).run(d("2026-01-01"), d("2026-06-30"), &mut |_| {});
    let of = |invoice: &str| {
        run.actions
            .iter()
            .filter(|a| a.invoice == invoice)
            .collect::<Vec<_>>()
    };
    let f1 = of("F-1");
    assert!(
        f1.iter().any(|a| a.date < d("2026-03-25")),
        "F-1 was dunned before the procedure was known"
    );
    let after: Vec<_> = f1.iter().filter(|a| a.date >= d("2026-03-25")).collect();
    assert_eq!(after.len(), 1, "only the declaration task: {after:#?}");
    let Action::Task { text, .. } = &after[0].action else {
        panic!("a task: {:?}", after[0].action);
    };
    assert!(text.contains("by 2026-05-20"), "{text}");
    assert!(matches!(
        run.cases[0].as_ref().map(|c| &c.status),
        Some(Status::Insolvency { .. })
    ));
    assert!(
        of("F-2").iter().any(|a| a.date > d("2026-04-14")),
        "the posterior claim is dunned"
    );

    let aged = aged_balance(&p, d("2026-06-30"));
    let main: Vec<&str> = aged.rows.iter().map(|r| r.customer.as_str()).collect();
    let apart: Vec<(&str, Option<&str>)> = aged
        .apart
        .iter()
        .map(|r| (r.customer.as_str(), r.procedure.as_deref()))
        .collect();
    assert_eq!(main, ["BETA"]);
    assert_eq!(apart, [("ACME", Some("redressement since 2026-03-10"))]);
    assert_eq!(aged.totals["EUR"].total, "800".parse().unwrap());
    assert_eq!(aged.apart_totals["EUR"].total, "10500".parse().unwrap());
    let text = aged.to_text();
    assert!(text.contains("Under a collective procedure"), "{text}");
    assert!(
        aged.to_csv().contains("TOTAL PROCEDURE,,EUR,2,"),
        "{}",
        aged.to_csv()
    );
    // Before the judgment the customer is in the main table.
    assert!(aged_balance(&p, d("2026-03-09")).apart.is_empty());
}
