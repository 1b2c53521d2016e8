//! The engine against its semantic contract (`docs/LANGUAGE.md` and "Semantics decided here" in
//! `docs/ARCHITECTURE.md`).
//!
//! `tests/it/semantics/` holds one `.relance` file per semantic rule (a lone file is a set of one)
//! and one sub-folder per case that needs its own `rules/` or `templates/` (a folder is a set).
//! Each file states the rule it covers and computes its `expect { … }` lines by hand from the
//! contract, in comments. This test loads every set with `scenario_set::load`, requires it to
//! compile without error, runs every `test` block with `testing::run` exactly as `relance test`
//! does under CI, and fails listing every failing test with its report.
//!
//! Where the engine disagrees with the contract, the case file keeps the CONTRACT's expectation;
//! the test is listed in [`KNOWN_ENGINE_BUGS`], skipped by the main test (which fails when such
//! a test starts passing, so the list cannot go stale).
//!
//! The inline helper [`check_inline`] runs tiny cases written in the test itself, for the few
//! properties `expect` lines cannot state (order within a day, the state a case ends in).

use std::path::{Path, PathBuf};

use relance_core::interest::RateTable;
use relance_core::rules::RuleSet;
use relance_core::runtime::Status;
use relance_core::scenario_set;
use relance_dsl::ir::{ScenarioSet, TestCase};
use relance_dsl::{SetContext, SourceFile, compile};
use relance_sim::simulator::Simulator;
use relance_sim::testing::{self, SnapshotMode, Verdict};
use relance_sim::timeline::{Detail, EntryKind, Timeline};

/// `(file or folder under tests/it/semantics, test name, why it fails)`: tests whose expectation is
/// the contract's and that the engine does not meet yet.
const KNOWN_ENGINE_BUGS: &[(&str, &str, &str)] = &[
    // Empty: the six bugs this list first held (history before `from`, a goto lifting a
    // dispute pause, a dispute resolution dropping a promise wait, the indemnity charged twice,
    // invoices opened already paid being chased) are fixed; their cases now run as plain tests.
];

const MODE: SnapshotMode = SnapshotMode {
    update: false,
    ci: true,
};

fn semantics_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/semantics")
}

/// Every `.relance` file of `tests/it/semantics/` and every sub-folder, sorted.
fn sets() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(semantics_dir())
        .expect("tests/it/semantics exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "relance"))
        .collect();
    out.sort();
    out
}

/// The name a set is known by in [`KNOWN_ENGINE_BUGS`] and in reports.
fn set_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// A loaded and compiled set, or why it could not be.
struct Loaded {
    set: ScenarioSet,
    rules: RuleSet,
}

fn load(path: &Path) -> Result<Loaded, String> {
    let loaded = scenario_set::load(path).map_err(|e| format!("cannot load: {e}"))?;
    let compiled = loaded.compile();
    let mut problems = String::new();
    for (file, diags) in loaded.files.iter().zip(&compiled.diagnostics) {
        if diags.iter().any(|d| d.is_error()) {
            problems.push_str(&relance_dsl::diagnostics::render(
                diags, &file.path, &file.text, false,
            ));
        }
    }
    match compiled.set {
        Some(set) if problems.is_empty() => Ok(Loaded {
            set,
            rules: loaded.rules,
        }),
        _ => Err(format!("does not compile:\n{problems}")),
    }
}

/// Runs every test of a set: `(test, verdict)`.
fn run_set(loaded: &Loaded) -> Vec<(&TestCase, Verdict)> {
    let shared = testing::shared(&loaded.set, &loaded.rules, RateTable::builtin());
    loaded
        .set
        .tests
        .iter()
        .map(|tc| (tc, testing::run(shared, tc, MODE)))
        .collect()
}

fn known_bug(set: &str, test: &str) -> Option<&'static str> {
    KNOWN_ENGINE_BUGS
        .iter()
        .find(|(s, t, _)| *s == set && *t == test)
        .map(|(_, _, why)| *why)
}

