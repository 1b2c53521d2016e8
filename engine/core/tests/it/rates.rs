//! The built-in rate table since 2012: late interest across half-years, the legal rate and the
//! L441-10 floor, hand-computed.
//!
//! Sources: Code de commerce L441-10 II (default rate: the ECB main refinancing rate in force on
//! 1 January / 1 July plus 10 points; a contractual rate may not be below three times the taux
//! de l'intérêt légal); ECB key interest rates (MRO 1.00 % from 14-12-2011, 0.75 % from
//! 11-07-2012, 0.05 % from 10-09-2014, 0.00 % from 16-03-2016); arrêtés fixing the legal rate
//! for "tous les autres cas" (5.07 % for 2024-H1, arrêté of 21-12-2023; 4.92 % for 2024-H2,
//! arrêté of 26-06-2024, whose triple 14.76 % the published notes give as the floor from
//! 1 July 2024; 3.71 % for 2025-H1, arrêté of 17-12-2024).

use chrono::NaiveDate;
use relance_core::interest::{FloorWarning, RateTable, RateTableError, late_interest};
use rust_decimal::Decimal;

fn d(text: &str) -> NaiveDate {
    text.parse().expect("a test date")
}

fn dec(text: &str) -> Decimal {
    text.parse().expect("a test decimal")
}

#[test]
fn interest_before_2022_is_computed() {
    let table = RateTable::builtin();
    // (outstanding, due, charged on, interest)
    let cases = [
        // 2012-H2: 1 Jul..31 Dec = 184 days at 1.00 + 10 = 11 %:
        // 10000 × 11 × 184 / 36500 = 20240000 / 36500 = 554.5205… → 554.52.
        ("10000", "2012-06-30", "2012-12-31", "554.52"),
        // Across 1 July 2016: 21..30 Jun = 10 days at 10.05 % (ECB 0.05 on 1 Jan 2016):
        // 36500 × 10.05 × 10 / 36500 = 100.50; 1..10 Jul = 10 days at 10.00 % (ECB 0.00 on
        // 1 Jul 2016) = 100.00; 200.50.
        ("36500", "2016-06-20", "2016-07-10", "200.50"),
        // Across 1 January 2014: 22..31 Dec 2013 = 10 days at 10.50 % (ECB 0.50 on 1 Jul 2013)
        // = 105.00; 1..10 Jan 2014 = 10 days at 10.25 % (ECB 0.25 on 1 Jan 2014) = 102.50.
        ("36500", "2013-12-21", "2014-01-10", "207.50"),
    ];
    for (outstanding, due, on, expected) in cases {
        assert_eq!(
            late_interest(dec(outstanding), d(due), d(on), table),
            Ok(dec(expected)),
            "{outstanding} due {due} charged {on}"
        );
    }
}

#[test]
fn legal_rates_and_floors() {
    let table = RateTable::builtin();
    assert_eq!(table.legal_rate_on(d("2024-08-01")), Some(dec("4.92")));
    assert_eq!(table.floor_on(d("2024-08-01")), Some(dec("14.76")));
    assert_eq!(table.legal_rate_on(d("2025-03-01")), Some(dec("3.71")));
    assert_eq!(table.legal_rate_on(d("2013-05-01")), Some(dec("0.04")));
    assert_eq!(table.legal_rate_on(d("2011-12-31")), None);
    // A contractual 12 % in 2025-H1 is above 3 × 3.71 = 11.13; 11 % is below.
    assert_eq!(table.check_rate(dec("12"), d("2025-03-01")), None);
    assert_eq!(
        table.check_rate(dec("11"), d("2025-03-01")),
        Some(FloorWarning {
            half_year: d("2025-01-01"),
            rate: dec("11"),
            floor: dec("11.13"),
        })
    );
}

#[test]
fn the_default_rate_fell_below_the_floor_in_2024() {
    // 2024-H1: 4.50 + 10 = 14.50 < 3 × 5.07 = 15.21; 2024-H2: 4.25 + 10 = 14.25 < 3 × 4.92 =
    // 14.76. 2023-H2: 14.00 > 3 × 4.22 = 12.66; 2025-H1: 13.15 > 11.13.
    let warnings = RateTable::builtin().floor_warnings();
    assert_eq!(
        warnings,
        [
            FloorWarning {
                half_year: d("2024-01-01"),
                rate: dec("14.50"),
                floor: dec("15.21"),
            },
            FloorWarning {
                half_year: d("2024-07-01"),
                rate: dec("14.25"),
                floor: dec("14.76"),
            },
        ]
    );
    assert_eq!(
        warnings[1].to_string(),
        "2024-H2: the rate 14.25 % is below three times the legal rate, 14.76 % (L441-10 II)"
    );
}

#[test]
fn a_table_with_legal_rates_parses_and_its_errors_name_the_line() {
    let table = RateTable::parse(
        "# override\nhalf_year,ecb_rate,legal_rate_professionals\n2030-h1,1.5,2\n2030-H2,1.25,\n",
    )
    .expect("valid");
    assert_eq!(table.first_half_year(), d("2030-01-01"));
    assert_eq!(table.rate_on(d("2030-08-01")), Some(dec("11.25")));
    assert_eq!(table.legal_rate_on(d("2030-02-01")), Some(dec("2")));
    assert_eq!(table.legal_rate_on(d("2030-08-01")), None);
    let rows = table.table();
    assert_eq!(rows[0].floor, Some(dec("6")));
    assert_eq!(rows[0].default_rate, dec("11.5"));
    let head = "half_year,ecb_rate,legal_rate_professionals\n";
    let cases = [
        (
            format!("{head}2030-H3,1,1\n"),
            "line 2: invalid half-year `2030-H3`",
        ),
        (
            format!("{head}2030-H1,1\n"),
            "line 2: expected 3 fields, found 2",
        ),
        (format!("{head}2030-H1,1,x\n"), "line 2: invalid rate `x`"),
        (
            format!("{head}2030-H1,1,1\n2031-H1,1,1\n"),
            "line 3: half-year 2031-01-01 follows 2030-01-01",
        ),
    ];
    for (text, expected) in cases {
        let message = RateTable::parse(&text).expect_err(&text).to_string();
        assert!(message.starts_with(expected), "{message:?} for {text:?}");
    }
    assert!(matches!(
        RateTable::parse("half_year,ecb\n"),
        Err(RateTableError::Header { line: 1, .. })
    ));
}
