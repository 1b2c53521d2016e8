//! The crate boundary that keeps the transition function pure: relance-core depends on no
//! async runtime, store, HTTP stack, mail transport or language server, even transitively.

use std::process::Command;

/// Crates that do I/O, which the core must never reach.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "sled",
    "axum",
    "hyper",
    "lettre",
    "reqwest",
    "tower-lsp-server",
    "minijinja",
    "relance-data",
    "relance-sim",
    "relance-daemon",
    "relance-lsp",
];

#[test]
fn core_has_no_io_dependencies() {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-p",
            "relance-core",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8(out.stdout).expect("UTF-8");
    let names: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(
        names.contains(&"rhai") && names.contains(&"relance-dsl"),
        "the tree was read: {names:?}"
    );
    for forbidden in FORBIDDEN {
        assert!(
            !names.contains(forbidden),
            "relance-core depends on {forbidden}:\n{tree}"
        );
    }
}