#[test]
fn every_semantic_case_follows_the_contract() {
    let sets = sets();
    assert!(
        sets.len() >= 15,
        "expected one case file per semantic rule, found {}",
        sets.len()
    );
    let mut failures = Vec::new();
    let mut passed = 0usize;
    let mut seen_bugs = Vec::new();
    for path in &sets {
        let name = set_name(path);
        let loaded = match load(path) {
            Ok(l) => l,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        if loaded.set.tests.is_empty() {
            failures.push(format!("{name}: no `test` block"));
        }
        for (tc, verdict) in run_set(&loaded) {
            let bug = known_bug(&name, &tc.name);
            if bug.is_some() {
                seen_bugs.push((name.clone(), tc.name.clone()));
            }
            match (verdict, bug) {
                (Verdict::Passed, None) => passed += 1,
                (Verdict::Passed, Some(_)) => failures.push(format!(
                    "{name}: \"{}\" now passes: remove it from KNOWN_ENGINE_BUGS and its ignored test",
                    tc.name
                )),
                (Verdict::Failed(_), Some(_)) => {}
                (Verdict::Failed(report), None) => {
                    failures.push(format!("FAILED  {} ({}:{})\n{report}", tc.name, tc.file, tc.line))
                }
                (Verdict::Written(p), _) => {
                    failures.push(format!("{name}: \"{}\" wrote a snapshot {} in CI mode", tc.name, p.display()))
                }
            }
        }
    }
    for (set, test, _) in KNOWN_ENGINE_BUGS {
        if !seen_bugs.iter().any(|(s, t)| s == set && t == test) {
            failures.push(format!(
                "KNOWN_ENGINE_BUGS names a test that does not exist: {set}: \"{test}\""
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} semantic case(s) disagree with the contract ({passed} passed):\n\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(passed >= 50, "only {passed} semantic tests ran");
}

// ----- inline cases ---------------------------------------------------------------------------

/// Compiles `source` as a set of one file (no `rules/`, no `templates/`) and returns the
/// timeline of each of its tests (with transitions), after checking its `expect` lines.
fn check_inline(source: &str) -> Vec<(String, Timeline)> {
    let files = vec![SourceFile::new("inline.relance", source)];
    let compiled = compile(&files, &SetContext::default());
    let set = compiled.set.unwrap_or_else(|| {
        panic!(
            "inline case does not compile:\n{}",
            relance_dsl::diagnostics::render(
                &compiled.diagnostics[0],
                "inline.relance",
                source,
                false
            )
        )
    });
    let rules = RuleSet::default();
    let shared = testing::shared(&set, &rules, RateTable::builtin());
    set.tests
        .iter()
        .map(|tc| {
            if let Verdict::Failed(report) = testing::run(shared, tc, MODE) {
                panic!("inline test \"{}\" failed:\n{report}", tc.name);
            }
            (tc.name.clone(), testing::simulate(shared, tc))
        })
        .collect()
}

/// The action entries of one day as `step: action for ids`, in timeline order.
fn day_actions(t: &Timeline, date: &str) -> Vec<String> {
    t.actions()
        .filter(|e| e.date.to_string() == date)
        .map(|e| match &e.detail {
            Detail::Action { text, .. } => format!(
                "{}: {text} for {}",
                e.step.as_deref().unwrap_or("-"),
                e.invoices.join(", ")
            ),
            _ => unreachable!(),
        })
        .collect()
}

#[test]
fn catch_up_fires_required_steps_in_step_order() {
    // Rule 3: "steps marked `required` … always fire, in order". Due 03-01, started 04-20:
    // a (03-04, required), b (03-16), c (03-31, required), d (04-15) are past; a, c (required)
    // and d (latest) fire on 04-20 in that order; b is skipped.
    let timelines = check_inline(
        r#"
scenario s {
  step a at due + 3 days required { email "a" to accounting }
  step b at due + 15 days { email "b" to accounting }
  step c at due + 30 days required { letter "c" to legal registered charge indemnity }
  step d at due + 45 days { email "d" to accounting }
}
test "order" {
  from 2026-04-20
  until 2026-04-30
  customer ACME { segment b2b }
  invoice F-1 { customer ACME amount 100 EUR issued 2026-01-30 due 2026-03-01 }
  expect {
    2026-04-20 email "a" to accounting for F-1
    2026-04-20 letter "c" to legal registered for F-1
    2026-04-20 charge indemnity 40 EUR for F-1
    2026-04-20 email "d" to accounting for F-1
  }
}
"#,
    );
    let (_, t) = &timelines[0];
    assert_eq!(
        day_actions(t, "2026-04-20"),
        [
            "a: email \"a\" to accounting for F-1",
            "c: letter \"c\" to legal registered for F-1",
            "c: charge indemnity 40 EUR for F-1",
            "d: email \"d\" to accounting for F-1",
        ]
    );
}

#[test]
fn steps_due_the_same_day_all_fire() {
    // Catch-up concerns steps already PAST; two steps due the same day (the latest date) both
    // fire, in step order.
    let timelines = check_inline(
        r#"
scenario s {
  step a at due + 3 days { email "a" to accounting }
  step b at due + 3 days { call accounting assign collector }
}
test "same day" {
  until 2026-02-28
  customer ACME { segment b2b }
  invoice F-1 { customer ACME amount 100 EUR issued 2026-01-01 due 2026-01-31 }
  expect {
    2026-02-03 email "a" to accounting for F-1
    2026-02-03 call accounting assign collector for F-1
  }
}
"#,
    );
    assert_eq!(
        day_actions(&timelines[0].1, "2026-02-03"),
        [
            "a: email \"a\" to accounting for F-1",
            "b: call accounting assign collector for F-1"
        ]
    );
}

#[test]
fn a_goto_loop_is_a_visible_error_not_a_hang() {
    // Rule 4: what cannot be evaluated puts the instance in a visible error state and never
    // crashes the engine. Two steps that `goto` each other on one day cannot end.
    let timelines = check_inline(
        r#"
scenario s {
  step a at due + 3 days { goto b }
  step b at due + 4 days { goto a }
  step c at due + 10 days { email "c" to accounting }
}
test "loop" {
  until 2026-02-28
  customer ACME { segment b2b }
  invoice F-1 { customer ACME amount 100 EUR issued 2026-01-01 due 2026-01-31 }
  expect error F-1 "gotos on one day"
  expect {}
}
"#,
    );
    let t = &timelines[0].1;
    let to_error = t.entries.iter().any(|e| {
        e.kind == EntryKind::Transition
            && matches!(&e.detail, Detail::Transition { to, .. } if *to == "error")
    });
    assert!(
        to_error,
        "the case should end in the error state:\n{}",
        t.to_text()
    );
}

#[test]
fn a_runaway_rule_leaves_its_case_in_error_and_the_others_alone() {
    // Rule 4, beyond the `expect` lines of runaway/: the state each case ends in.
    let loaded = load(&semantics_dir().join("runaway")).expect("runaway/ compiles");
    let shared = testing::shared(&loaded.set, &loaded.rules, RateTable::builtin());
    let tc = loaded
        .set
        .tests
        .iter()
        .find(|t| t.name.starts_with("a runaway rule"))
        .expect("the runaway test");
    let p = testing::portfolio(tc);
    let until = testing::until(tc, &p);
    let run = Simulator::new(shared, &p).run(p.start().unwrap(), until, &mut |_| {});
    let status = |id: &str| {
        let i = p.invoices.iter().position(|inv| inv.id == id).unwrap();
        run.cases[i]
            .as_ref()
            .map(|c| c.status.clone())
            .expect("case opened")
    };
    match status("F-1") {
        Status::Error { on, message } => {
            assert_eq!(
                on.to_string(),
                "2026-02-10",
                "errs on the day the rule runs"
            );
            assert!(!message.is_empty(), "the error says why");
        }
        other => panic!("F-1 should be in error, is {other:?}"),
    }
    assert!(
        !matches!(status("F-2"), Status::Error { .. }),
        "F-2 is not affected"
    );
    // The engine keeps running: the dispute of 02-15 on F-1 is recorded as ignored, not acted on.
    let t = Timeline::build(&loaded.set, &run.actions, &run.records, true);
    assert!(
        t.actions()
            .all(|e| e.invoices != ["F-1"] || e.date.to_string() == "2026-02-03"),
        "{}",
        t.to_text()
    );
}

/// Runs the test named `test` of the case file `file` (under `tests/it/semantics/`) through the
/// simulator and returns the portfolio and the run.
fn run_case(
    file: &str,
    test: &str,
) -> (relance_core::domain::Portfolio, relance_sim::simulator::Run) {
    let loaded = load(&semantics_dir().join(file)).expect("the case compiles");
    let shared = testing::shared(&loaded.set, &loaded.rules, RateTable::builtin());
    let tc = loaded
        .set
        .tests
        .iter()
        .find(|t| t.name == test)
        .unwrap_or_else(|| panic!("{file} has a test \"{test}\""));
    let p = testing::portfolio(tc);
    let until = testing::until(tc, &p);
    let run = Simulator::new(shared, &p).run(p.start().unwrap(), until, &mut |_| {});
    (p, run)
}

#[test]
fn a_failing_step_leaves_the_case_as_before_the_step_plus_the_error() {
    // Beyond the `expect` lines of step-atomic.relance: the state the case ends in. The notice
    // (letter, indemnity, then an interest charge that cannot be computed) left no trace: no
    // message counted, no indemnity marked as charged, the step not done, and no record says
    // it fired; the case is in error on the notice's day.
    let (_, run) = run_case(
        "step-atomic.relance",
        "a step whose charge fails sends nothing of that step",
    );
    let case = run.cases[0].as_ref().expect("case opened");
    match &case.status {
        Status::Error { on, message } => {
            assert_eq!(on.to_string(), "2011-03-12");
            assert!(!message.is_empty(), "the error says why");
        }
        other => panic!("F-1 should be in error, is {other:?}"),
    }
    assert_eq!(case.counters.messages, 1, "only reminder-1 was sent");
    assert!(!case.charged.indemnity, "the indemnity did not go out");
    assert_eq!(case.counters.last_step.as_deref(), Some("reminder-1"));
    assert_eq!(case.done_on[1], None, "the notice is not done");
    assert_eq!(case.fired_count[1], 0);
    assert_eq!(case.next_step, 1, "the notice is still the next step");
    let notice: Vec<&str> = run
        .records
        .iter()
        .filter(|r| r.step.as_deref() == Some("notice"))
        .map(|r| r.cause.as_str())
        .collect();
    assert_eq!(notice.len(), 1, "one record for the notice: {notice:?}");
    assert!(
        notice[0].contains("no late-payment rate"),
        "the notice's record is the error: {notice:?}"
    );
}

#[test]
fn the_days_events_are_decided_before_its_steps() {
    // LANGUAGE.md "What happens first on one day": (2) events before (4) steps. On 02-15 the
    // partial payment is decided before reminder-2 fires, whichever comes first in the
    // portfolio; and a promise is judged (3) after that day's payment (2).
    let (_, run) = run_case(
        "same-day.relance",
        "a partial payment on a step's day: the step reads the new outstanding",
    );
    let on = |r: &&relance_core::runtime::Record| r.date.to_string() == "2026-02-15";
    let mut day: Vec<_> = run.records.iter().filter(on).collect();
    day.sort_by_key(|r| r.order);
    let causes: Vec<&str> = day.iter().map(|r| r.cause.as_str()).collect();
    let payment = causes.iter().position(|c| c.starts_with("payment of 600"));
    let step = causes.iter().position(|c| c.starts_with("step fired"));
    assert!(
        matches!((payment, step), (Some(p), Some(s)) if p < s),
        "the payment is decided before the step: {causes:?}"
    );
    let (_, run) = run_case(
        "same-day.relance",
        "a payment on the promise's day keeps the promise",
    );
    let mut day: Vec<_> = run
        .records
        .iter()
        .filter(|r| r.date.to_string() == "2026-02-10")
        .collect();
    day.sort_by_key(|r| r.order);
    let causes: Vec<&str> = day.iter().map(|r| r.cause.as_str()).collect();
    assert!(
        causes.contains(&"promise kept") && !causes.contains(&"promise broken"),
        "{causes:?}"
    );
    let payment = causes.iter().position(|c| c.starts_with("payment of 300"));
    let kept = causes.iter().position(|c| *c == "promise kept");
    assert!(
        matches!((payment, kept), (Some(p), Some(k)) if p < k),
        "{causes:?}"
    );
}

#[test]
fn cadence_shows_what_waits_on_the_day_it_was_due() {
    // `cadence 5 days`: F-1's reminder goes on 01-10 (due 01-05 + 5); F-2's, due 01-12,
    // waits to 01-15 (01-10 + 5 days) and shows on 01-12 as deferred, in text and in JSON.
    let timelines = check_inline(
        r#"
scenario s {
  cadence 5 days
  step reminder at due + 5 days {
    email "reminder-1" to accounting
  }
}
test "one waits" {
  use s
  until 2027-01-31
  customer KEY { segment b2b }
  invoice F-1 { customer KEY amount 100 EUR issued 2026-12-01 due 2027-01-05 }
  invoice F-2 { customer KEY amount 100 EUR issued 2026-12-01 due 2027-01-07 }
  expect {
    2027-01-10 email "reminder-1" to accounting for F-1
    2027-01-15 email "reminder-1" to accounting for F-2
  }
}
"#,
    );
    let t = &timelines[0].1;
    let deferred: Vec<&relance_sim::timeline::Entry> = t
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::Deferred)
        .collect();
    assert_eq!(deferred.len(), 1);
    assert_eq!(deferred[0].date.to_string(), "2027-01-12");
    assert_eq!(deferred[0].invoices, ["F-2"]);
    assert!(
        t.to_text().contains(
            "2027-01-12  KEY  F-2  reminder  · email \"reminder-1\" to accounting deferred until 2027-01-15 (cadence)"
        ),
        "{}",
        t.to_text()
    );
    let json = serde_json::to_value(deferred[0]).unwrap();
    assert_eq!(json["kind"], "deferred");
    assert_eq!(json["until"], "2027-01-15");
    assert_eq!(json["reason"], "cadence");
    assert_eq!(json["text"], "email \"reminder-1\" to accounting");
}
