//! The standard scenario set as a user runs it: every `test` block of `stdlib-scenarios/`
//! passes (what `relance test stdlib-scenarios` does), every file is in canonical layout (what
//! `relance fmt --check` does), and the bundled example portfolio plans without a case in error.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use relance_core::interest::RateTable;
use relance_core::runtime::Shared;
use relance_core::scenario_set;
use relance_sim::simulator::Simulator;
use relance_sim::testing::{self, SnapshotMode, Verdict};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn every_stdlib_test_block_passes() {
    let set = scenario_set::load(&root().join("stdlib-scenarios")).expect("the stdlib set loads");
    let compiled = set.compile();
    let ir = compiled.set.as_ref().expect("the stdlib set compiles");
    let shared = testing::shared(ir, &set.rules, RateTable::builtin());
    let mode = SnapshotMode {
        update: false,
        ci: true,
    };
    let failures: Vec<String> = ir
        .tests
        .iter()
        .filter_map(|tc| match testing::run(shared, tc, mode) {
            Verdict::Passed => None,
            other => Some(format!("{} ({}:{}): {other:?}", tc.name, tc.file, tc.line)),
        })
        .collect();
    assert!(ir.tests.len() >= 32, "only {} stdlib tests", ir.tests.len());
    assert!(
        failures.is_empty(),
        "{} failing:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_stdlib_file_is_formatted() {
    for path in scenario_set::relance_files(&root().join("stdlib-scenarios")).expect("listed") {
        let text = std::fs::read_to_string(&path).expect("readable");
        let formatted = relance_dsl::fmt::format_source(&text).expect("parses");
        assert_eq!(
            formatted,
            text,
            "{} is not in canonical layout: run `relance fmt`",
            path.display()
        );
    }
}

#[test]
fn the_example_portfolio_plans_with_every_case_assigned() {
    let set = scenario_set::load(&root().join("stdlib-scenarios")).expect("the stdlib set loads");
    let compiled = set.compile();
    let ir = compiled.set.as_ref().expect("compiles");
    let p =
        relance_data::portfolio::load_dir(&root().join("examples")).expect("examples/ is valid");
    assert_eq!((p.customers.len(), p.invoices.len()), (50, 300));
    let from = NaiveDate::from_ymd_opt(2026, 4, 1).expect("date");
    let until = NaiveDate::from_ymd_opt(2026, 6, 29).expect("date");
    let shared = Shared {
        set: ir,
        rules: &set.rules,
        rates: RateTable::builtin(),
    };
    let run = Simulator::new(shared, &p).run(from, until, &mut |_| {});
    let bad: Vec<_> = run
        .cases
        .iter()
        .flatten()
        .filter(|c| matches!(c.status.name(), "error" | "unassigned"))
        .map(|c| &c.invoice)
        .collect();
    assert!(
        bad.is_empty(),
        "cases in error or without scenario: {bad:?}"
    );
    assert!(
        run.actions.len() > 100,
        "the example portfolio should keep the engine busy"
    );
}
