//! `relance test` never hides an error: a case that falls into the `error` state fails its
//! test with the message, under `expect {}` and `expect snapshot` alike, unless the test says
//! `expect error INVOICE "TEXT"`; and a timeline says `error:` once.
//!
//! Each case is a tiny set written here, compiled from a file in a temporary folder (so a
//! snapshot, if one were written, would land there and nowhere else).

use std::path::Path;

use relance_core::interest::RateTable;
use relance_core::rules::RuleSet;
use relance_dsl::ir::ScenarioSet;
use relance_dsl::{SetContext, SourceFile, compile};
use relance_sim::testing::{self, SnapshotMode, Verdict};

/// Two steps that `goto` each other on one day: the case goes into error on 2026-02-03.
const LOOP: &str = r#"
scenario s {
  step a at due + 3 days { goto b }
  step b at due + 3 days { goto a }
}
"#;

const WRITE: SnapshotMode = SnapshotMode {
    update: false,
    ci: false,
};

fn set_in(dir: &Path, source: &str) -> ScenarioSet {
    let path = dir.join("case.relance");
    std::fs::write(&path, source).unwrap();
    let files = vec![SourceFile::new(path.to_string_lossy(), source)];
    let compiled = compile(&files, &SetContext::default());
    compiled.set.unwrap_or_else(|| {
        panic!(
            "does not compile:\n{}",
            relance_dsl::diagnostics::render(&compiled.diagnostics[0], "case", source, false)
        )
    })
}

/// The verdict of the set's only test.
fn verdict(dir: &Path, source: &str) -> Verdict {
    let set = set_in(dir, source);
    let rules = RuleSet::default();
    let shared = testing::shared(&set, &rules, RateTable::builtin());
    testing::run(shared, &set.tests[0], WRITE)
}

fn test_block(members: &str) -> String {
    format!(
        "{LOOP}\ntest \"loop\" {{\n  until 2026-02-28\n  customer ACME {{ segment b2b }}\n  \
         invoice F-1 {{ customer ACME amount 100 EUR issued 2026-01-01 due 2026-01-31 }}\n\
         {members}\n}}\n"
    )
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out.sort();
    out
}

#[test]
fn an_error_fails_a_test_that_expects_no_action() {
    let dir = tempfile::tempdir().unwrap();
    match verdict(dir.path(), &test_block("  expect {}")) {
        Verdict::Failed(report) => {
            assert!(
                report.contains("F-1 is in error since 2026-02-03: more than"),
                "{report}"
            );
            assert!(report.contains("expect error INVOICE"), "{report}");
        }
        other => panic!("an error must fail the test, got {other:?}"),
    }
}

#[test]
fn an_error_fails_a_test_without_expectation() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        verdict(dir.path(), &test_block("")),
        Verdict::Failed(_)
    ));
}

#[test]
fn a_snapshot_never_records_an_error_silently() {
    let dir = tempfile::tempdir().unwrap();
    let v = verdict(dir.path(), &test_block("  expect snapshot"));
    assert!(
        matches!(&v, Verdict::Failed(r) if r.contains("in error since 2026-02-03")),
        "{v:?}"
    );
    assert_eq!(
        files_under(dir.path()),
        [dir.path().join("case.relance").display().to_string()],
        "no snapshot is written for a test with an unexpected error"
    );
}

#[test]
fn expect_error_accepts_the_error_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let v = verdict(
        dir.path(),
        &test_block("  expect error F-1 \"gotos on one day\"\n  expect {}"),
    );
    assert_eq!(v, Verdict::Passed);
    let v = verdict(
        dir.path(),
        &test_block("  expect error F-1 \"gotos on one day\"\n  expect snapshot"),
    );
    let Verdict::Written(path) = v else {
        panic!("the snapshot of an expected error is written, got {v:?}")
    };
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains("→ error: more than"), "{text}");
}

#[test]
fn expect_error_with_another_text_still_fails() {
    let dir = tempfile::tempdir().unwrap();
    let v = verdict(
        dir.path(),
        &test_block("  expect error F-1 \"rule `spin`\"\n  expect {}"),
    );
    let Verdict::Failed(report) = v else {
        panic!("the wrong text must fail, got {v:?}")
    };
    assert!(report.contains("error, not expected:  F-1"), "{report}");
    assert!(
        report.contains("expected, not raised:  error F-1 \"rule `spin`\""),
        "{report}"
    );
}

