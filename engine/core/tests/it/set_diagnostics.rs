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
    for case in [
        "rules-compile-error",
        "rules-forbidden-call",
        "rules-defined-twice",
    ] {
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

/// The examples of `docs/DIAGNOSTICS.md` that have `rules/*.rhai` files (a ```` ```rhai ````
/// block opened by `// rules/NAME.rhai`): each is written out as a set, checked, and must print
/// exactly the ```` ```text ```` block shown (paths from the set's folder, `.`).
#[test]
fn the_rules_examples_of_diagnostics_md_print_what_they_show() {
    let doc = std::fs::read_to_string("../../docs/DIAGNOSTICS.md").expect("DIAGNOSTICS.md");
    let mut problems = Vec::new();
    let mut checked = 0;
    for section in doc.split("\n## ").skip(1) {
        let code = section.split(':').next().unwrap_or("").to_string();
        let fences = fences(section);
        if !fences.iter().any(|(info, _)| info == "rhai") {
            continue;
        }
        checked += 1;
        let dir = std::env::temp_dir().join(format!("relance-docs-{}-{code}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("rules")).expect("temp dir");
        let mut shown = None;
        for (info, body) in &fences {
            match info.as_str() {
                "relance" => std::fs::write(dir.join("example.relance"), body).expect("write"),
                "rhai" => {
                    let path = body
                        .lines()
                        .next()
                        .and_then(|l| l.strip_prefix("// "))
                        .unwrap_or_else(|| {
                            panic!("{code}: a rhai block starts with `// rules/NAME.rhai`")
                        });
                    std::fs::write(dir.join(path), body).expect("write");
                }
                "text" if shown.is_none() => shown = Some(body.clone()),
                _ => {}
            }
        }
        let (out, _) = rendered(&dir);
        let out = out.replace(&dir.display().to_string(), ".");
        let _ = std::fs::remove_dir_all(&dir);
        let shown = shown.unwrap_or_default();
        if out.trim_end() != shown.trim_end() {
            problems.push(format!(
                "{code}: the doc shows\n{shown}\nbut the example prints\n{out}"
            ));
        }
    }
    assert!(checked >= 3, "found {checked} rules examples");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The fenced blocks of a markdown text: `(info string, body)`.
fn fences(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in text.lines() {
        match open.as_mut() {
            Some(_) if line.trim_end() == "```" => out.extend(open.take()),
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    open = Some((info.trim().to_string(), String::new()));
                }
            }
        }
    }
    out
}

/// W0175 at `relance check` for a scenario's `late-interest N%` below the L441-10 II floor
/// (three times the legal rate) of the latest half-year the set's table gives. Built-in table:
/// 2026-H1, 3 × 2.62 = 7.86 % (arrêté of 15 December 2025). A set folder's `rates.csv` lies
/// on top of it: a (made-up, for the test) 2026-H2 legal rate of 2.00 makes the floor 6.00 %.
#[test]
fn a_scenario_rate_below_the_legal_floor_is_warned_against_the_sets_table() {
    let rates = "half_year,ecb_rate,legal_rate_professionals\n2026-H2,2.15,2.00\n";
    let cases: [(&str, Option<&str>, &str, Option<&str>); 4] = [
        (
            "builtin-low",
            None,
            "7%",
            Some(
                "warning[W0175]: `late-interest 7%` is below the legal floor of 2026-H1, 7.86% (three times the legal rate)",
            ),
        ),
        ("builtin-at-floor", None, "7.86%", None),
        ("own-table", Some(rates), "7%", None),
        (
            "own-table-low",
            Some(rates),
            "5.5%",
            Some(
                "warning[W0175]: `late-interest 5.5%` is below the legal floor of 2026-H2, 6.00% (three times the legal rate)",
            ),
        ),
    ];
    for (name, table, rate, expected) in cases {
        let dir =
            std::env::temp_dir().join(format!("relance-core-floor-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(
            dir.join("terms.relance"),
            format!(
                "scenario terms {{\n  late-interest {rate}\n  step notice at due + 30 days {{\n    charge late-interest\n  }}\n}}\n"
            ),
        )
        .expect("write");
        if let Some(t) = table {
            std::fs::write(dir.join("rates.csv"), t).expect("write");
        }
        let (out, errors) = rendered(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(errors, 0, "{name}: {out}");
        match expected {
            Some(line) => assert!(out.contains(line), "{name}:\n{out}"),
            None => assert!(!out.contains("W0175"), "{name}:\n{out}"),
        }
    }
}
