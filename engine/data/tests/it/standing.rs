//! Invoices that start mid-way (`dunning_step`, `dunning_date`, `dunning_attempts`) and carry
//! their own catch-up (`catch_up`): read from a CSV folder and a case JSON, refused with the
//! record and field named when incomplete or malformed, and written back by the importer.

use std::path::{Path, PathBuf};

use relance_core::domain::Standing;
use relance_data::portfolio::{from_json, load_dir};

fn folder(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests-data/portfolio")
        .join(name)
}

/// The catch-up as its text (`latest`, `gradual 7 days`).
fn catch_up(s: &Standing) -> Option<String> {
    s.catch_up.map(|c| c.to_string())
}

#[test]
fn the_csv_columns_say_where_each_invoice_stands() {
    let p = load_dir(&folder("mid-way")).expect("a valid folder");
    let standing: Vec<&Standing> = p.invoices.iter().map(|i| &i.dunning).collect();
    assert_eq!(standing[0].step.as_deref(), Some("reminder-2"));
    assert_eq!(standing[0].date, Some("2026-02-20".parse().unwrap()));
    assert_eq!(standing[0].attempts, Some(3));
    assert_eq!(catch_up(standing[0]).as_deref(), Some("gradual 7 days"));
    assert_eq!(catch_up(standing[1]).as_deref(), Some("latest"));
    assert_eq!(
        catch_up(standing[2]).as_deref(),
        Some("gradual 14 days"),
        "the short form gradual:2w"
    );
    assert!(standing[3].is_empty(), "empty cells: from the beginning");
}

#[test]
fn an_incomplete_standing_names_the_record_and_the_field() {
    let err = load_dir(&folder("mid-way-incomplete"))
        .expect_err("refused")
        .to_string();
    for want in [
        "invoices.csv:3 (F-2): column \"dunning_date\": missing: the day step \"reminder-2\" \
         was sent goes with dunning_step",
        "invoices.csv:4 (F-3): column \"dunning_step\": missing: dunning_attempts counts the \
         sends of a step",
        "invoices.csv:5 (F-4): column \"dunning_date\": 2025-12-01 is before the issue date \
         2026-01-01",
    ] {
        assert!(err.contains(want), "{want:?} not in:\n{err}");
    }
    assert!(!err.contains("(F-1)"), "F-1 is complete:\n{err}");
}

#[test]
fn a_catch_up_that_is_not_one_is_refused() {
    let err = load_dir(&folder("mid-way-bad-catch-up"))
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("catch_up") && err.contains("`gradually` is not a catch-up"),
        "{err}"
    );
}

#[test]
fn the_case_json_has_the_same_fields() {
    let p = from_json(
        r#"{"customers": [{"id": "ACME"}],
            "invoices": [{"id": "F-1", "customer": "ACME", "amount": "100",
                          "issued": "2026-01-01", "due": "2026-01-31",
                          "dunning_step": "attempt", "dunning_date": "2026-02-10",
                          "dunning_attempts": 5, "catch_up": "gradual 3 business days"}]}"#,
    )
    .expect("valid");
    let s = &p.invoices[0].dunning;
    assert_eq!(s.step.as_deref(), Some("attempt"));
    assert_eq!(s.attempts, Some(5));
    assert_eq!(catch_up(s).as_deref(), Some("gradual 3 business days"));
    let err = from_json(
        r#"{"customers": [{"id": "ACME"}],
            "invoices": [{"id": "F-1", "customer": "ACME", "amount": "100",
                          "issued": "2026-01-01", "due": "2026-01-31",
                          "dunning_date": "2026-02-10"}]}"#,
    )
    .expect_err("a date without its step")
    .to_string();
    assert!(
        err.contains("invoices[0] (F-1)") && err.contains("dunning_step"),
        "{err}"
    );
}

#[test]
fn the_importer_writes_the_columns_back() {
    let p = load_dir(&folder("mid-way")).expect("a valid folder");
    let dir = std::env::temp_dir().join(format!("relance-standing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    relance_data::import::write::write_files(&dir, &p).expect("written");
    let again = load_dir(&dir).expect("read back");
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(again.invoices, p.invoices);
}
