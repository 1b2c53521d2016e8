//! Data-driven checks of whole sets, `rules/` included: each folder of `tests/it/sets/` is a
//! scenario set, checked with `scenario_set::check` as `relance check FOLDER` does. The
//! snapshot is every diagnostic rendered as a user reads it (the `.relance` files first, then
//! the `.rhai` files), so it shows the file, line, column and source of each.
//!
//! This module only reads case folders and renders; what is wrong is decided by the checker
//! and `scenario_set`.

use std::path::Path;

use relance_core::scenario_set;
use relance_dsl::diagnostics::{render, render_set};

/// Everything `relance check` would print for the set at `dir`, and the number of errors.
fn rendered(dir: &Path) -> (String, usize) {
    let set = scenario_set::check(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let others: Vec<(&str, &str)> = set
        .rules
        .iter()
        .map(|r| (r.path.as_str(), r.text.as_str()))
        .collect();
    let mut out = String::new();
    for ((file, diags), elsewhere) in set.files.iter().zip(&set.diagnostics).zip(&set.elsewhere) {
        out.push_str(&render_set(
            diags, elsewhere, &file.path, &file.text, &others, false,
        ));
    }
    for (file, diags) in set.rules.iter().zip(&set.rule_diagnostics) {
        out.push_str(&render(diags, &file.path, &file.text, false));
    }
    let errors = set
        .diagnostics
        .iter()
        .chain(&set.rule_diagnostics)
        .flatten()
        .filter(|d| d.is_error())
        .count();
    (out, errors)
}

#[test]
fn every_set_case_snapshots_its_diagnostics() {
    // Relative to the crate, so the snapshots hold no machine path.
    let root = Path::new("tests/it/sets");
    let mut cases: Vec<_> = std::fs::read_dir(root)
        .expect("tests/it/sets")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let (out, errors) = rendered(&case);
        assert!(errors > 0, "{name} has no error:\n{out}");
        insta::assert_snapshot!(name, out);
    }
}

/// `load` (what running a set uses) still refuses a set whose rules do not compile.
#[test]
fn load_refuses_a_set_whose_rules_have_a_problem() {
    for case in ["rules-compile-error", "rules-forbidden-call", "rules-defined-twice"] {
        let dir = Path::new("tests/it/sets").join(case);
        assert!(
            matches!(
                scenario_set::load(&dir),
                Err(scenario_set::SetError::Rules(_))
            ),
            "{case}"
        );
    }
}
