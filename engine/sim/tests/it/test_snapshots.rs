//! Snapshots of `expect snapshot` that do not churn: the same set run from another path, or
//! with its scenario retitled, matches the snapshot it wrote.
//!
//! Each case writes a set into a temporary folder, runs it once to write its snapshot, then
//! runs it again as CI does (a difference fails).

use std::path::Path;

use relance_core::interest::RateTable;
use relance_core::scenario_set;
use relance_sim::testing::{self, SnapshotMode, Verdict};

const SET: &str = r#"
scenario s {
  title "TITLE"
  step a at due + 3 days { email "a" to accounting }
}

test "one reminder" {
  until 2026-02-28
  customer ACME { segment b2b }
  invoice F-1 { customer ACME amount 100 EUR issued 2026-01-01 due 2026-01-31 }
  expect snapshot
}
"#;

/// The verdicts of the set at `path` (as typed: relative, absolute, with `..`).
fn run(path: &Path, mode: SnapshotMode) -> Vec<Verdict> {
    let loaded = scenario_set::load(path).expect("loads");
    let set = loaded.compile().set.expect("compiles");
    let shared = testing::shared(&set, &loaded.rules, RateTable::builtin());
    set.tests
        .iter()
        .map(|tc| testing::run(shared, tc, mode))
        .collect()
}

const FIRST: SnapshotMode = SnapshotMode {
    update: false,
    ci: false,
};
const CI: SnapshotMode = SnapshotMode {
    update: false,
    ci: true,
};

#[test]
fn a_snapshot_does_not_depend_on_the_path_the_set_was_run_from() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    std::fs::create_dir_all(dir.path().join("other/folder")).unwrap();
    std::fs::create_dir_all(&base).unwrap();
    std::fs::write(base.join("set.relance"), SET.replace("TITLE", "Gentle")).unwrap();
    let written = run(&base, FIRST);
    assert!(
        matches!(written.as_slice(), [Verdict::Written(_)]),
        "{written:?}"
    );
    let snapshot = std::fs::read_to_string(base.join("set.snapshots/one-reminder.txt")).unwrap();
    assert!(
        snapshot.starts_with("# test \"one reminder\" (set.relance)\n"),
        "the header names the file relative to the set root:\n{snapshot}"
    );
    let other = dir.path().join("other/folder/../../base");
    assert_eq!(run(&other, CI), [Verdict::Passed]);
    assert_eq!(run(&base.join("set.relance"), CI), [Verdict::Passed]);
}

#[test]
fn retitling_a_scenario_keeps_its_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("set.relance");
    std::fs::write(&file, SET.replace("TITLE", "Gentle")).unwrap();
    assert!(matches!(
        run(dir.path(), FIRST).as_slice(),
        [Verdict::Written(_)]
    ));
    std::fs::write(
        &file,
        format!(
            "# A description for people, above everything.\n{}",
            SET.replace("TITLE", "Gentle reminders, renamed")
        ),
    )
    .unwrap();
    assert_eq!(run(dir.path(), CI), [Verdict::Passed]);
}
