//! The commands that print what a library computes, run as the real `relance` binary: the
//! FEC import refusing a broken file without touching the data folder, `report` in JSON and
//! CSV, `simulate` printing the library's timeline byte for byte, and `rates --data` warning of
//! contractual rates below the L441-10 II floor.

use std::process::Command;

#[test]
fn a_rejected_file_leaves_the_data_folder_untouched() {
    let dir = std::env::temp_dir().join(format!("relance-it-fec-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("data").display().to_string();
    let run = |file: &str| {
        Command::new(env!("CARGO_BIN_EXE_relance"))
            .args([
                "import",
                "fec",
                &crate::engine_dir()
                    .join("data/tests-data/import/fec")
                    .join(file)
                    .display()
                    .to_string(),
                "--data",
                &data,
            ])
            .output()
            .expect("runs")
    };
    assert_eq!(run("collective-411.txt").status.code(), Some(0));
    let before = std::fs::read_to_string(dir.join("data/invoices.csv")).expect("written");
    let out = run("broken-unbalanced.txt");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(dir.join("data/invoices.csv")).expect("kept"),
        before
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn report_command_simulates_up_to_the_date() {
    let root = crate::engine_dir().join("cli");
    let out = Command::new(env!("CARGO_BIN_EXE_relance"))
        .args([
            "report",
            "activity",
            "--data",
            &root
                .join("../data/tests-data/import/reports")
                .display()
                .to_string(),
            "--at",
            "2026-04-30",
            "--scenarios",
            &root.join("../../stdlib-scenarios").display().to_string(),
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["promises_broken"], 1);
}

#[test]
fn report_command_formats() {
    let dir = crate::engine_dir().join("data/tests-data/import/reports");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_relance"))
            .args(args)
            .output()
            .expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let data = dir.display().to_string();
    let (code, out) = run(&[
        "report",
        "aged",
        "--data",
        &data,
        "--at",
        "2026-04-30",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(0));
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["totals"]["EUR"]["total"], "2200.00");
    assert_eq!(
        json["disclosure_totals"]["EUR"]["total_excluding_disputed"], "1900.00",
        "2200 less A3's 300, the one disputed invoice"
    );
    let (code, out) = run(&[
        "report",
        "dso",
        "--data",
        &data,
        "--at",
        "2026-04-30",
        "--format",
        "csv",
    ]);
    assert_eq!(code, Some(0));
    assert!(out.contains("countback_dso,94.6"), "{out}");
    assert!(out.contains("countback_months,calendar"), "{out}");
    // The options: 30-day months (30 + 30 + 30 + 200/1100 × 30 = 95.5 days) and the CEI over
    // 3 months (CRF form 4700/9800 = 48.0 %; see engine/sim/tests/it/reports_aged_dso.rs).
    let (code, out) = run(&[
        "report",
        "dso",
        "--data",
        &data,
        "--at",
        "2026-04-30",
        "--format",
        "csv",
        "--countback-months",
        "30-day",
        "--cei-months",
        "3",
    ]);
    assert_eq!(code, Some(0));
    for line in [
        "countback_dso,95.5",
        "countback_months,30-day",
        "cei_months,3",
        "cei_crf,48.0",
    ] {
        assert!(out.contains(line), "{line}: {out}");
    }
    let (code, _) = run(&[
        "report",
        "aged",
        "--data",
        "/no/such/dir",
        "--at",
        "2026-04-30",
    ]);
    assert_eq!(code, Some(2));
}

#[test]
fn relance_simulate_twice_prints_identical_json() {
    let engine = crate::engine_dir();
    let set = engine.join("sim/tests/it/timelines/set");
    let case = engine.join("sim/tests/it/timelines/three-customers.json");
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_relance"))
            .arg("simulate")
            .arg(&set)
            .arg("--case")
            .arg(&case)
            .args(["--until", "2026-06-30", "--format", "json"])
            .output()
            .expect("relance runs");
        assert!(
            out.status.success(),
            "relance simulate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let (first, second) = (run(), run());
    assert!(!first.is_empty());
    assert!(
        first == second,
        "two runs of `relance simulate --format json` differ"
    );
    // The command prints the library's timeline: the snapshot relance-sim's timeline test
    // takes of the same case through the library.
    let snap = std::fs::read_to_string(
        engine.join("sim/tests/it/snapshots/it__timelines__three-customers.json.snap"),
    )
    .expect("the snapshot exists");
    let library = snap.splitn(3, "---\n").nth(2).expect("an insta snapshot");
    assert_eq!(String::from_utf8(first).expect("UTF-8"), library);
}

/// `relance rates --data DIR` lists the customers whose contractual late-payment rate is below
/// three times the legal rate (L441-10 II) of a half-year from their earliest due date on.
/// Built-in table: floors 2024-H2 14.76 %, 2026-H1 7.86 % (3 × 4.92, 3 × 2.62).
#[test]
fn rates_with_a_data_folder_warns_of_contract_rates_below_the_floor() {
    let dir = std::env::temp_dir().join(format!("relance-cli-rates-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("customers.csv"),
        "id,late_interest_rate\nACME,12\nBETA,7\nGAMMA,20\n",
    )
    .expect("customers");
    std::fs::write(
        dir.join("invoices.csv"),
        "id,customer,amount,issued,due\nF-1,ACME,100,2024-06-01,2024-07-31\n",
    )
    .expect("invoices");
    let out = Command::new(env!("CARGO_BIN_EXE_relance"))
        .args(["rates", "--data"])
        .arg(&dir)
        .output()
        .expect("runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let contract: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("warning: customer"))
        .collect();
    assert_eq!(
        contract,
        [
            "warning: customer ACME: the contractual late-payment rate 12 % is below three \
             times the legal rate in 2024-H2 (floor 14.76 %) (Code de commerce L441-10 II)",
            "warning: customer BETA: the contractual late-payment rate 7 % is below three times \
             the legal rate in 2026-H1 (floor 7.86 %) (Code de commerce L441-10 II)",
        ],
        "{text}"
    );
}

/// `relance rates --today DATE` lists the half-years up to DATE the table lacks, and which
/// half-year's rate the engine assumes for each (the last known one): with a data folder whose
/// `rates.csv` adds 2027-H1 with no legal rate, the built-in table lacks the legal rate of
/// 2026-H2 and 2027-H1 (2026-H1's, 2.62 %, is assumed) and the whole row of 2027-H2.
#[test]
fn rates_today_lists_the_half_years_the_table_lacks() {
    let dir = std::env::temp_dir().join(format!("relance-cli-rates-today-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("rates.csv"),
        "half_year,ecb_rate,legal_rate_professionals\n2027-H1,2.00,\n",
    )
    .expect("rates");
    let run = |today: &str, format: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_relance"))
            .args(["rates", "--today", today, "--format", format, "--data"])
            .arg(&dir)
            .output()
            .expect("runs");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    let text = run("2027-08-01", "text");
    let missing: Vec<&str> = text.lines().filter(|l| l.starts_with("missing:")).collect();
    assert_eq!(
        missing,
        [
            "missing: 2026-H2: legal rate of 2026-H1 assumed",
            "missing: 2027-H1: legal rate of 2026-H1 assumed",
            "missing: 2027-H2: no row (ECB rate of 2027-H1 assumed), legal rate of 2026-H1 \
             assumed",
        ],
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&run("2027-08-01", "json")).expect("JSON");
    assert_eq!(json["missing"][2]["half_year"], "2027-H2");
    assert_eq!(json["missing"][2]["ecb_from"], "2027-H1");
    assert!(run("2026-06-30", "text").contains("the table holds every half-year up to 2026-06-30"));
    let _ = std::fs::remove_dir_all(&dir);
}
