//! Payment terms in the data: due dates computed from terms when the file gives none, the
//! invoice's terms overriding the customer's, and L441-10 caps reported (never applied).
//!
//! Expected dates are hand-computed; the caps are those of Code de commerce L441-10 I (60 days
//! from the invoice date; 45 days end of month; 45 days for a periodic invoice).

use std::path::PathBuf;

use relance_core::domain::Portfolio;
use relance_data::import::Merge;
use relance_data::import::csv_mapped::{CsvOptions, import};
use relance_data::portfolio::load_dir;

/// A fresh folder under the target dir holding `files`.
fn folder(test: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("relance-terms-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write");
    }
    dir
}

const CUSTOMERS: &str = "id,payment_terms_days,payment_terms\n\
                         ACME,,end of month + 45 days\n\
                         BETA,30,\n\
                         GAMMA,,\n";

#[test]
fn the_data_folder_computes_missing_due_dates_from_terms() {
    let dir = folder(
        "folder",
        &[
            ("customers.csv", CUSTOMERS),
            (
                "invoices.csv",
                "id,customer,amount,issued,due,payment_terms,delivered_on\n\
                 F-1,ACME,100,2025-01-15,,,\n\
                 F-2,ACME,100,2025-01-15,,net 10,\n\
                 F-3,BETA,100,2025-01-31,,,\n\
                 F-4,GAMMA,100,2025-03-10,,net 60 from delivery,2025-03-01\n\
                 F-5,ACME,100,2025-01-15,2025-02-01,,\n",
            ),
        ],
    );
    let p = load_dir(&dir).expect("valid");
    let due: Vec<String> = p.invoices.iter().map(|i| i.due.to_string()).collect();
    assert_eq!(
        due,
        [
            // ACME's end of month + 45 days: 31 Jan + 45 = 17 Mar.
            "2025-03-17",
            // The invoice's own net 10 overrides: 15 Jan + 10.
            "2025-01-25",
            // BETA's legacy payment_terms_days 30 = net 30: 31 Jan + 30 = 2 Mar.
            "2025-03-02",
            // From delivery: 1 Mar + 60 = 30 Apr.
            "2025-04-30",
            // The file's own due date is kept.
            "2025-02-01",
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_data_folder_still_needs_a_due_date_or_terms() {
    let dir = folder(
        "missing",
        &[
            ("customers.csv", CUSTOMERS),
            (
                "invoices.csv",
                "id,customer,amount,issued,due\nF-1,GAMMA,100,2025-01-15,\n",
            ),
        ],
    );
    let message = load_dir(&dir).expect_err("no due date").to_string();
    assert!(message.contains("invoices.csv:2"), "{message}");
    assert!(
        message.contains("column \"due\": missing value"),
        "{message}"
    );
    let dir2 = folder(
        "ambiguous",
        &[
            (
                "customers.csv",
                "id,payment_terms\nACME,45 jours fin de mois\n",
            ),
            ("invoices.csv", "id,customer,amount,issued,due\n"),
        ],
    );
    let message = load_dir(&dir2).expect_err("ambiguous").to_string();
    assert!(message.contains("customers.csv:2"), "{message}");
    assert!(message.contains("column \"payment_terms\""), "{message}");
    assert!(message.contains("`end of month + 45 days`"), "{message}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

#[test]
fn the_import_computes_due_dates_and_flags_caps_without_changing_them() {
    let dir = folder(
        "import",
        &[
            ("customers.csv", CUSTOMERS),
            (
                "invoices.csv",
                "id,customer,amount,issued,due,payment_terms\n\
                 F-1,ACME,100,2025-01-15,,\n\
                 F-2,BETA,100,2025-01-01,,net 75\n\
                 F-3,BETA,100,2025-01-01,2025-03-10,\n\
                 F-4,BETA,100,2025-01-01,2025-03-02,\n",
            ),
        ],
    );
    let mut merge = Merge::new(Portfolio::default());
    let options = CsvOptions {
        default_terms: 30,
        ..CsvOptions::default()
    };
    for name in ["customers.csv", "invoices.csv"] {
        import(&dir.join(name), &options, &mut merge, &mut |_, _| {}).expect(name);
    }
    let (p, changes) = merge.finish();
    let due: Vec<String> = p.invoices.iter().map(|i| i.due.to_string()).collect();
    // F-1: 31 Jan + 45 = 17 Mar. F-2: 1 Jan + 75 = 17 Mar (past the cap, kept). F-3 and F-4:
    // the file's dates, kept.
    assert_eq!(
        due,
        ["2025-03-17", "2025-03-17", "2025-03-10", "2025-03-02"]
    );
    let notes: Vec<String> = changes
        .notes
        .iter()
        .map(|n| n.replace(&format!("{}/", dir.display()), ""))
        .collect();
    // F-2: net terms, cap 1 Jan + 60 = 2 Mar. F-3: BETA's net 30 terms, cap 2 Mar too; F-4 is
    // on the cap, lawful.
    assert_eq!(
        notes,
        [
            "invoices.csv:3 (invoice F-2): column \"payment_terms\": warning: terms `net 75` \
             give 2025-03-17: the latest lawful due date is 2025-03-02 (60 days from the invoice \
             date, Code de commerce L441-10 I)",
            "invoices.csv:4 (invoice F-3): column \"due\": warning: due date 2025-03-10: the \
             latest lawful due date is 2025-03-02 (60 days from the invoice date, Code de \
             commerce L441-10 I)",
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn terms_check_lists_customers_and_invoices_past_the_caps() {
    use relance_data::terms_check::{Finding, check};
    let dir = folder(
        "check",
        &[
            (
                "customers.csv",
                "id,payment_terms_days,payment_terms\n\
                 ACME,,end of month + 45 days\n\
                 BETA,90,\n\
                 GAMMA,,50 days end of month\n",
            ),
            (
                "invoices.csv",
                "id,customer,amount,issued,due,payment_terms,delivered_on\n\
                 F-1,ACME,100,2025-01-15,,,\n\
                 F-2,ACME,100,2025-01-15,2025-03-18,,\n\
                 F-3,BETA,100,2025-01-01,2025-02-01,,\n\
                 F-4,ACME,100,2025-03-01,,net 60 from delivery,2025-03-20\n",
            ),
        ],
    );
    let p = load_dir(&dir).expect("valid");
    let findings = check(&p);
    let d = |t: &str| t.parse().expect("date");
    assert_eq!(
        findings,
        [
            // Legacy 90 days = net 90 > 60.
            Finding::Customer {
                id: "BETA".into(),
                terms: "net 90".into(),
                max_days: 60
            },
            Finding::Customer {
                id: "GAMMA".into(),
                terms: "50 days end of month".into(),
                max_days: 45
            },
            // End of month + 45 days from 15 Jan: 31 Jan + 45 = 17 Mar; the file says 18 Mar.
            Finding::Invoice {
                id: "F-2".into(),
                customer: "ACME".into(),
                terms: Some("end of month + 45 days".into()),
                issued: d("2025-01-15"),
                due: d("2025-03-18"),
                latest_lawful_due: d("2025-03-17"),
                rule: "60 days, or 45 days end of month, from the invoice date, Code de commerce \
                       L441-10 I",
            },
            // From delivery 20 Mar + 60 = 19 May; the cap runs from the invoice: 1 Mar + 60 =
            // 30 Apr.
            Finding::Invoice {
                id: "F-4".into(),
                customer: "ACME".into(),
                terms: Some("net 60 from delivery".into()),
                issued: d("2025-03-01"),
                due: d("2025-05-19"),
                latest_lawful_due: d("2025-04-30"),
                rule: "60 days from the invoice date, Code de commerce L441-10 I",
            },
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_data_folder_rates_csv_lies_on_top_of_the_built_in_table() {
    use relance_data::rates::load;
    let builtin = load(None).expect("built-in");
    assert_eq!(builtin.file, None);
    assert_eq!(
        builtin.table.first_half_year(),
        "2012-01-01".parse().expect("date")
    );
    let dir = folder(
        "rates",
        &[(
            "rates.csv",
            "half_year,ecb_rate,legal_rate_professionals\n2027-H1,1.5,2\n",
        )],
    );
    let own = load(Some(&dir)).expect("valid rates.csv");
    assert_eq!(own.file, Some(dir.join("rates.csv")));
    assert_eq!(
        own.table.rate_on("2027-03-01".parse().expect("date")),
        Some("11.5".parse().expect("decimal"))
    );
    // The built-in rows stay under the file's.
    assert_eq!(
        own.table.first_half_year(),
        "2012-01-01".parse().expect("date")
    );
    assert_eq!(
        own.table.legal_rate_on("2026-03-01".parse().expect("date")),
        Some("2.62".parse().expect("decimal"))
    );
    // A file that leaves a half-year out after the built-in ones is refused, naming it.
    std::fs::write(
        dir.join("rates.csv"),
        "half_year,ecb_rate,legal_rate_professionals\n2030-H1,1.5,2\n",
    )
    .expect("write");
    let gap = load(Some(&dir)).expect_err("a gap").to_string();
    assert!(gap.contains("2027-H1 missing"), "{gap}");
    // No rates.csv: the built-in table.
    let empty = folder("no-rates", &[]);
    assert_eq!(load(Some(&empty)).expect("built-in").file, None);
    // An invalid file is an error naming it and its line, never a silent fallback.
    std::fs::write(
        dir.join("rates.csv"),
        "half_year,ecb_rate,legal_rate_professionals\n2030-H1,x,\n",
    )
    .expect("write");
    let message = load(Some(&dir)).expect_err("invalid").to_string();
    assert!(
        message.ends_with(
            "rates.csv: line 2: invalid rate `x` (expected a percentage from -100 to 100 \
                 such as 3.15)"
        ),
        "{message}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&empty);
}
