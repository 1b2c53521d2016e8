//! The planner's fast path gives the same actions as the full one: `relance plan` runs the
//! simulator with `Recording::Off` and groups each day with `Timeline::of_actions`; both must
//! be pure optimisations. Checked on the bundled example portfolio (`examples/`, 300 invoices
//! with payments, disputes and promises) under the standard scenario set, and through the
//! real binary (`relance plan` JSON equals the timeline's action entries).

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use relance_engine::interest::RateTable;
use relance_engine::portfolio;
use relance_engine::runtime::{Recording, Shared};
use relance_engine::scenario_set;
use relance_engine::simulator::{Run, Simulator};
use relance_engine::timeline::Timeline;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the engine crate is in the workspace")
        .to_path_buf()
}

const FROM: &str = "2026-04-01";
const UNTIL: &str = "2026-06-29";

fn date(s: &str) -> NaiveDate {
    s.parse().expect("a valid date")
}

/// The stdlib set and the example portfolio, run from `FROM` to `UNTIL` with `recording`;
/// `f` sees the set's IR and the run.
fn with_example_run<T>(
    recording: Recording,
    f: impl FnOnce(&relance_dsl::ir::ScenarioSet, Run) -> T,
) -> T {
    let loaded = scenario_set::load(&workspace().join("stdlib-scenarios")).expect("stdlib loads");
    let compiled = loaded.compile();
    let ir = compiled.set.as_ref().expect("stdlib compiles");
    let p = portfolio::load_dir(&workspace().join("examples")).expect("examples load");
    let shared = Shared {
        set: ir,
        rules: &loaded.rules,
        rates: RateTable::builtin(),
    };
    let run =
        Simulator::new(shared, &p)
            .recording(recording)
            .run(date(FROM), date(UNTIL), &mut |_| {});
    f(ir, run)
}

#[test]
fn recording_off_changes_nothing_but_the_records() {
    let (full_actions, full_records, full_cases) = with_example_run(Recording::Causes, |_, run| {
        (run.actions, run.records, run.cases)
    });
    let (fast_actions, fast_records, fast_cases) = with_example_run(Recording::Off, |_, run| {
        (run.actions, run.records, run.cases)
    });
    assert!(
        full_actions.len() > 100,
        "the example portfolio should keep the engine busy, got {} actions",
        full_actions.len()
    );
    assert!(!full_records.is_empty());
    assert!(fast_records.is_empty(), "Recording::Off records nothing");
    // Same actions with the same decision numbers (the timeline sorts on them), same states.
    assert_eq!(fast_actions.len(), full_actions.len());
    for (fast, full) in fast_actions.iter().zip(&full_actions) {
        assert_eq!(fast, full);
        assert_eq!(fast.order, full.order, "decision order of {}", full.key);
    }
    assert_eq!(fast_cases, full_cases);
}

#[test]
fn of_actions_equals_build_without_transitions() {
    with_example_run(Recording::Off, |ir, run| {
        let built = Timeline::build(ir, &run.actions, &[], false);
        let taken = Timeline::of_actions(ir, run.actions);
        assert_eq!(taken.entries, built.entries);
        assert!(
            built.entries.iter().any(|e| e.invoices.len() > 1),
            "some entries should group several invoices"
        );
    });
}

#[test]
fn relance_plan_prints_the_action_entries_of_the_timeline() {
    let out = Command::new(env!("CARGO_BIN_EXE_relance"))
        .current_dir(workspace())
        .args([
            "plan",
            "--data",
            "examples",
            "--scenarios",
            "stdlib-scenarios",
        ])
        .args(["--from", FROM, "--days", "90", "--format", "json"])
        .output()
        .expect("relance runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("plan prints JSON");
    assert_eq!(printed["from"], FROM);
    assert_eq!(printed["until"], UNTIL);
    let expected = with_example_run(Recording::Causes, |ir, run| {
        serde_json::to_value(Timeline::build(ir, &run.actions, &run.records, false).entries)
            .expect("entries serialize")
    });
    assert_eq!(printed["entries"], expected);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let count = expected.as_array().map_or(0, Vec::len);
    assert!(
        stderr.contains(&format!("{count} action(s) from {FROM} to {UNTIL}")),
        "summary line: {stderr}"
    );
}
