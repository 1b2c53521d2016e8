//! `relance deploy` (the real binary) against a real server on 127.0.0.1: a local set folder
//! is sent as its files and deployed (exit 0); a folder without a scenario is refused with the
//! daemon's diagnostics (exit 1); `--migrate` reaches the daemon.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::{CREDIT, TempDir, serve};

const ALL: &str = "scenario all {\n  step reminder-1 at due + 3 days {\n    email \"reminder-1\" to accounting\n  }\n}\n";

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
}

/// Runs `relance deploy` off the async threads: (exit code, stdout, stderr).
async fn deploy(args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_relance"))
            .arg("deploy")
            .args(&args)
            .output()
            .expect("relance runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .expect("joined")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_sends_a_local_folder_and_prints_refusals() {
    let dir = TempDir::new("cli-deploy");
    let (base, _client) = serve(&dir.0, "2026-01-05", Duration::from_secs(20)).await;
    let good = dir.0.join("set");
    write(
        &good,
        &[
            ("all.relance", ALL),
            ("templates/reminder-1.fr.txt", "Bonjour"),
        ],
    );
    let empty = dir.0.join("empty");
    write(&empty, &[("notes.relance", "# nothing\n")]);
    let args = |set: &Path, extra: &[&str]| {
        let mut a = vec![
            set.display().to_string(),
            "--server".to_string(),
            base.clone(),
            "--token".to_string(),
            CREDIT.to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let (code, out, err) = deploy(args(&good, &[])).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("deployment 2 (deployed)"), "{out}");
    let (code, out, err) = deploy(args(&good, &[])).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("unchanged"), "{out}");
    let (code, out, err) = deploy(args(&good, &["--migrate", "all"])).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 migrated"), "{out}");
    let (code, out, err) = deploy(args(&empty, &[])).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("notes.relance:1:1: no_scenario"), "{err}");
    let (code, _, err) = deploy(args(&good, &["--migrate", "nosuch"])).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("migrate"), "{err}");
}
