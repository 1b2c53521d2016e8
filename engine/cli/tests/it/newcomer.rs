//! What a newcomer meets first: the README's "Try it" commands, run exactly as written, show
//! clean output (no case in `error`); `plan`, `report` and `demo` work from a folder outside
//! the checkout (the stdlib and the examples are built into the binary) and leave nothing in
//! the temporary folder; `serve` refuses to start without a token; its logs in a file carry no
//! colour codes. Every daemon started here listens on 127.0.0.1 and is killed by its pid.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The commands of the README's "Try it" block, with `cargo run --release --` replaced by
/// the binary under test: each as its list of arguments.
fn try_it_commands() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(crate::workspace().join("README.md")).unwrap();
    let block = readme
        .split_once("Try it:\n\n```sh\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(block, _)| block)
        .expect("README.md has a \"Try it:\" sh block");
    block
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let args = l
                .strip_prefix("cargo run --release -- ")
                .unwrap_or_else(|| panic!("a Try-it line runs the binary: {l}"));
            args.split_whitespace().map(String::from).collect()
        })
        .collect()
}

#[test]
fn the_readme_try_it_commands_show_no_error() {
    let commands = try_it_commands();
    assert!(!commands.is_empty());
    for args in commands {
        let out = Command::new(env!("CARGO_BIN_EXE_relance"))
            .current_dir(crate::workspace())
            .args(&args)
            .output()
            .expect("relance runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "relance {} failed:\n{stderr}",
            args.join(" ")
        );
        assert!(
            !stdout.is_empty(),
            "relance {} printed nothing",
            args.join(" ")
        );
        // `plan`'s summary on stderr counts cases in error: zero is the clean answer.
        let stderr = stderr.replace(" 0 case(s) in error", "");
        assert!(
            !stdout.contains("error") && !stderr.contains("error"),
            "relance {} shows an error:\n{stdout}\n{stderr}",
            args.join(" ")
        );
    }
}

/// `relance ARGS` run from `cwd` with `TMPDIR` set to `tmp`: (exit code, stdout, stderr).
fn relance_in(cwd: &Path, tmp: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_relance"))
        .current_dir(cwd)
        .env("TMPDIR", tmp)
        .env("RELANCE_LOG", "warn")
        .args(args)
        .output()
        .expect("relance runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn entries(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

#[test]
fn plan_and_report_use_the_embedded_stdlib_outside_the_checkout() {
    let away = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let examples = crate::workspace().join("examples");
    let examples = examples.to_str().unwrap();
    let (code, out, err) = relance_in(
        away.path(),
        tmp.path(),
        &[
            "plan",
            "--data",
            examples,
            "--from",
            "2026-04-01",
            "--days",
            "30",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("\"scenario\":\"standard-b2b\""), "{out}");
    // Without --scenarios the stdlib built in is the set: the same plan as the checkout's.
    let stdlib = crate::workspace().join("stdlib-scenarios");
    let (_, from_checkout, _) = relance_in(
        away.path(),
        tmp.path(),
        &[
            "plan",
            "--data",
            examples,
            "--scenarios",
            stdlib.to_str().unwrap(),
            "--from",
            "2026-04-01",
            "--days",
            "30",
            "--format",
            "json",
        ],
    );
    assert_eq!(out, from_checkout);
    let (code, out, err) = relance_in(
        away.path(),
        tmp.path(),
        &[
            "report",
            "activity",
            "--data",
            examples,
            "--at",
            "2026-04-30",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(!out.is_empty());
    assert_eq!(
        entries(tmp.path()),
        Vec::<String>::new(),
        "temporary files left behind"
    );
}

#[test]
fn demo_runs_outside_the_checkout_and_leaves_nothing_behind() {
    let away = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, err) = relance_in(away.path(), tmp.path(), &["demo", "--days", "5"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        out.contains("built-in example portfolio with the built-in stdlib scenarios"),
        "{out}"
    );
    assert!(out.contains("== what was sent"), "{out}");
    assert_eq!(
        entries(tmp.path()),
        Vec::<String>::new(),
        "the demo left files behind"
    );
    assert_eq!(
        entries(away.path()),
        Vec::<String>::new(),
        "the demo wrote into its folder"
    );
}

/// A `relance.toml` in `dir` storing under it, with the tokens given as TOML.
fn config(dir: &Path, tokens: &str) -> std::path::PathBuf {
    let text = format!(
        "data = \"{}\"\nspool = \"{}\"\nlisten = \"127.0.0.1:0\"\n{tokens}",
        dir.join("data").display(),
        dir.join("spool").display(),
    );
    let path = dir.join("relance.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn serve_without_a_token_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "");
    let stdlib = crate::workspace().join("stdlib-scenarios");
    let args = [
        "serve",
        "--config",
        path.to_str().unwrap(),
        "--scenarios",
        stdlib.to_str().unwrap(),
    ];
    let (code, _, err) = relance_in(dir.path(), dir.path(), &args);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("error: no API token is configured"), "{err}");
    assert!(err.contains("allow_no_tokens"), "{err}");
    assert!(!dir.path().join("data").exists(), "no store is created");
}

/// Kills (by pid) and reaps the daemon it holds when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_logs_to_a_file_without_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        "allow_no_tokens = false\n[[tokens]]\nname = \"ops\"\ntoken = \"admin-token-0000000001\"\nrole = \"admin\"\n",
    );
    let log = dir.path().join("relance.log");
    let mut daemon = Daemon(
        Command::new(env!("CARGO_BIN_EXE_relance"))
            .args([
                "serve",
                "--clock",
                "virtual",
                "--start",
                "2026-01-05",
                "--config",
            ])
            .arg(&path)
            .arg("--scenarios")
            .arg(crate::workspace().join("stdlib-scenarios"))
            .env("RELANCE_LOG", "info")
            .env_remove("NO_COLOR")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("relance serve"),
    );
    let stdout = daemon.0.stdout.take().unwrap();
    let listening = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|l| l.starts_with("relance: listening on "));
    assert!(listening, "the daemon did not start: see {}", log.display());
    drop(daemon);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("scenario set deployed"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "ANSI codes in a log file:\n{text:?}"
    );
}
