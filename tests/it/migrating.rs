//! The translated peer configurations of `docs/MIGRATING.md` (`examples/migrating/*.relance`):
//! each file checks clean (no error, no warning) and every `test` block in it passes, so the
//! guide's examples cannot drift from the language.

use std::path::{Path, PathBuf};

use relance_core::interest::RateTable;
use relance_core::scenario_set;
use relance_sim::testing::{self, SnapshotMode, Verdict};

fn migrating() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/migrating")
}

#[test]
fn every_translated_peer_example_checks_clean_and_passes_its_tests() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(migrating())
        .expect("examples/migrating exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "relance"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "one example per peer: {files:?}");
    for file in &files {
        let set = scenario_set::load(file).unwrap_or_else(|e| panic!("{}: {e:?}", file.display()));
        let compiled = set.compile();
        let problems: Vec<String> = compiled
            .diagnostics
            .iter()
            .flatten()
            .map(|d| format!("{d:?}"))
            .collect();
        assert!(problems.is_empty(), "{}: {problems:#?}", file.display());
        let ir = compiled.set.as_ref().expect("compiles");
        assert!(!ir.tests.is_empty(), "{} has no test", file.display());
        let shared = testing::shared(ir, &set.rules, RateTable::builtin());
        let mode = SnapshotMode {
            update: false,
            ci: true,
        };
        for tc in &ir.tests {
            let verdict = testing::run(shared, tc, mode);
            assert!(
                matches!(verdict, Verdict::Passed),
                "{} ({}:{}): {verdict:?}",
                tc.name,
                file.display(),
                tc.line
            );
        }
    }
}
