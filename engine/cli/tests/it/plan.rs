//! The planner's fast path gives the same actions as the full one: `relance plan` runs the
//! simulator with `Recording::Off` and groups each day with `Timeline::of_actions`; both must
//! be pure optimisations. Checked on the bundled example portfolio (`examples/`, 300 invoices
//! with payments, disputes and promises) under the standard scenario set, and through the
//! real binary (`relance plan` JSON equals the timeline's action entries). Choosing the
//! scenarios of a day's entering invoices ahead, on several threads, is checked the same way
//! on the examples, on a generated portfolio, and on an invoice with events waiting for it.
//! The plan split by customer over several threads (`--threads`) prints the same bytes as on
//! one.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use relance_core::interest::RateTable;
use relance_core::runtime::{Recording, Shared};
use relance_core::scenario_set;
use relance_data::portfolio;
use relance_sim::simulator::{Run, Simulator};
use relance_sim::timeline::Timeline;

fn workspace() -> PathBuf {
    crate::workspace()
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

/// A portfolio of `customers` and `invoices` made by `relance gen` with `seed`, as of
/// 31 March 2026, in a temp dir named after `tag`.
fn generated(tag: &str, customers: usize, invoices: usize, seed: u64) -> crate::support::TempDir {
    let dir = crate::support::TempDir::new(tag);
    let spec = relance_data::generator::Spec {
        customers,
        invoices,
        seed,
        as_of: date("2026-03-31"),
    };
    relance_data::generator::generate(spec, &dir.0, &mut |_| {}).expect("generated");
    dir
}

/// What two runs of one portfolio are compared on, and how many scenarios were chosen ahead.
struct Compared {
    actions: Vec<relance_core::runtime::Planned>,
    records: Vec<relance_core::runtime::Record>,
    cases: Vec<Option<relance_core::runtime::Instance>>,
    chosen_ahead: u64,
}

/// Runs `data` with every day's scenarios chosen ahead (look-ahead from one invoice) and
/// never, and asserts both runs are the same: actions with their decision numbers, records
/// and final states. Returns the run with the look-ahead.
fn assert_ahead_changes_nothing(data: &Path) -> Compared {
    let keep = |_: &relance_dsl::ir::ScenarioSet, run: Run| Compared {
        actions: run.actions,
        records: run.records,
        cases: run.cases,
        chosen_ahead: run.chosen_ahead,
    };
    let seq = with_run(data, Recording::Causes, Some(usize::MAX), keep);
    let ahead = with_run(data, Recording::Causes, Some(1), keep);
    assert_eq!(seq.chosen_ahead, 0, "usize::MAX never chooses ahead");
    assert_eq!(ahead.actions.len(), seq.actions.len());
    for (a, s) in ahead.actions.iter().zip(&seq.actions) {
        assert_eq!(a, s);
        assert_eq!(a.order, s.order, "decision order of {}", s.key);
    }
    assert_eq!(ahead.records, seq.records);
    assert_eq!(ahead.cases, seq.cases);
    ahead
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
    let run = assert_ahead_changes_nothing(&workspace().join("examples"));
    assert!(run.actions.len() > 100, "got {} actions", run.actions.len());
    let opened = run.cases.iter().flatten().count() as u64;
    assert_eq!(run.chosen_ahead, opened, "every scenario chosen ahead");
}

#[test]
fn choosing_ahead_changes_nothing_on_a_generated_portfolio() {
    let dir = generated("plan-ahead", 400, 3_000, 7);
    let run = assert_ahead_changes_nothing(&dir.0);
    assert!(
        run.actions.len() > 1_000,
        "got {} actions",
        run.actions.len()
    );
    assert!(
        run.chosen_ahead > 2_000,
        "chosen ahead: {}",
        run.chosen_ahead
    );
}

#[test]
fn an_invoice_with_events_waiting_leaves_its_customer_to_the_loop() {
    // On 10 April A-1 opens with a dispute dated before its issue waiting: the loop chooses
    // for it and for A-2 after it (the dispute moves ACME's totals); B-1 is chosen ahead.
    let dir = crate::support::TempDir::new("plan-ahead-waiting");
    let files = [
        ("customers.csv", "id,segment\nACME,b2b\nBETA,b2b\n"),
        (
            "invoices.csv",
            "id,customer,amount,currency,issued,due\n\
             A-1,ACME,1200,EUR,2026-04-10,2026-05-10\n\
             A-2,ACME,800,EUR,2026-04-10,2026-05-10\n\
             B-1,BETA,500,EUR,2026-04-10,2026-05-10\n",
        ),
        (
            "events.csv",
            "date,type,invoice,code,amount,promised_date\n\
             2026-04-05,dispute_opened,A-1,quality/damaged,,\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.0.join(name), text).expect("written");
    }
    let run = assert_ahead_changes_nothing(&dir.0);
    assert_eq!(run.cases.iter().flatten().count(), 3);
    assert_eq!(run.chosen_ahead, 1, "only B-1 is chosen ahead");
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
    let out = run_plan(Path::new("examples"), &["--format", "json"]);
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("plan prints JSON");
    assert_eq!(printed["from"], FROM);
    assert_eq!(printed["until"], UNTIL);
    // The stdlib sets a `cadence`: the library's path (`relance_sim::cadence::timeline` over
    // the whole run, as `simulate` does) must agree with the plan's day-by-day one.
    let p = portfolio::load_dir(&workspace().join("examples")).expect("the portfolio loads");
    let expected = with_example_run(Recording::Causes, |ir, run| {
        assert!(
            relance_core::runtime::cadence::used(ir),
            "the stdlib uses a cadence"
        );
        let timeline = relance_sim::cadence::timeline(ir, &p.invoices, run, date(UNTIL), false);
        serde_json::to_value(timeline.entries).expect("entries serialize")
    });
    assert_eq!(printed["entries"], expected);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let count = expected.as_array().map_or(0, Vec::len);
    assert!(
        stderr.contains(&format!("{count} action(s) from {FROM} to {UNTIL}")),
        "summary line: {stderr}"
    );
}

/// `relance plan` on `data` (relative to the workspace, or absolute) from `FROM` for 90
/// days, with the stdlib scenarios and `args`; it must succeed.
fn run_plan(data: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_relance"))
        .current_dir(workspace())
        .arg("plan")
        .arg("--data")
        .arg(data)
        .args([
            "--scenarios",
            "stdlib-scenarios",
            "--from",
            FROM,
            "--days",
            "90",
        ])
        .args(args)
        .output()
        .expect("relance runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `relance plan` on `data` with `--threads n` and `format`: its standard output.
fn plan_output(data: &Path, threads: u16, format: &str) -> Vec<u8> {
    let threads = threads.to_string();
    run_plan(data, &["--format", format, "--threads", &threads]).stdout
}

#[test]
fn relance_plan_is_the_same_on_any_number_of_threads() {
    let dir = generated("plan-threads", 300, 2_000, 11);
    for data in [workspace().join("examples"), dir.0.clone()] {
        for format in ["json", "text"] {
            let one = plan_output(&data, 1, format);
            assert!(one.len() > 10_000, "a busy plan: {} bytes", one.len());
            for threads in [2, 3, 7] {
                assert!(
                    plan_output(&data, threads, format) == one,
                    "{} in {format} on {threads} threads differs from one thread",
                    data.display()
                );
            }
        }
    }
}

#[test]
fn customer_events_reach_their_customers_on_any_number_of_threads() {
    // AA and DD become risky on 20 April: their invoices issued on 1 May go to `high-risk`,
    // whichever shard holds them; BB and CC stay on `standard-b2b`.
    let dir = crate::support::TempDir::new("plan-threads-risk");
    let mut invoices = String::from("id,customer,amount,currency,issued,due\n");
    for c in ["AA", "BB", "CC", "DD"] {
        invoices.push_str(&format!("{c}-1,{c},1500,EUR,2026-04-01,2026-04-15\n"));
        invoices.push_str(&format!("{c}-2,{c},1500,EUR,2026-05-01,2026-05-15\n"));
    }
    let files = [
        (
            "customers.csv",
            "id,segment\nAA,b2b\nBB,b2b\nCC,b2b\nDD,b2b\n".to_string(),
        ),
        ("invoices.csv", invoices),
        (
            "events.csv",
            "date,type,invoice,customer,risk_score\n\
             2026-04-20,risk_changed,,AA,85\n\
             2026-04-20,risk_changed,,DD,90\n"
                .to_string(),
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.0.join(name), text).expect("written");
    }
    let one = plan_output(&dir.0, 1, "json");
    let printed: serde_json::Value = serde_json::from_slice(&one).expect("plan prints JSON");
    let high_risk: std::collections::BTreeSet<&str> = printed["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["scenario"] == "high-risk")
        .filter_map(|e| e["customer"].as_str())
        .collect();
    assert_eq!(high_risk, ["AA", "DD"].into_iter().collect());
    for threads in [2, 3, 4] {
        assert!(
            plan_output(&dir.0, threads, "json") == one,
            "on {threads} threads the plan differs from one thread"
        );
    }
}

/// `relance plan` on a data folder whose invoice has installments (the `installments` column,
/// LANGUAGE.md "Installments"): 300 due 2026-04-30 and 700 due 2026-06-30; the 300 paid on
/// 2026-05-10. The first installment is chased the day after its date (2026-05-01), the second
/// the day after its own (2026-07-01): one invoice, two chases, nothing split by hand.
#[test]
fn the_plan_chases_each_installment_on_its_own_date() {
    let dir = crate::support::TempDir::new("plan-installments");
    let data = dir.0.join("data");
    let set = dir.0.join("set");
    std::fs::create_dir_all(&data).expect("data dir");
    std::fs::create_dir_all(&set).expect("set dir");
    std::fs::write(data.join("customers.csv"), "id,segment\nACME,b2b\n").expect("customers");
    std::fs::write(
        data.join("invoices.csv"),
        "id,customer,amount,issued,due,installments\n\
         F-1,ACME,1000,2026-04-01,,2026-04-30 30%; 2026-06-30 rest\n",
    )
    .expect("invoices");
    std::fs::write(
        data.join("payments.csv"),
        "date,invoice,amount\n2026-05-10,F-1,300\n",
    )
    .expect("payments");
    std::fs::write(
        set.join("set.relance"),
        "scenario chase {\n  step late at due + 1 day {\n    webhook \"late\"\n  }\n}\n",
    )
    .expect("set");
    let out = Command::new(env!("CARGO_BIN_EXE_relance"))
        .arg("plan")
        .arg("--data")
        .arg(&data)
        .arg("--scenarios")
        .arg(&set)
        .args(["--from", FROM, "--days", "120", "--format", "json"])
        .output()
        .expect("relance runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_str(&stdout).expect("plan prints JSON");
    let late: Vec<(&str, &str)> = printed["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["step"] == "late")
        .map(|e| {
            (
                e["date"].as_str().unwrap_or_default(),
                e["invoices"][0].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        late,
        [("2026-05-01", "F-1"), ("2026-07-01", "F-1")],
        "the day after each installment's due date: {stdout}"
    );
}
