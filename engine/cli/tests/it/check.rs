//! `relance check` as a process: exit statuses (0 clean, 1 findings, 2 usage or I/O) and the
//! diagnostics of `rules/*.rhai` files in text and `--format json`, on the set cases of
//! relance-core (`engine/core/tests/it/sets/`).

use std::path::PathBuf;
use std::process::{Command, Output};

fn sets() -> PathBuf {
    crate::engine_dir().join("core/tests/it/sets")
}

fn check(args: &[&str], set: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_relance"))
        .arg("check")
        .args(args)
        .arg(sets().join(set))
        .env("NO_COLOR", "1")
        .output()
        .expect("run relance check")
}

#[test]
fn a_rules_file_that_does_not_compile_is_a_finding_not_a_usage_error() {
    let out = check(&[], "rules-compile-error");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("error[E0190]"), "{stdout}");
    assert!(stdout.contains("rules/exposure.rhai:8:1"), "{stdout}");
    assert!(stdout.contains("1 error(s)"), "{stdout}");
}

#[test]
fn rules_diagnostics_are_in_the_json_output() {
    for (set, code, file, line, column) in [
        ("rules-forbidden-call", "E0191", "debugging.rhai", 2, 5),
        ("rules-defined-twice", "E0192", "exposure.rhai", 5, 4),
    ] {
        let out = check(&["--format", "json"], set);
        assert_eq!(out.status.code(), Some(1), "{set}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let d = &json["diagnostics"][0];
        assert_eq!(d["code"], code, "{json}");
        assert!(
            d["file"].as_str().is_some_and(|f| f.ends_with(file)),
            "{json}"
        );
        assert_eq!(
            (d["line"].as_u64(), d["column"].as_u64()),
            (Some(line), Some(column))
        );
        assert_eq!(json["errors"], 1);
    }
}

#[test]
fn a_wrong_rule_arity_shows_the_rule_definition() {
    let out = check(&[], "rule-wrong-arity");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error[E0152]"), "{stdout}");
    assert!(stdout.contains("rules/exposure.rhai:2:4"), "{stdout}");
}

#[test]
fn a_missing_path_is_a_usage_error() {
    let out = check(&[], "no-such-set");
    assert_eq!(out.status.code(), Some(2));
}
