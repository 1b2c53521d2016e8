//! The aged balance and the DSO family on a small portfolio whose figures are worked out by
//! hand in the comments (see `docs/REPORTS.md` for the formulas).

use std::path::Path;

use chrono::NaiveDate;
use relance_sim::reports::aged::aged_balance;
use relance_sim::reports::dso::{DsoOptions, dso};
use rust_decimal::Decimal;

fn portfolio() -> relance_core::domain::Portfolio {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/tests-data/import/reports");
    relance_data::portfolio::load_dir(&dir).expect("fixture")
}

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

#[test]
fn aged_balance_by_customer_with_disputes_apart() {
    let r = aged_balance(&portfolio(), d("2026-04-30"));
    assert_eq!(
        r.rows.len(),
        2,
        "B1 paid, B3 written off, B4 paid: B keeps only B2"
    );
    let a = &r.rows[0].buckets;
    // A1: 1000 - 400 paid, 89 days late; A2 not due; A3 30 days late, 100 disputed.
    assert_eq!(
        (
            a.not_due,
            a.days_1_30,
            a.days_31_60,
            a.days_61_90,
            a.over_90,
            a.disputed,
            a.total
        ),
        (
            dec("500"),
            dec("200"),
            dec("0"),
            dec("600"),
            dec("0"),
            dec("100"),
            dec("1400")
        )
    );
    let b = &r.rows[1].buckets;
    assert_eq!((b.days_31_60, b.total), (dec("800"), dec("800")));
    let total = &r.totals["EUR"];
    assert_eq!(total.total, dec("2200"));
    assert_eq!(total.disputed, dec("100"));
    let csv = r.to_csv();
    assert!(
        csv.contains("A,Alpha SA,EUR,3,500.00,200.00,0,600.00,0,100.00,1400.00"),
        "{csv}"
    );
    assert!(csv.contains("TOTAL,,EUR,4,"), "{csv}");
    assert!(r.to_text().contains("A (Alpha SA)"));
    // Before anything was issued, nothing is owed.
    assert!(aged_balance(&portfolio(), d("2025-11-30")).rows.is_empty());
}

#[test]
fn dso_countback_best_possible_add_and_cei() {
    let r = dso(&portfolio(), d("2026-04-30"), &DsoOptions::default());
    // Period 2026-01-31..2026-04-30 (90 days): sales A2 500 + A3 300 + B2 800 + B4 400.
    assert_eq!(r.sales, dec("2000"));
    assert_eq!(r.receivables, dec("2200"));
    assert_eq!(r.current_receivables, dec("500"));
    // At 2026-01-30: A1 1000, B1 2000, B3 100.
    assert_eq!(r.beginning_receivables, dec("3100"));
    assert_eq!(r.simple_dso, Some(dec("99.0")), "2200 / 2000 x 90");
    assert_eq!(r.best_possible_dso, Some(dec("22.5")), "500 / 2000 x 90");
    assert_eq!(r.average_days_delinquent, Some(dec("76.5")));
    // April 500 (30 d) + March 700 (31 d) + February 800 (28 d) + 200/1100 of January (31 d).
    assert_eq!(r.countback_dso, Some(dec("94.6")));
    assert_eq!(r.countback.len(), 4);
    // (3100 + 2000 - 2200) / (3100 + 2000 - 500) = 63.04 %
    assert_eq!(r.cei, Some(dec("63.0")));
    assert!(!r.countback_truncated);
    let empty = dso(
        &relance_core::domain::Portfolio::default(),
        d("2026-04-30"),
        &DsoOptions::default(),
    );
    assert_eq!(
        (empty.simple_dso, empty.countback_dso, empty.cei),
        (None, None, None)
    );
}
