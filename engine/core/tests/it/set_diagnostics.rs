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

/// W0190 on a file of helpers (`rules/helpers.rhai`) that only another rules file
/// (`rules/main.rhai`, whose `main` the scenario calls) may call: the calls are read from
/// rhai's syntax tree, so a name in a comment or a string is no call, a built-in method of the
/// same name is no call, and a real call, a method call that reaches the helper and a function
/// pointer are. Each expected W0190 is given with its file, line and column (the helper's name
/// in its definition).
#[test]
fn a_file_of_helpers_is_used_only_by_real_calls_from_another_rules_file() {
    // (case, helpers.rhai, the body of `main`, the W0190 expected)
    let cases: [(&str, &str, &str, Option<&str>); 9] = [
        (
            "a call",
            "fn helper(x) {\n    x > 1\n}\n",
            "helper(invoice.days_late)",
            None,
        ),
        (
            "the name in a line comment",
            "fn helper(x) {\n    x > 1\n}\n",
            "// helper(invoice.days_late)\n    true",
            Some("rules/helpers.rhai:1:4"),
        ),
        (
            "the name in a block comment",
            "fn helper(x) {\n    x > 1\n}\n",
            "/* helper(invoice.days_late) */ true",
            Some("rules/helpers.rhai:1:4"),
        ),
        (
            "the name in a string",
            "fn helper(x) {\n    x > 1\n}\n",
            "let s = \"helper(1)\";\n    s.len() > 0",
            Some("rules/helpers.rhai:1:4"),
        ),
        (
            "a built-in method of the same name (one argument: the helper takes two)",
            "// A helper no one calls.\nfn contains(list, item) {\n    list.index_of(item) >= 0\n}\n",
            "customer.tags.contains(\"vip\")",
            Some("rules/helpers.rhai:2:4"),
        ),
        (
            "a method call that reaches the helper (`this` bound)",
            "fn is_vip() {\n    this.contains(\"vip\")\n}\n",
            "customer.tags.is_vip()",
            None,
        ),
        (
            "a function pointer",
            "fn helper(x) {\n    x > 1\n}\n",
            "let f = Fn(\"helper\");\n    f.call(invoice.days_late)",
            None,
        ),
        (
            "a call inside a closure",
            "fn helper(x) {\n    x > 1\n}\n",
            "customer.tags.filter(|t| helper(t.len())).len() > 0",
            None,
        ),
        (
            "the definition of a function of the same name in a comment",
            "fn helper(x) {\n    x > 1\n}\n",
            "// fn helper(x) { true }\n    true",
            Some("rules/helpers.rhai:1:4"),
        ),
    ];
    for (i, (case, helpers, body, expected)) in cases.iter().enumerate() {
        let dir =
            std::env::temp_dir().join(format!("relance-core-w0190-{i}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("rules")).expect("temp dir");
        std::fs::write(
            dir.join("s.relance"),
            "scenario s {\n  step a at due + 1 days {\n    if rule(\"main\") {\n      escalate litigation\n    }\n  }\n}\n",
        )
        .expect("write");
        std::fs::write(dir.join("rules/helpers.rhai"), helpers).expect("write");
        std::fs::write(
            dir.join("rules/main.rhai"),
            format!("fn main(invoice, customer) {{\n    {body}\n}}\n"),
        )
        .expect("write");
        let set = scenario_set::check(&dir).unwrap_or_else(|e| panic!("{case}: {e}"));
        let _ = std::fs::remove_dir_all(&dir);
        let mut found = Vec::new();
        for (file, diags) in set.rules.iter().zip(&set.rule_diagnostics) {
            let name = Path::new(&file.path).file_name().unwrap().to_string_lossy();
            for d in diags {
                let (line, column) = relance_dsl::diagnostics::LineIndex::new(&file.text)
                    .line_col(&file.text, d.span.start);
                found.push(format!("{} rules/{name}:{line}:{column}", d.code.code()));
            }
        }
        let expected: Vec<String> = expected.iter().map(|at| format!("W0190 {at}")).collect();
        assert_eq!(found, expected, "{case}");
        assert!(
            set.diagnostics.iter().flatten().all(|d| !d.is_error()),
            "{case}: {:?}",
            set.diagnostics
        );
    }
}

/// Review regression: while another rules file does not compile, its calls are unknown (a
/// file that does not compile gives no syntax tree), so a file of helpers it calls got W0190
/// beside that file's own error. W0190 now waits until no rules file has an error,
/// as rule names do (`RulesRead::arities`).
#[test]
fn a_rules_file_that_does_not_compile_hides_no_w0190_on_the_helpers_it_calls() {
    let dir =
        std::env::temp_dir().join(format!("relance-core-w0190-broken-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("rules")).expect("temp dir");
    std::fs::write(
        dir.join("s.relance"),
        "scenario s {\n  step a at due + 1 days {\n    if rule(\"main\") {\n      escalate litigation\n    }\n  }\n}\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("rules/helpers.rhai"),
        "fn helper(x) {\n    x > 1\n}\n",
    )
    .expect("write");
    // `main` calls the helper, but the file does not compile (an unclosed call).
    std::fs::write(
        dir.join("rules/main.rhai"),
        "fn main(invoice, customer) {\n    helper(invoice.days_late\n}\n",
    )
    .expect("write");
    let set = scenario_set::check(&dir).expect("the set reads");
    let _ = std::fs::remove_dir_all(&dir);
    let mut found = Vec::new();
    for (file, diags) in set.rules.iter().zip(&set.rule_diagnostics) {
        let name = Path::new(&file.path).file_name().unwrap().to_string_lossy();
        for d in diags {
            found.push(format!("{} rules/{name}", d.code.code()));
        }
    }
    assert!(
        found.iter().any(|f| f.ends_with("rules/main.rhai")),
        "main.rhai's compile error: {found:?}"
    );
    assert!(
        !found.iter().any(|f| f.starts_with("W0190")),
        "no W0190 while a rules file does not compile: {found:?}"
    );
}
