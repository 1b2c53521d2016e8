//! CSV import through the `relance import csv` command: header mapping, French formats,
//! precise errors, atomic write, idempotence and dry runs.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/tests-data/import")
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("relance-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn relance(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_relance"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn mapping() -> String {
    std::fs::read_to_string(fixtures().join("csv/mapping.txt"))
        .expect("mapping")
        .trim()
        .to_string()
}

fn french_files() -> Vec<String> {
    ["clients.csv", "factures.csv", "reglements.csv"]
        .iter()
        .map(|f| fixtures().join("csv").join(f).display().to_string())
        .collect()
}

#[test]
fn mapped_french_files_import_then_reimport_changes_nothing() {
    let dir = temp("csv-french");
    let data = dir.join("data");
    let data_s = data.display().to_string();
    let map = mapping();
    let files = french_files();
    let mut args: Vec<&str> = vec!["import", "csv"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["--data", &data_s, "--map", &map]);

    let mut dry = args.clone();
    dry.push("--dry-run");
    let (code, out, err) = relance(&dry);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("customers: 2 new"), "{out}");
    assert!(out.contains("invoices: 3 new"), "{out}");
    assert!(out.contains("payments: 2 new"), "{out}");
    assert!(!data.exists(), "a dry run writes nothing");

    let (code, out, err) = relance(&args);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("imported into"), "{out}");
    let p = relance_data::portfolio::load_dir(&data).expect("written folder loads");
    assert_eq!(p.customers.len(), 2);
    let fa3 = p
        .invoices
        .iter()
        .find(|i| i.id == "FA-003")
        .expect("FA-003");
    assert_eq!(fa3.amount.to_string(), "1234.56");
    assert_eq!(
        fa3.due.to_string(),
        "2026-03-03",
        "no due date and no customer terms: default 30 days"
    );
    let fa1 = p
        .invoices
        .iter()
        .find(|i| i.id == "FA-001")
        .expect("FA-001");
    assert_eq!(fa1.due.to_string(), "2026-02-19", "ACME's 45 days of terms");
    assert_eq!(p.events.len(), 2);

    let before = std::fs::read_to_string(data.join("invoices.csv")).expect("invoices");
    let (code, out, _) = relance(&args);
    assert_eq!(code, 0);
    assert!(out.contains("0 new, 0 updated, 3 unchanged"), "{out}");
    assert!(
        out.contains("payments: 0 new") && out.contains("2 already known"),
        "{out}"
    );
    assert!(out.contains("nothing to change"), "{out}");
    assert_eq!(
        std::fs::read_to_string(data.join("invoices.csv")).expect("invoices"),
        before
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn invalid_rows_are_all_reported_and_nothing_is_written() {
    let dir = temp("csv-invalid");
    let data = dir.join("data");
    let data_s = data.display().to_string();
    let map = mapping();
    let files = french_files();
    let mut args: Vec<&str> = vec!["import", "csv"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["--data", &data_s, "--map", &map]);
    assert_eq!(relance(&args).0, 0);
    let before = std::fs::read_to_string(data.join("invoices.csv")).expect("invoices");

    let bad = fixtures()
        .join("csv/factures-invalides.csv")
        .display()
        .to_string();
    let (code, _, err) = relance(&["import", "csv", &bad, "--data", &data_s, "--map", &map]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(
            "factures-invalides.csv:2 (invoice FA-004): column \"Montant TTC\": invalid amount \
             \"12x,00\""
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "factures-invalides.csv:3 (invoice FA-005): column \"Date facture\": invalid date \
             \"2026-13-01\""
        ),
        "{err}"
    );
    assert!(
        err.contains("factures-invalides.csv:4: column \"Numéro\": missing value (required)"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(data.join("invoices.csv")).expect("invoices"),
        before
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_references_and_usage_errors() {
    let dir = temp("csv-refs");
    let data_s = dir.join("data").display().to_string();
    let invoices = dir.join("invoices.csv");
    std::fs::write(
        &invoices,
        "id,customer,amount,issued\nF-1,NOBODY,10,2026-01-01\n",
    )
    .expect("write");
    let inv = invoices.display().to_string();
    let (code, _, err) = relance(&["import", "csv", &inv, "--data", &data_s]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("unknown customer \"NOBODY\""), "{err}");
    assert!(!dir.join("data").exists());
    let (code, _, err) = relance(&["import", "csv", &inv, "--data", &data_s, "--map", "numero"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = relance(&["import", "csv", "/no/such/file.csv", "--data", &data_s]);
    assert_eq!(code, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn documented_examples_import_as_they_are() {
    let dir = temp("csv-examples");
    let data_s = dir.join("data").display().to_string();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples");
    let files: Vec<String> = [
        "payments.csv",
        "invoices.csv",
        "contacts.csv",
        "customers.csv",
    ]
    .iter()
    .map(|f| examples.join(f).display().to_string())
    .collect();
    let mut args: Vec<&str> = vec!["import", "csv"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["--data", &data_s, "--format", "json"]);
    let (code, out, err) = relance(&args);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        json["changes"]["customers"]["new"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(
        json["changes"]["invoices"]["new"].as_array().map(Vec::len),
        Some(4)
    );
    assert_eq!(json["changes"]["new_payments"], 2);
    let p = relance_data::portfolio::load_dir(&dir.join("data")).expect("loads");
    let acme = p.customers.iter().find(|c| c.id == "ACME").expect("ACME");
    assert_eq!(
        acme.contacts.len(),
        3,
        "accounting and sales from customers.csv, legal from contacts.csv"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `relance import events`: the data folder's `events.csv` format merged into a folder; the
/// merged folder reads back with the same events, and the same file again adds nothing.
#[test]
fn an_events_file_merges_into_the_folder_once() {
    let dir = temp("events-file");
    let data = dir.join("data");
    let data_s = data.display().to_string();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let file = |name: &str| examples.join(name).display().to_string();
    let (code, _, err) = relance(&[
        "import",
        "csv",
        &file("customers.csv"),
        &file("invoices.csv"),
        "--data",
        &data_s,
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = relance(&["import", "events", &file("events.csv"), "--data", &data_s]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("imported into"), "{out}");
    let read = relance_data::portfolio::load_dir(&data).expect("merged folder reads");
    let expected = relance_data::portfolio::load_dir(&examples).expect("examples");
    let not_payments = |p: &relance_core::domain::Portfolio| {
        let mut v: Vec<String> = p
            .events
            .iter()
            .filter(|e| !matches!(e.kind, relance_core::domain::EventKind::Payment { .. }))
            .map(|e| format!("{e:?}"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(not_payments(&read), not_payments(&expected));
    let (code, out, err) = relance(&["import", "events", &file("events.csv"), "--data", &data_s]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("nothing to change"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