#[test]
fn an_expected_error_that_does_not_happen_fails() {
    let dir = tempfile::tempdir().unwrap();
    let calm = r#"
scenario s {
  step a at due + 3 days { email "a" to accounting }
}
test "calm" {
  until 2026-02-28
  customer ACME { segment b2b }
  invoice F-1 { customer ACME amount 100 EUR issued 2026-01-01 due 2026-01-31 }
  expect error F-1 "anything"
  expect {
    2026-02-03 email "a" to accounting for F-1
  }
}
"#;
    let v = verdict(dir.path(), calm);
    assert!(
        matches!(&v, Verdict::Failed(r) if r.contains("expected, not raised:  error F-1 \"anything\"")),
        "{v:?}"
    );
}

#[test]
fn a_timeline_says_error_once() {
    let dir = tempfile::tempdir().unwrap();
    let set = set_in(dir.path(), &test_block("  expect {}"));
    let rules = RuleSet::default();
    let shared = testing::shared(&set, &rules, RateTable::builtin());
    let text = testing::simulate(shared, &set.tests[0]).to_text();
    assert!(text.contains("active → error: more than"), "{text}");
    assert!(!text.contains("error: error"), "{text}");
}

#[test]
fn an_unknown_scenario_at_opening_says_error_once_and_fails_the_test() {
    let dir = tempfile::tempdir().unwrap();
    let source = r#"
scenario s {
  step a at due + 3 days { email "a" to accounting }
}
test "unknown" {
  use s
  until 2026-02-28
  customer ACME { segment b2b }
  invoice F-1 { customer ACME amount 100 EUR issued 2026-01-01 due 2026-01-31 }
  expect {}
}
"#;
    // The checker refuses a `use` naming an unknown scenario in source, so the compiled test
    // is changed instead: its case errs when it opens, as a customer naming an unknown
    // scenario does (the README's first example did).
    let set = set_in(dir.path(), source);
    let mut tc = set.tests[0].clone();
    tc.scenario = Some("gentle".into());
    let rules = RuleSet::default();
    let shared = testing::shared(&set, &rules, RateTable::builtin());
    let (timeline, errors) = testing::simulate_with_errors(shared, &tc);
    let text = timeline.to_text();
    assert!(text.contains("new → error: "), "{text}");
    assert!(!text.contains("error: error"), "{text}");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(matches!(
        testing::run(shared, &tc, WRITE),
        Verdict::Failed(_)
    ));
}

/// An amount written in another currency than its invoice's (`payment reversed F-1 100 USD`
/// on an EUR invoice) fails the test, naming the line's date, event and currencies, before
/// anything runs: the engine's events carry amounts only, so running it would take 100 USD
/// for 100 EUR. The daemon's API refuses a payment in another currency the same way. The same
/// lines in EUR pass.
#[test]
fn an_amount_in_another_currency_than_its_invoices_fails_the_test() {
    const SET: &str = r#"
scenario s {
  step r1 at due + 10 days { email "reminder-1" to accounting }
}
"#;
    let block = |events: &str| {
        format!(
            "{SET}\ntest \"currencies\" {{\n  until 2026-02-28\n  customer ACME {{ segment b2b }}\n  \
             invoice F-1 {{ customer ACME amount 100 EUR issued 2026-01-01 due 2026-01-31 }}\n\
             {events}\n  expect {{\n    2026-02-20 email \"reminder-1\" to accounting for F-1\n  }}\n}}\n"
        )
    };
    for (events, want) in [
        (
            "  on 2026-01-20 payment F-1 100 EUR\n  on 2026-02-20 payment reversed F-1 100 USD",
            Some(
                "  on 2026-02-20 payment reversed F-1 100 USD: USD is not the currency of \
                 invoice F-1 (EUR); write the amount in EUR\n",
            ),
        ),
        (
            "  on 2026-01-20 payment F-1 100 USD",
            Some(
                "  on 2026-01-20 payment F-1 100 USD: USD is not the currency of invoice F-1 \
                 (EUR); write the amount in EUR\n",
            ),
        ),
        // In EUR: paid on time, the payment comes back on 20 February; the reminder fallen
        // due on 10 February (due + 10) while the case was closed goes that day.
        (
            "  on 2026-01-20 payment F-1 100 EUR\n  on 2026-02-20 payment reversed F-1 100 EUR",
            None,
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let got = verdict(dir.path(), &block(events));
        match want {
            Some(report) => assert_eq!(got, Verdict::Failed(report.to_string()), "{events}"),
            None => assert_eq!(got, Verdict::Passed, "{events}"),
        }
    }
}
