//! Runs the editor grammar's tests with a real TextMate engine (vscode-textmate + vscode-oniguruma,
//! the engine VS Code uses), from `editor-grammar/`:
//!
//! - `npm test`: the annotated `tests/*.test.relance` files (vscode-tmgrammar-test);
//! - `node tests/no-invalid.js <repo root>`: every `*.relance` file of the repository tokenizes
//!   without an `invalid.*` scope, without an unscoped word and without an unclosed construct, and
//!   every keyword of `dsl/src/syntax/relance.pest` appears in the TextMate grammar.
//!
//! Both need `editor-grammar/node_modules` (`npm ci` in `editor-grammar/`). Without it the test is
//! skipped with a notice, except under CI (the `CI` environment variable set to anything but
//! empty, `0` or `false`), where it fails: `.ci/run` must run `npm ci` in `editor-grammar/` first.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Generous: both commands take a few seconds. A grammar whose regex backtracks without end
/// must fail the test, not hang CI.
const TIMEOUT: Duration = Duration::from_secs(300);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent folder")
        .to_path_buf()
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false" | "FALSE" | "False"))
}

/// `npm` is `npm.cmd` on Windows, which `Command` does not find by itself.
fn npm() -> &'static str {
    if cfg!(windows) { "npm.cmd" } else { "npm" }
}

/// Runs `program args` in `dir`, panicking with the whole output when it fails or times out.
fn run(dir: &Path, program: &str, args: &[&str]) {
    let shown = format!("{program} {}", args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{shown}` in {}: {e} (are Node.js and npm installed?)",
                dir.display()
            )
        });

    // Drain both pipes on their own threads so a chatty child never blocks on a full pipe.
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });

    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break Some(status);
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (out, err) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );

    match status {
        Some(status) if status.success() => {
            // Shown with `cargo test -- --nocapture`.
            println!("`{shown}` passed:\n{out}");
        }
        Some(status) => panic!(
            "`{shown}` failed in {} ({status}).\n--- stdout ---\n{out}\n--- stderr ---\n{err}",
            dir.display()
        ),
        None => panic!(
            "`{shown}` did not finish within {TIMEOUT:?} in {} (a grammar regex that backtracks \
             without end, or a test assertion with two ` - ` exclusion lists?).\n\
             --- stdout ---\n{out}\n--- stderr ---\n{err}",
            dir.display()
        ),
    }
}

#[test]
fn textmate_grammar_passes_its_tests_and_tokenizes_every_relance_file() {
    let root = repo_root();
    let dir = root.join("editor-grammar");
    if !dir.join("node_modules").is_dir() {
        if under_ci() {
            panic!(
                "editor-grammar/node_modules is missing: `.ci/run` must run `npm ci` in \
                 editor-grammar/ before the Rust tests (cd editor-grammar && npm ci)"
            );
        }
        eprintln!(
            "skipped: the editor grammar tests need Node.js packages; run `npm ci` in \
             editor-grammar/ (cd {} && npm ci), then run this test again",
            dir.display()
        );
        return;
    }

    run(&dir, npm(), &["test"]);
    let root_arg = root.to_string_lossy().into_owned();
    run(&dir, "node", &["tests/no-invalid.js", &root_arg]);
}
