//! The planner's fast path gives the same actions as the full one: `relance plan` runs the
//! simulator with `Recording::Off` and groups each day with `Timeline::of_actions`; both must
//! be pure optimisations. Checked on the bundled example portfolio (`examples/`, 300 invoices
//! with payments, disputes and promises) under the standard scenario set, and through the
//! real binary (`relance plan` JSON equals the timeline's action entries). Choosing the
//! scenarios of a day's entering invoices ahead, on several threads, is checked the same way
//! on the examples and on a generated portfolio.

mod support;

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
    with_run(&workspace().join("examples"), recording, None, f)
}

/// The stdlib set and the portfolio in `data`, run from `FROM` to `UNTIL` with `recording`
/// (and `look_ahead` when given).
fn with_run<T>(
    data: &Path,
    recording: Recording,
    look_ahead: Option<usize>,
    f: impl FnOnce(&relance_dsl::ir::ScenarioSet, Run) -> T,
) -> T {
    let loaded = scenario_set::load(&workspace().join("stdlib-scenarios")).expect("stdlib loads");
    let compiled = loaded.compile();
    let ir = compiled.set.as_ref().expect("stdlib compiles");
    let p = portfolio::load_dir(data).expect("the portfolio loads");
    let shared = Shared {
        set: ir,
        rules: &loaded.rules,
        rates: RateTable::builtin(),
    };
    let mut sim = Simulator::new(shared, &p).recording(recording);
    if let Some(min_batch) = look_ahead {
        sim = sim.look_ahead(min_batch);
    }
    let run = sim.run(date(FROM), date(UNTIL), &mut |_| {});
    f(ir, run)
}

/// Runs `data` with every day's scenarios chosen ahead (look-ahead from one invoice) and
/// never, and asserts both runs are the same: actions with their decision numbers, records
/// and final states. Returns how many actions they had.
fn assert_ahead_changes_nothing(data: &Path) -> usize {
    let keep = |_: &relance_dsl::ir::ScenarioSet, run: Run| (run.actions, run.records, run.cases);
    let (seq_actions, seq_records, seq_cases) =
        with_run(data, Recording::Causes, Some(usize::MAX), keep);
    let (ahead_actions, ahead_records, ahead_cases) =
        with_run(data, Recording::Causes, Some(1), keep);
    assert_eq!(ahead_actions.len(), seq_actions.len());
    for (ahead, seq) in ahead_actions.iter().zip(&seq_actions) {
        assert_eq!(ahead, seq);
        assert_eq!(ahead.order, seq.order, "decision order of {}", seq.key);
    }
    assert_eq!(ahead_records, seq_records);
    assert_eq!(ahead_cases, seq_cases);
    seq_actions.len()
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
fn choosing_ahead_changes_nothing_on_the_examples() {
    // The examples have events dated before the run: their invoices end the look-ahead of
    // their customer on the first day.
    let actions = assert_ahead_changes_nothing(&workspace().join("examples"));
    assert!(actions > 100, "got {actions} actions");
}

#[test]
fn choosing_ahead_changes_nothing_on_a_generated_portfolio() {
    let dir = support::TempDir::new("plan-ahead");
    let spec = relance_engine::generator::Spec {
        customers: 400,
        invoices: 3_000,
        seed: 7,
        as_of: date("2026-03-31"),
    };
    relance_engine::generator::generate(spec, &dir.0, &mut |_| {}).expect("generated");
    let actions = assert_ahead_changes_nothing(&dir.0);
    assert!(actions > 1_000, "got {actions} actions");
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
