//! The benchmark harness cannot rot: runs `benches/run --smoke` (tiny sizes, debug binaries)
//! and checks that every benchmark produced a row with a number and a peak memory, in the JSON
//! file the script writes.
//!
//! The script builds what it runs (`cargo build` of the `relance` binary, the `transition`
//! bench, the `bench_daemon` and `lsp_latency` examples: no-ops when `cargo test` already built them) and bounds
//! every row itself; this test also kills the script's whole process group if it has not
//! finished after `DEADLINE`, so it always stops by itself. No assertion on any timing: the
//! figures belong in BENCHMARKS.md.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Generous: the first run may compile the bench and the example in debug.
const DEADLINE: Duration = Duration::from_secs(900);

/// Every row the smoke run must produce.
const BENCHES: [&str; 11] = [
    "check",
    "transition",
    "plan",
    "plan_csv",
    "plan_parquet",
    "import",
    "daemon_daily",
    "http_writes",
    "lsp_edit",
    "lsp_reparse",
    "lsp_syntax_error",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is in the workspace")
        .to_path_buf()
}

/// A fresh folder under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "relance-bench-harness-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[test]
fn smoke_run_gives_every_row_a_number() {
    use std::os::unix::process::CommandExt;

    let root = workspace_root();
    let tmp = TempDir::new();
    let out = tmp.0.join("results.json");
    let (stdout, stderr) = (tmp.0.join("stdout"), tmp.0.join("stderr"));
    // benches/run starts cargo: without the test's own variables it reuses the suite's build
    // (`super::cargo`).
    let mut child = super::cargo::without_test_variables(&mut Command::new("bash"))
        .arg(root.join("benches/run"))
        .args(["--smoke", "--out"])
        .arg(&out)
        .env("CARGO", env!("CARGO"))
        .env("TMPDIR", &tmp.0)
        .current_dir(&root)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr).expect("stderr file"))
        .process_group(0) // its own group, so a kill reaches the commands it runs
        .spawn()
        .expect("bash runs benches/run");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for benches/run") {
            break status;
        }
        if start.elapsed() > DEADLINE {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "benches/run --smoke did not finish within {DEADLINE:?}; its last output:\n{}",
                tail(&stderr, 20)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let report = format!(
        "stdout:\n{}\nstderr:\n{}",
        tail(&stdout, 30),
        tail(&stderr, 30)
    );
    println!("{report}");

    let text = std::fs::read_to_string(&out)
        .unwrap_or_else(|e| panic!("no JSON from benches/run ({e}), {status}\n{report}"));
    let json: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("benches/run wrote invalid JSON ({e}):\n{text}"));
    assert_eq!(json["mode"], "smoke", "{text}");
    let rows = json["rows"].as_array().expect("rows");

    // The daemon rows may say `unavailable` only while their program does not exist.
    let daemon_exists = root
        .join("engine/daemon/examples/bench_daemon.rs")
        .is_file();
    for bench in BENCHES {
        let row = rows
            .iter()
            .find(|r| r["bench"] == bench)
            .unwrap_or_else(|| panic!("no `{bench}` row:\n{text}"));
        if !daemon_exists && matches!(bench, "daemon_daily" | "http_writes") {
            assert_eq!(row["status"], "unavailable", "{row}");
            continue;
        }
        assert_eq!(row["status"], "ok", "`{bench}` failed: {row}\n{report}");
        let value = row["value"].as_f64();
        assert!(
            value.is_some_and(|v| v.is_finite() && v > 0.0),
            "`{bench}` has no number: {row}"
        );
        let peak = row["peak_mb"].as_f64();
        assert!(
            peak.is_some_and(|p| p > 0.0),
            "`{bench}` has no peak memory: {row}"
        );
    }
    for row in rows {
        let name = row["bench"].as_str().unwrap_or_default();
        assert!(BENCHES.contains(&name), "unexpected row {row}");
    }
    assert!(
        status.success(),
        "benches/run exited with {status} although every row has a number\n{report}"
    );
}
