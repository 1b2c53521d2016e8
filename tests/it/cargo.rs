//! Starting cargo from a test so that it reuses the build `cargo test --workspace` made
//! instead of redoing it.
//!
//! A test process inherits the variables cargo sets for a test run (`CARGO_PKG_NAME`,
//! `CARGO_MANIFEST_DIR`, …). Some build scripts tell cargo they depend on such a variable
//! (`ring`'s reads `CARGO_PKG_NAME` with `rerun-if-env-changed`), so a cargo started with them
//! reruns those scripts and rebuilds every crate above them. Selecting other packages or
//! targets changes the features, which rebuilds everything: `-p relance --bin relance` leaves
//! out the dev-dependencies' features that `cargo test --workspace` turns on. On a fresh 2-core
//! machine the two together made the benchmark smoke test wait past its 15 minutes.
//!
//! This module owns the environment and the selection that keep cargo on the suite's build;
//! it must not decide what a test checks.

use std::process::Command;

/// The variables cargo sets for the test process itself, removed from `command`'s
/// environment (its children inherit the rest).
pub(super) fn without_test_variables(command: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else {
            continue;
        };
        let set_by_cargo_for_the_test = name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || name.starts_with("CARGO_BIN_EXE_")
            || matches!(
                name,
                "CARGO_CRATE_NAME" | "CARGO_PRIMARY_PACKAGE" | "CARGO_TARGET_TMPDIR"
            );
        if set_by_cargo_for_the_test {
            command.env_remove(name);
        }
    }
    command
}

/// `cargo build` arguments that select `targets` with the feature set of `cargo test
/// --workspace`: the whole workspace, and an example (examples need the dev-dependencies, as
/// tests do, so their features are on; `cargo test` builds every example anyway).
pub(super) fn build_args<'a>(targets: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["build", "--workspace", "--example", "lsp_latency"];
    args.extend_from_slice(targets);
    args
}

/// Regression (CI on a fresh machine, 2026-12-07: the smoke test timed out behind rebuilds):
/// every variable cargo sets for a test run
/// is removed, and nothing else.
#[test]
fn a_cargo_started_from_a_test_does_not_see_the_test_s_package() {
    let mut command = Command::new("true");
    without_test_variables(&mut command);
    let removed: Vec<String> = command
        .get_envs()
        .filter(|(_, value)| value.is_none())
        .map(|(name, _)| name.to_string_lossy().into_owned())
        .collect();
    for name in [
        "CARGO_PKG_NAME",
        "CARGO_MANIFEST_DIR",
        "CARGO_PKG_VERSION_MAJOR",
    ] {
        assert!(removed.iter().any(|r| r == name), "{name}: {removed:?}");
    }
    assert!(
        removed
            .iter()
            .all(|r| r.starts_with("CARGO_") && r != "CARGO" && r != "CARGO_HOME"),
        "{removed:?}"
    );
    assert!(build_args(&["--bin", "relance"]).starts_with(&["build", "--workspace"]));
}
