//! The commands of the French-law features as the real binary: `relance insurance` over a data
//! folder with `insurers.csv` (deadlines from the original due date, warnings, exit 1), and the
//! aged report showing a customer under a collective procedure apart
//! (`engine/data/tests-data/insurance/`; dates hand-computed in `relance_sim`'s tests).

use std::process::Command;

fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_relance"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn data() -> String {
    crate::engine_dir()
        .join("data/tests-data/insurance")
        .display()
        .to_string()
}

#[test]
fn insurance_lists_deadlines_and_warns() {
    let (code, out) = run(&[
        "insurance",
        &data(),
        "--at",
        "2026-03-31",
        "--format",
        "csv",
    ]);
    assert_eq!(code, Some(1), "warnings: exit 1\n{out}");
    // Due 31 January, 60 days: 1 April; 6 months: 31 July; stop-cover 90 days (28 + 31 + 31):
    // 1 May. Due 14 February: 15 April, 14 August; stop-cover 90 days (14 + 31 + 30 + 15):
    // 15 May. One due date each: the installment column is empty.
    assert!(
        out.contains(
            "ACME,acme-credit,covered,F-1,EUR,800.00,2026-01-31,2026-04-15,2026-04-01,2026-07-31,\
             2026-05-01,\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "ACME,acme-credit,covered,F-2,EUR,300.00,2026-02-14,2026-03-16,2026-04-15,2026-08-14,\
             2026-05-15,\n"
        ),
        "{out}"
    );
    let (_, text) = run(&["insurance", &data(), "--at", "2026-03-31"]);
    assert!(
        text.contains(
            "ACME F-1 [acme-credit covered] 800.00 EUR due 2026-01-31, extended to 2026-04-15: \
             declare threatened risk by 2026-04-01, stop-cover from 2026-05-01, file claim by \
             2026-07-31\n"
        ),
        "{text}"
    );
    assert!(!out.contains("GAMMA"), "not insured: {out}");
    let (_, out) = run(&[
        "insurance",
        &data(),
        "--at",
        "2026-03-31",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["warnings"].as_array().map(Vec::len), Some(3), "{json}");
    assert_eq!(
        json["invoices"][0]["stop_cover_from"], "2026-05-01",
        "{json}"
    );
    assert_eq!(
        json["invoices"][1]["stop_cover_from"], "2026-05-15",
        "{json}"
    );
    let (code, _) = run(&["insurance", "/no/such/dir", "--at", "2026-03-31"]);
    assert_eq!(code, Some(2));
}

#[test]
fn the_aged_report_shows_a_customer_under_a_procedure_apart() {
    let (code, out) = run(&[
        "report",
        "aged",
        "--data",
        &data(),
        "--at",
        "2026-03-31",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(0), "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["apart"][0]["customer"], "GAMMA", "{json}");
    assert_eq!(
        json["apart"][0]["procedure"],
        "redressement since 2026-03-10"
    );
    assert_eq!(
        json["totals"]["EUR"]["total"], "1200.00",
        "ACME and BETA only"
    );
    assert_eq!(json["apart_totals"]["EUR"]["total"], "100.00");
}
